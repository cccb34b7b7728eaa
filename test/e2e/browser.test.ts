import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import {
  repoRoot,
  startAgentWorker,
  startBridgeProcess,
  stopAllProcesses,
  type BridgeProcess,
} from '../helpers/processes.js';

/**
 * The whole product with nothing faked: the bridge and the example agent as separate
 * processes — the agent with a redis-server of its own, reaching the bridge over HTTP only —
 * and a person in a real Chromium who reads the local thread, follows the link, approves on
 * the sandbox page and pastes the finish code back into the thread.
 */

/** The little of the page's globals the test touches (the project compiles without DOM types). */
interface BrowserGlobals {
  document: { getElementById(id: string): { textContent: string | null } | null };
  MutationObserver: new (callback: () => void) => { observe(target: unknown, options: Record<string, boolean>): void };
  sawCode: boolean;
}

describe('a person approves an agent login in a real browser (real processes)', () => {
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

  it('agent asks in the thread, the human approves in the browser, the agent resumes with a working credential', async () => {
    const launching = launchChromium();
    bridge = await startBridgeProcess('browser');
    agentRedis = await startPrivateRedis();
    browser = await launching;

    const name = `e2e-${randomBytes(4).toString('hex')}`;
    const email = `alice-${randomBytes(3).toString('hex')}@example.com`;
    const agent = startAgentWorker(
      'browser',
      [
        '--service',
        `${bridge.url}/sandbox`,
        '--thread',
        `local:${name}`,
        '--approver',
        'alice',
        '--agent-id',
        'e2e-browser',
      ],
      // The agent's own Redis; the bridge's Redis URL is never given to it. (The operator token
      // stands in for an agent key: the worker then follows --agent-id's feed.)
      { HANDOFF_URL: bridge.url, HANDOFF_API_TOKEN: bridge.apiToken, REDIS_URL: agentRedis.url },
    );

    const page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    const threadUrl = `${bridge.url}/threads/${name}`;
    await page.goto(threadUrl);

    // The bot's approval request shows up with a clickable link.
    const link = page.locator('[data-testid="message"].bot [data-testid="link"]').first();
    await Promise.race([
      link.waitFor(),
      agent.exited.then(() => {
        throw new Error(`the agent exited before it asked for a login:\n${agent.describe()}`);
      }),
    ]);
    expect(await link.getAttribute('href')).toMatch(new RegExp(`^${bridge.url}/sandbox/authorize/ar_[0-9a-f]+$`));
    expect(await page.getByTestId('messages').innerText()).toContain('Only alice may answer.');

    // Follow it to the sandbox, sign in and approve.
    await Promise.all([page.waitForURL(/\/sandbox\/authorize\//), link.click()]);
    await page.getByTestId('email').fill(email);
    await page.getByTestId('approve').click();
    const code = (await page.getByTestId('finish-code').innerText()).trim();
    expect(code).toMatch(/^aae_[0-9a-f]{48}$/);

    // Back in the thread, answer as alice with the code.
    await page.goto(threadUrl);
    await page.locator('[data-testid="message"].bot [data-testid="link"]').first().waitFor();
    // From here on, note if the code ever appears among the thread's messages.
    await page.evaluate((secret) => {
      const g = globalThis as unknown as BrowserGlobals;
      const messages = g.document.getElementById('messages')!;
      g.sawCode = (messages.textContent ?? '').includes(secret);
      new g.MutationObserver(() => {
        if ((messages.textContent ?? '').includes(secret)) g.sawCode = true;
      }).observe(messages, { subtree: true, childList: true, characterData: true });
    }, code);
    await page.getByTestId('author').fill('alice');
    await page.getByTestId('reply-text').fill(code);
    await page.getByTestId('send').click();
    await expect.poll(() => page.getByTestId('reply-text').inputValue(), { timeout: 10_000 }).toBe('');

    // The thread says it worked.
    const success = page.locator('[data-testid="message"].bot', { hasText: '✅ Logged in' });
    await success.waitFor();
    expect(await success.innerText()).toMatch(/✅ Logged in to .* for agent e2e-browser\./);
    const alicesMessage = page.locator('[data-testid="message"].human', { hasText: 'alice' }).first();
    await alicesMessage.waitFor();

    // The agent process resumed, called the service with the credential and exited 0.
    const { code: exitCode } = await agent.waitForExit(30_000);
    expect(exitCode, agent.describe()).toBe(0);
    const lines = agent.stdout().trim().split('\n');
    expect(lines, agent.describe()).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as {
      resumed: boolean;
      status: number;
      me: { account: { email: string }; agent_id: string };
      handoffId: string;
    };
    expect(result).toMatchObject({ resumed: true, status: 200, me: { account: { email }, agent_id: 'e2e-browser' } });
    expect(result.handoffId).toMatch(/^hf_/);
    // Its queue and its resumer's cursor lived on its own Redis; nothing of the bridge's is there.
    const agentKeys = await agentRedis.connect().keys('*');
    expect(agentKeys.some((k) => k.startsWith('agent:agent-tasks:'))).toBe(true);
    expect(agentKeys).toContain('agent:resumer:e2e-browser:cursor');
    expect(agentKeys.filter((k) => k.startsWith(bridge!.prefix))).toEqual([]);

    // The code never showed in the thread: not when sent, not after (one more refresh cycle to be sure).
    await page.waitForTimeout(800);
    const messagesText = await page.getByTestId('messages').innerText();
    expect(messagesText).not.toContain(code);
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).sawCode)).toBe(false);
    expect(agent.stdout() + agent.stderr()).not.toContain(code);

    mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-results', 'e2e-thread.png'), fullPage: true });
  });
});
