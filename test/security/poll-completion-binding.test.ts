import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handoffTag } from '../../src/core/handoff-tag.js';
import { botTexts, requestIn, startTestAgent } from '../helpers/agent.js';
import { approveOnSandbox, decideDevice } from '../helpers/sandbox-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue #11, finding 1: approvers were ["alice"], mallory approved at the service with her own
 * account, and the background poll completed the handoff — the agent then worked inside
 * mallory's account. A poll result now counts only when the service names an approver; one
 * that names someone else is refused, said in the thread and audited; one that names nobody
 * waits for an approver's word in the thread.
 */
describe('a login the service reports approved completes only when an approver approved it', () => {
  let bridge: TestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;
  const sandbox = (base: string) => bridge.sandboxes.get(base)!;
  const service = (base: string) => `${bridge.url}${base}`;
  const requestId = (url: string) => url.split('?')[0]!.split('/').pop()!;

  beforeAll(async () => {
    bridge = await startTestBridge('bind', {
      // The services advertise a 1 s poll interval, so the background poll is quick.
      sandbox: { pollIntervalSeconds: 1, deviceIntervalSeconds: 1 },
      // A service that tells its clients nothing about who approved.
      extraSandboxes: [
        {
          base: '/sandbox/quiet',
          options: { serviceName: 'Quiet Analytics', protocols: ['agent-sessions'], identifiesApprover: false },
        },
      ],
    });
    agent = await startTestAgent(bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await bridge?.close();
  });

  const audit = async (handoffId: string) => bridge.bridge.engine.audit.recent(100, handoffId);
  /** Pushes the scheduled poll far out, so only a reply can explain a poll soon. */
  const parkPoll = (handoffId: string) =>
    bridge.bridge.engine.store.transition(handoffId, {
      from: ['awaiting_human'],
      set: { nextPollAt: Date.now() + 10 * 60_000 },
    });

  it('refuses mallory’s approval at the service (it names her), tells the thread, audits it, and starts over; alice’s "done" then finishes at once', async () => {
    const thread = freshThread('mallory');
    const job = await agent.run(thread, ['alice'], 'agent-bind', service('/sandbox'), {
      approverEmail: 'alice@example.com',
    });
    const first = await requestIn(bridge, thread, 1);
    await approveOnSandbox(first.url, 'mallory@evil.example');

    const refusal = await waitFor(
      'refusal in the thread',
      async () => (await botTexts(bridge, thread)).find((t) => t.startsWith('⛔')),
      10_000,
    );
    expect(refusal).toContain(
      `login ${handoffTag(first.handoffId)} was approved by an account that is not an approver`,
    );
    expect(refusal).toContain('m***@evil.example');
    expect(refusal).not.toContain('mallory@evil.example');
    const entry = (await audit(first.handoffId)).find((e) => e.event === 'poll.refused');
    expect(entry).toMatchObject({ actor: 'bridge:poll', detail: { account: 'mallory@evil.example', said: 'poll' } });
    // Refused before the exchange: no session was made in mallory's account for the agent.
    expect(sandbox('/sandbox').state.successfulExchanges.get(requestId(first.url)) ?? 0).toBe(0);

    // A fresh link, on the same handoff; the agent is still waiting.
    const second = await requestIn(bridge, thread, 2);
    expect(second.handoffId).toBe(first.handoffId);
    expect(second.url).not.toBe(first.url);
    expect(second.text).toContain('used by an account that is not an approver');
    const waiting = await bridge.bridge.engine.store.get(first.handoffId);
    expect(waiting).toMatchObject({ status: 'awaiting_human', restarts: 1 });
    expect(await bridge.bridge.engine.credentials.get(waiting!.credentialId ?? 'none')).toBeUndefined();
    expect(await job.getState()).not.toBe('completed');

    // alice approves the fresh link and says so: one poll, now, which names her.
    await parkPoll(first.handoffId);
    await approveOnSandbox(second.url, 'alice@example.com');
    const started = Date.now();
    await bridge.reply(thread, 'alice', 'done');
    const result = await job.waitUntilFinished(agent.events, 10_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.me).toMatchObject({ account: { email: 'alice@example.com' } });
    expect((await audit(first.handoffId)).find((e) => e.event === 'poll.bound')).toMatchObject({
      actor: 'alice',
      detail: { account: 'alice@example.com' },
    });
  });

  it('holds a result the service cannot attribute: mallory’s "done" is refused, alice’s finishes it with no second call to the service', async () => {
    const thread = freshThread('quiet');
    const job = await agent.run(thread, ['alice'], 'agent-quiet', service('/sandbox/quiet'), {
      approverEmail: 'alice@example.com',
    });
    const request = await requestIn(bridge, thread, 1);
    await approveOnSandbox(request.url, 'mallory@evil.example');

    const ready = await waitFor(
      'the service-ready notice',
      async () => (await botTexts(bridge, thread)).find((t) => t.startsWith('🔔')),
      10_000,
    );
    expect(ready).toContain(`cannot tell whether an approver did it. alice: if you approved it, reply "done"`);
    const held = (await bridge.bridge.engine.store.get(request.handoffId))!;
    expect(held).toMatchObject({ status: 'awaiting_human' });
    expect(held.serviceReadyAt).toBeGreaterThan(0);
    expect(held.nextPollAt).toBeUndefined(); // nothing more to ask the service
    expect(held.sealedHeld).toBeDefined();
    expect(JSON.stringify(held)).not.toMatch(/aas_[0-9a-f]{20}/); // the held credential is sealed
    expect(await bridge.bridge.engine.credentials.get(held.credentialId!)).toBeUndefined();
    expect((await audit(request.handoffId)).some((e) => e.event === 'poll.held')).toBe(true);

    await bridge.reply(thread, 'mallory', 'done');
    await waitFor('mallory refused', async () =>
      (await botTexts(bridge, thread)).some((t) =>
        t.startsWith(`mallory, you cannot answer request ${handoffTag(request.handoffId)}`),
      ),
    );
    expect((await bridge.bridge.engine.store.get(request.handoffId))!.status).toBe('awaiting_human');

    const callsBefore = sandbox('/sandbox/quiet').state.calls.length;
    await bridge.reply(thread, 'alice', 'done');
    expect((await job.waitUntilFinished(agent.events, 10_000)).status).toBe(200);
    // Finished from what the bridge held: the only later call is the agent's own use of the API.
    expect(
      sandbox('/sandbox/quiet')
        .state.calls.slice(callsBefore)
        .map((c) => c.path),
    ).toEqual(['/sandbox/quiet/api/me']);
    expect(sandbox('/sandbox/quiet').state.successfulExchanges.get(requestId(request.url))).toBe(1);
    const completed = (await audit(request.handoffId)).find((e) => e.event === 'handoff.completed');
    expect(completed?.actor).toBe('alice');
    const done = (await botTexts(bridge, thread)).find((t) => t.startsWith('✅'));
    expect(done).not.toContain('code'); // a "done" carried no code to call spent
    expect((await bridge.bridge.engine.store.get(request.handoffId))!.sealedHeld).toBeUndefined();
  });

  it('an approver’s "done" vouches for the one poll it asks for, when the service cannot say who approved', async () => {
    const thread = freshThread('vouch');
    const job = await agent.run(thread, ['alice'], 'agent-vouch', service('/sandbox/quiet'));
    const request = await requestIn(bridge, thread, 1);
    await parkPoll(request.handoffId);
    await approveOnSandbox(request.url, 'alice@example.com');
    await bridge.reply(thread, 'alice', 'done');
    expect((await job.waitUntilFinished(agent.events, 10_000)).status).toBe(200);
    expect((await botTexts(bridge, thread)).some((t) => t.startsWith('🔔'))).toBe(false);
    expect((await audit(request.handoffId)).find((e) => e.event === 'poll.bound')).toMatchObject({
      actor: 'alice',
      detail: { vouchedBy: 'alice' },
    });
  });

  it('a stale "done" vouches for nothing: a later poll still waits for a word', async () => {
    const thread = freshThread('stale');
    await agent.run(thread, ['alice'], 'agent-stale', service('/sandbox/quiet'));
    const request = await requestIn(bridge, thread, 1);
    // alice said "done" long ago (before mallory approved): the word has lapsed.
    await bridge.bridge.engine.store.transition(request.handoffId, {
      from: ['awaiting_human'],
      set: { confirmedBy: 'alice', confirmedAt: Date.now() - 10 * 60_000 },
    });
    await approveOnSandbox(request.url, 'mallory@evil.example');
    await waitFor(
      'held, not completed',
      async () => (await botTexts(bridge, thread)).some((t) => t.startsWith('🔔')),
      10_000,
    );
    expect((await bridge.bridge.engine.store.get(request.handoffId))!.status).toBe('awaiting_human');
  });

  it('device flow: the account userinfo names is checked too; mallory’s approval is refused and a fresh code follows', async () => {
    const thread = freshThread('device');
    const job = await agent.run(thread, ['alice'], 'agent-dev', service('/sandbox/device'), {
      approverEmail: 'alice@example.com',
    });
    const first = await requestIn(bridge, thread, 1);
    await decideDevice(first.url, 'approve', undefined, 'mallory@evil.example');
    await waitFor('refusal', async () => (await botTexts(bridge, thread)).some((t) => t.startsWith('⛔')), 10_000);
    expect((await audit(first.handoffId)).find((e) => e.event === 'poll.refused')?.detail).toMatchObject({
      account: 'mallory@evil.example',
      said: 'userinfo',
    });
    const second = await requestIn(bridge, thread, 2);
    expect(second.url).not.toBe(first.url);
    await decideDevice(second.url, 'approve', undefined, 'alice@example.com');
    expect((await job.waitUntilFinished(agent.events, 15_000)).me).toMatchObject({
      account: { email: 'alice@example.com' },
    });
  });

  it('ends the handoff when the service keeps reporting someone else (restarts are bounded)', async () => {
    const thread = freshThread('loop');
    const job = await agent.run(thread, ['alice'], 'agent-loop', service('/sandbox'), {
      approverEmail: 'alice@example.com',
    });
    const urls: string[] = [];
    for (let n = 1; n <= 4; n++) {
      const request = await requestIn(bridge, thread, n);
      urls.push(request.url);
      await approveOnSandbox(request.url, `mallory${n}@evil.example`);
      await waitFor(
        `refusal ${n}`,
        async () => (await botTexts(bridge, thread)).filter((t) => t.startsWith('⛔')).length >= n,
        10_000,
      );
    }
    await expect(job.waitUntilFinished(agent.events, 10_000)).rejects.toThrow(/approved_by_other/);
    // None of those approvals was ever exchanged for a session.
    expect(urls.map((u) => sandbox('/sandbox').state.successfulExchanges.get(requestId(u)) ?? 0)).toEqual([0, 0, 0, 0]);
    const ended = await bridge.api.getHandoff((await requestIn(bridge, thread, 1)).handoffId);
    expect(ended).toMatchObject({ status: 'failed', error: { code: 'approved_by_other' } });
  });
});
