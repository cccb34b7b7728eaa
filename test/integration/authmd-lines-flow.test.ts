import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botTexts, requestIn, startTestAgent } from '../helpers/agent.js';
import { confirmOnLinePage } from '../helpers/sandbox-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * auth.md's later shapes end to end (protocol "auto"; real Redis, BullMQ and the sandbox over
 * HTTP): the polling line posts the link and the code and finishes on a "done" (or by itself),
 * the read-back line posts the link only and finishes with the code the page shows; the
 * handoff view names the shape the service turned out to speak.
 */
describe('auth.md polling and read-back lines through the thread', () => {
  let bridge: TestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;
  const email = (label: string) => `${label}-${Math.random().toString(16).slice(2, 8)}@example.com`;

  beforeAll(async () => {
    bridge = await startTestBridge('authmd-lines', {
      sandbox: { deviceIntervalSeconds: 30 },
      extraSandboxes: [
        {
          // Codes that expire the moment they are minted, polled every 2 s: every poll says expired_token.
          base: '/sandbox/expiring',
          options: {
            serviceName: 'Sandbox Expiring',
            protocols: ['authmd'],
            variant: '0.6',
            otpTtlMs: 0,
            deviceIntervalSeconds: 2,
          },
        },
      ],
    });
    agent = await startTestAgent(bridge);
  });
  afterAll(async () => {
    await agent.close();
    await bridge.close();
  });

  it('polling (v0.6): link and code in the thread, "done" polls at once, the agent gets a working token', async () => {
    const thread = freshThread('poll');
    const to = email('ann');
    const job = await agent.run(thread, ['ann'], 'agent-poll', `${bridge.url}/sandbox/authmd-polling`, {
      approverEmail: to,
    });
    const request = await requestIn(bridge, thread);
    const code = /enter the code (\d{6})/.exec(request.text)?.[1];
    expect(code).toMatch(/^\d{6}$/);
    expect(request.text).toContain('a***@example.com');
    expect(request.text).not.toContain(to);
    expect(request.url).toContain('/sandbox/authmd-polling/claim/verify/cvt_');

    await confirmOnLinePage(request.url, to, code);
    // The interval is 30 s: only the "done" makes the bridge ask the service now.
    await bridge.reply(thread, 'ann', 'done');
    const result = await job.waitUntilFinished(agent.events, 20_000);
    expect(result).toMatchObject({
      status: 200,
      me: { account: { email: to }, scopes: ['notes:read', 'notes:write'] },
    });
    expect(await bridge.api.getHandoff(request.handoffId)).toMatchObject({
      status: 'completed',
      protocol: 'authmd',
      protocolVersion: '0.6',
      answer: 'done',
    });
  });

  it('read-back (v0.7): link only, a code before Authorize is a hint (no attempt), the page code finishes it', async () => {
    const thread = freshThread('readback');
    const to = email('bo');
    const job = await agent.run(thread, ['bo'], 'agent-read', `${bridge.url}/sandbox/authmd-readback`, {
      approverEmail: to,
    });
    const request = await requestIn(bridge, thread);
    expect(request.text).toContain('press Authorize');
    expect(request.text).not.toMatch(/enter the code/);

    await bridge.reply(thread, 'bo', '123 456');
    const hint = await waitFor('not-yet hint', async () =>
      (await botTexts(bridge, thread)).find((t) => t.startsWith('Not yet')),
    );
    expect(hint).toContain('press Authorize first');
    expect((await bridge.api.getHandoff(request.handoffId)).attempts).toBe(0);

    const code = await confirmOnLinePage(request.url, to);
    await bridge.reply(thread, 'bo', `the page says ${code.slice(0, 3)}-${code.slice(3)}`);
    const result = await job.waitUntilFinished(agent.events, 20_000);
    expect(result).toMatchObject({ status: 200, me: { account: { email: to } } });
    expect(await bridge.api.getHandoff(request.handoffId)).toMatchObject({
      status: 'completed',
      protocolVersion: '0.7',
      answer: 'page_code',
      attempts: 0,
    });
  });

  it('polling: an expired code is re-minted with a fresh message at most 3 times, then the login fails', async () => {
    const thread = freshThread('expiring');
    const to = email('cy');
    const job = await agent.run(thread, ['cy'], 'agent-expiring', `${bridge.url}/sandbox/expiring`, {
      approverEmail: to,
    });
    const first = await requestIn(bridge, thread);
    const requests = await waitFor(
      'four approval requests',
      async () => {
        const texts = (await botTexts(bridge, thread)).filter((t) => /enter the code \d{6}/.test(t));
        return texts.length >= 4 ? texts : undefined;
      },
      30_000,
    );
    expect(requests[1]).toContain('The code expired before anyone confirmed it');
    expect(new Set(requests.map((t) => /enter the code (\d{6})/.exec(t)![1])).size).toBeGreaterThan(1);
    // The agent's job ends with the failure; the handoff says why.
    await job.waitUntilFinished(agent.events, 30_000).catch(() => undefined);
    expect(await bridge.api.getHandoff(first.handoffId)).toMatchObject({
      status: 'failed',
      error: { code: 'too_many_restarts' },
    });
  });
});
