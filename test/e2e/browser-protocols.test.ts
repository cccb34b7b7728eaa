import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import {
  repoRoot,
  startAgentWorker,
  startBridgeProcess,
  stopAllProcesses,
  type BridgeProcess,
  type LoggedProcess,
} from '../helpers/processes.js';

/**
 * The auth.md browser claim and the device flow with nothing faked: the bridge and the
 * example agent as separate processes, the agent asking with protocol "auto", and a person in
 * a real Chromium who reads the local thread, follows the link to the service, approves
 * there, and answers in the thread.
 */
describe('a person approves auth.md and device logins in a real browser (real processes)', () => {
  let bridge: BridgeProcess | undefined;
  let browser: Browser | undefined;
  let agentRedis: PrivateRedis | undefined;

  afterEach(async () => {
    await browser?.close().catch(() => undefined);
    browser = undefined;
    await stopAllProcesses();
    await bridge?.stop();
    bridge = undefined;
    await agentRedis?.stop();
    agentRedis = undefined;
  });
  afterAll(async () => {
    await stopAllProcesses();
  });

  /** Starts the bridge, the browser and an agent that logs in to `servicePath`; opens the thread. */
  async function setUp(
    label: string,
    servicePath: string,
  ): Promise<{ page: Page; agent: LoggedProcess; threadUrl: string }> {
    const launching = launchChromium();
    bridge = await startBridgeProcess(`browser-${label}`);
    agentRedis = await startPrivateRedis(); // the agent's own Redis, not the bridge's
    browser = await launching;
    const name = `e2e-${label}-${randomBytes(4).toString('hex')}`;
    const agent = startAgentWorker(
      `browser-${label}`,
      [
        '--service',
        `${bridge.url}${servicePath}`,
        '--thread',
        `local:${name}`,
        '--approver',
        'alice',
        '--agent-id',
        `e2e-${label}`,
      ],
      { HANDOFF_URL: bridge.url, HANDOFF_API_TOKEN: bridge.apiToken, REDIS_URL: agentRedis.url },
    );
    const page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    const threadUrl = `${bridge.url}/threads/${name}`;
    await page.goto(threadUrl);
    return { page, agent, threadUrl };
  }

  /** Waits for the bot's link in the thread (failing early if the agent dies first). */
  async function linkIn(page: Page, agent: LoggedProcess) {
    const link = page.locator('[data-testid="message"].bot [data-testid="link"]').first();
    await Promise.race([
      link.waitFor(),
      agent.exited.then(() => {
        throw new Error(`the agent exited before it asked for a login:\n${agent.describe()}`);
      }),
    ]);
    return link;
  }

  async function answerInThread(page: Page, threadUrl: string, text: string): Promise<void> {
    await page.goto(threadUrl);
    await page.locator('[data-testid="message"].bot [data-testid="link"]').first().waitFor();
    await page.getByTestId('author').fill('alice');
    await page.getByTestId('reply-text').fill(text);
    await page.getByTestId('send').click();
    await expect.poll(() => page.getByTestId('reply-text').inputValue(), { timeout: 10_000 }).toBe('');
  }

  async function agentResult(agent: LoggedProcess) {
    const { code } = await agent.waitForExit(45_000);
    expect(code, agent.describe()).toBe(0);
    const lines = agent.stdout().trim().split('\n');
    expect(lines, agent.describe()).toHaveLength(1);
    return JSON.parse(lines[0]!) as {
      resumed: boolean;
      status: number;
      me: { account: { email: string }; agent_id: string };
    };
  }

  it('auth.md user_claimed: the claim link, sign in and claim, paste the finish code, the agent resumes', async () => {
    const { page, agent, threadUrl } = await setUp('authmd', '/sandbox/authmd');
    const email = `alice-${randomBytes(3).toString('hex')}@example.com`;
    const link = await linkIn(page, agent);
    expect(await link.getAttribute('href')).toMatch(/\/sandbox\/authmd\/claim\/reg_[0-9a-f]+$/);
    expect(await page.getByTestId('messages').innerText()).toMatch(
      /log in to 127\.0\.0\.1:\d+ \(calls itself “Sandbox Notes”\)/,
    );

    await Promise.all([page.waitForURL(/\/sandbox\/authmd\/claim\//), link.click()]);
    await page.getByTestId('email').fill(email);
    await page.getByTestId('approve').click();
    const code = (await page.getByTestId('finish-code').innerText()).trim();
    expect(code).toMatch(/^acf_[0-9a-f]{32}$/);

    await answerInThread(page, threadUrl, `finish code: ${code}`);
    await page
      .locator('[data-testid="message"].bot', { hasText: /✅ Logged in to \S+ \(calls itself “Sandbox Notes”\)/ })
      .waitFor();
    expect(await agentResult(agent)).toMatchObject({
      resumed: true,
      status: 200,
      me: { account: { email }, agent_id: 'e2e-authmd' },
    });
    expect(await page.getByTestId('messages').innerText()).not.toContain(code);
    mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-results', 'e2e-thread-authmd.png'), fullPage: true });
  });

  it('device: the verification link with the code filled in, allow, reply "done", the agent resumes', async () => {
    const { page, agent, threadUrl } = await setUp('device', '/sandbox/device');
    const email = `alice-${randomBytes(3).toString('hex')}@example.com`;
    const link = await linkIn(page, agent);
    const href = (await link.getAttribute('href'))!;
    expect(href).toMatch(/\/sandbox\/device\/activate\?user_code=[B-Z]{4}-[B-Z]{4}$/);
    const userCode = new URL(href).searchParams.get('user_code')!;
    expect(await page.getByTestId('messages').innerText()).toContain(`The page should show the code ${userCode}`);

    await Promise.all([page.waitForURL(/\/sandbox\/device\/activate/), link.click()]);
    expect(await page.getByTestId('user-code').inputValue()).toBe(userCode);
    await page.getByTestId('email').fill(email);
    await page.getByTestId('approve').click();
    expect(await page.getByTestId('status').innerText()).toContain('the device is connected');

    await answerInThread(page, threadUrl, 'done');
    await page
      .locator('[data-testid="message"].bot', { hasText: /✅ Logged in to \S+ \(calls itself “Sandbox Files”\)/ })
      .waitFor();
    expect(await agentResult(agent)).toMatchObject({
      resumed: true,
      status: 200,
      me: { account: { email }, agent_id: 'e2e-device' },
    });
    mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-results', 'e2e-thread-device.png'), fullPage: true });
  });
});
