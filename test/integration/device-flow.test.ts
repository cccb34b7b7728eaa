import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botTexts, requestIn, startTestAgent } from '../helpers/agent.js';
import { decideDevice } from '../helpers/sandbox-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The RFC 8628 device flow end to end: the verification link goes into the thread, the
 * approver approves on the service's page, and the bridge learns it by polling the token
 * endpoint as delayed jobs — at the server's interval, 5 s slower after a `slow_down`, at once
 * after a "done" in the thread — and stops on denial or an expired code.
 */
describe('device logins through the thread (real Redis, real BullMQ, sandbox over HTTP)', () => {
  let bridge: TestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;
  const quick = () => `${bridge.url}/sandbox/device`;
  const slow = () => `${bridge.url}/sandbox/slowdevice`;

  beforeAll(async () => {
    bridge = await startTestBridge('device', {
      sandbox: { deviceIntervalSeconds: 1 },
      extraSandboxes: [
        {
          base: '/sandbox/slowdevice',
          options: { serviceName: 'Sandbox Slow Files', protocols: ['device'], deviceIntervalSeconds: 3 },
        },
      ],
    });
    agent = await startTestAgent(bridge);
  });
  afterAll(async () => {
    await agent.close();
    await bridge.close();
  });

  const device = (base: string) => bridge.sandboxes.get(base)!.device;
  const authorizationOf = (base: string, url: string) =>
    device(base).byUserCode(new URL(url).searchParams.get('user_code')!)!;

  it('posts the verification link with the code and its lifetime, and finishes by polling alone', async () => {
    const thread = freshThread('dev');
    // The service names the approving account (userinfo), and it is alice's: the poll may finish it.
    const job = await agent.run(thread, ['alice'], 'agent-dev', quick(), { approverEmail: 'alice@example.com' });
    const request = await requestIn(bridge, thread);
    expect(request.text).toMatch(/log in to 127\.0\.0\.1:\d+ \(calls itself “Sandbox Files”\)/);
    expect(request.url).toMatch(/\/sandbox\/device\/activate\?user_code=[B-Z]{4}-[B-Z]{4}$/);
    expect(request.text).toMatch(/The page should show the code [B-Z]{4}-[B-Z]{4}\. The code works for 15 min/);
    expect(request.text).toContain('then reply "done" here');

    await decideDevice(request.url, 'approve', undefined, 'alice@example.com');
    // Nobody answers in the thread: the background poll finishes it.
    const result = await job.waitUntilFinished(agent.events, 20_000);
    expect(result).toMatchObject({
      status: 200,
      me: { account: { email: 'alice@example.com' }, agent_id: 'agent-dev' },
    });
    expect(await bridge.api.getHandoff(request.handoffId)).toMatchObject({
      status: 'completed',
      protocol: 'device',
      serviceName: 'Sandbox Files',
      answer: 'done',
    });
    expect(authorizationOf('/sandbox/device', request.url).slowDowns).toBe(0);
  });

  it('a "done" in the thread polls at once instead of waiting for the next interval', async () => {
    const thread = freshThread('done');
    const job = await agent.run(thread, ['bob'], 'agent-done', slow(), { expiresInMs: 120_000 });
    const request = await requestIn(bridge, thread);
    const auth = authorizationOf('/sandbox/slowdevice', request.url);
    // Push the scheduled poll far out, so only the reply can explain a poll soon.
    await bridge.bridge.engine.store.transition(request.handoffId, {
      from: ['awaiting_human'],
      set: { nextPollAt: Date.now() + 60_000 },
    });
    await decideDevice(request.url, 'approve');
    const pollsBefore = auth.polls;
    await bridge.reply(thread, 'bob', 'done ✅');
    const result = await job.waitUntilFinished(agent.events, 15_000);
    expect(result.status).toBe(200);
    expect(auth.polls).toBe(pollsBefore + 1);
    const audit = await bridge.bridge.engine.audit.recent(50, request.handoffId);
    expect(audit.map((e) => e.event)).toContain('reply.poll_requested');
  });

  it('adds 5 s to the interval after slow_down, and keeps to it', async () => {
    const thread = freshThread('slow');
    const job = await agent.run(thread, ['cat'], 'agent-slow', slow(), {
      expiresInMs: 120_000,
      approverEmail: 'cat@example.com',
    });
    const request = await requestIn(bridge, thread);
    const auth = authorizationOf('/sandbox/slowdevice', request.url);
    // Two "done"s in quick succession: the second poll comes within the 3 s interval.
    await bridge.reply(thread, 'cat', 'done');
    await waitFor('the first poll', () => auth.polls >= 1);
    await bridge.reply(thread, 'cat', 'done!');
    await waitFor('slow_down', () => auth.slowDowns >= 1);
    expect(auth.interval).toBe(8);
    const view = await waitFor('the longer interval on record', async () => {
      const r = await bridge.bridge.engine.store.get(request.handoffId);
      return r?.nextPollAt !== undefined && r.nextPollAt - r.updatedAt >= 7_900 ? r : undefined;
    });
    expect(view.status).toBe('awaiting_human');

    await decideDevice(request.url, 'approve', undefined, 'cat@example.com');
    expect((await job.waitUntilFinished(agent.events, 30_000)).status).toBe(200);
    expect(auth.slowDowns).toBe(1); // the scheduled polls kept the new interval
  });

  it('stops on access_denied: failed with login_denied, and the thread is told', async () => {
    const thread = freshThread('deny');
    const job = await agent.run(thread, ['dan'], 'agent-deny', quick());
    const request = await requestIn(bridge, thread);
    await decideDevice(request.url, 'deny');
    await expect(job.waitUntilFinished(agent.events, 20_000)).rejects.toThrow(/login_denied/);
    expect(await bridge.api.getHandoff(request.handoffId)).toMatchObject({
      status: 'failed',
      error: { code: 'login_denied' },
    });
    await waitFor('the denial notice', async () =>
      (await botTexts(bridge, thread)).some((t) =>
        /^❌ The login to \S+ \(calls itself “Sandbox Files”\) failed: The approver denied/.test(t),
      ),
    );
  });

  it('stops on expired_token when the service gives up on the code early', async () => {
    const thread = freshThread('exp');
    const job = await agent.run(thread, ['eli'], 'agent-exp', quick());
    const request = await requestIn(bridge, thread);
    (authorizationOf('/sandbox/device', request.url) as { expiresAt: number }).expiresAt = Date.now() - 1;
    await expect(job.waitUntilFinished(agent.events, 20_000)).rejects.toThrow(/login_expired/);
    expect((await bridge.api.getHandoff(request.handoffId)).error?.code).toBe('login_expired');
  });
});
