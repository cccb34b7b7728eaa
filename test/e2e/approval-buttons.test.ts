import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { createTestAgent, type TestAgent } from '../helpers/agents.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The local thread page's Approve and Deny buttons (issue #13) in a real Chromium: a click
 * posts as the viewer named in "Reply as", and the approval settles with that person's vote;
 * the request is then edited to its outcome and its buttons go. Hostile text stays text.
 */
describe('approval buttons on the local thread page (real browser)', () => {
  let bridge: TestBridge;
  let agent: TestAgent;
  let browser: Browser;
  beforeAll(async () => {
    const launching = launchChromium();
    bridge = await startTestBridge('approval-ui');
    agent = await createTestAgent(bridge, 'ui-agent');
    browser = await launching;
  });
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await bridge?.close();
  });

  const hostile = '<img src=x onerror="window.pwned=1">**bold** @here';
  const ask = async (thread: string) => {
    const res = await agent.call('POST', '/v1/handoffs', {
      kind: 'approval',
      thread,
      action: {
        title: hostile,
        description: '<script>window.pwned=2</script>',
        link: 'https://deploy.example.com/run/7',
      },
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const outcome = (id: string) =>
    waitFor('the decision', async () => {
      const v = (await agent.call('GET', `/v1/handoffs/${id}`)).body;
      return v.decision ?? undefined;
    });

  it('Approve posts as the viewer and approves; Deny sends the reason typed beside it', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    const thread = freshThread('ui');
    const id = await ask(thread);
    await page.goto(`${bridge.url}/threads/${thread.slice(6)}`);
    await page.fill('[data-testid="author"]', 'alice');
    const approve = page.locator('[data-testid="approve"]').first();
    await approve.waitFor();
    // The agent's words are text: no element was made from them, nothing ran.
    const request = page.locator('[data-testid="message"].bot').first();
    expect(await request.textContent()).toContain('<img src=x');
    expect(await page.locator('#messages img, #messages script').count()).toBe(0);
    expect(await request.locator('a[data-testid="link"]').getAttribute('href')).toBe(
      'https://deploy.example.com/run/7',
    );
    await approve.click();
    expect(await outcome(id)).toMatchObject({ outcome: 'approved', by: [{ who: 'alice' }] });
    await page.locator('text=Approved by').first().waitFor();
    // The request itself now shows the outcome, and its buttons are gone (the page follows the edit).
    await request.locator('text=✅ Approved').waitFor();
    await page.locator('[data-testid="approve"]').waitFor({ state: 'detached' });
    expect(await request.locator('a[data-testid="link"]').getAttribute('href')).toBe(
      'https://deploy.example.com/run/7',
    );

    const second = freshThread('ui2');
    const denied = await ask(second);
    await page.goto(`${bridge.url}/threads/${second.slice(6)}`);
    await page.fill('[data-testid="author"]', 'bob');
    await page.locator('[data-testid="deny-reason"]').first().waitFor();
    await page.fill('[data-testid="deny-reason"]', 'not during the freeze');
    // A refresh in between must not wipe what was typed.
    await page.waitForTimeout(900);
    await page.locator('[data-testid="deny"]').first().click();
    expect(await outcome(denied)).toMatchObject({
      outcome: 'denied',
      by: [{ who: 'bob' }],
      reason: 'not during the freeze',
    });
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    await page.close();
  });

  it('opening a login link on the page makes the bridge poll that service sooner (issue #16)', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    const thread = freshThread('opened');
    const res = await agent.call('POST', '/v1/handoffs', { service: `${bridge.url}/sandbox`, thread });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    const store = bridge.bridge.engine.store;
    await waitFor('the link posted', async () => (await store.get(id))?.status === 'awaiting_human');
    // As the driver leaves an old login: its person-active minutes over, next poll an hour away.
    const now = Date.now();
    await store.transition(id, {
      from: ['awaiting_human'],
      set: { activeUntil: now - 1, nextPollAt: now + 3_600_000 },
    });
    await page.goto(`${bridge.url}/threads/${thread.slice(6)}`);
    const link = page.locator('[data-testid="message"].bot [data-testid="link"]').first();
    await Promise.all([page.waitForURL(/\/sandbox\/authorize\//), link.click()]);
    const polled = await waitFor('the report of the opened link', async () => {
      const r = await store.get(id);
      return r && r.nextPollAt! < now + 60_000 ? r : undefined;
    });
    expect(polled.activeUntil).toBeGreaterThan(now);
    await page.close();
  });
});
