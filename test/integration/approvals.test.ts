import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audited, createTestAgent, type TestAgent } from '../helpers/agents.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/** Approval handoffs (issue #13) over the real API, real Redis and real workers, decided by local replies. */
describe('approval handoffs', () => {
  let bridge: TestBridge;
  let agent: TestAgent;
  beforeAll(async () => {
    bridge = await startTestBridge('approvals');
    agent = await createTestAgent(bridge, 'approver-agent');
  });
  afterAll(async () => bridge.close());

  const ask = async (thread: string, extra: Record<string, unknown> = {}) => {
    const res = await agent.call('POST', '/v1/handoffs', {
      kind: 'approval',
      thread,
      action: { title: 'Drop table users', risk: 'high', details: { rows: 1200, env: 'prod', dryRun: false } },
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; kind: string; status: string; expiresAt: number; createdAt: number };
  };
  const view = async (id: string) => (await agent.call('GET', `/v1/handoffs/${id}`)).body;
  const posted = (thread: string) =>
    waitFor('the approval request in the thread', async () => {
      const m = (await bridge.messages(thread)).find((x) => x.kind === 'bot' && x.text.startsWith('🛂'));
      return m;
    });
  const settled = (id: string) =>
    waitFor('the approval to end', async () => {
      const v = await view(id);
      return ['completed', 'expired', 'cancelled', 'failed'].includes(v.status) ? v : undefined;
    });

  it('creates an approval: 201 with the documented fields; the view has votes and, once decided, the decision', async () => {
    const thread = freshThread('ap');
    const created = await ask(thread);
    expect(Object.keys(created).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'kind', 'status', 'thread']);
    expect(created).toMatchObject({ kind: 'approval', status: 'pending', thread });
    const message = await posted(thread);
    expect(message.text).toContain('Drop table users');
    expect(message.text).toContain('Needs 1 approval from anyone in this thread');
    expect(message.text).toMatch(/Expires at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(message.text).toContain('rows: 1200');
    const waiting = await view(created.id);
    expect(waiting).toMatchObject({
      kind: 'approval',
      status: 'awaiting_human',
      votes: { approve: [], deny: [], needed: 1 },
      decision: null,
    });
    await bridge.reply(thread, 'carol', 'LGTM');
    const done = await settled(created.id);
    expect(done.status).toBe('completed');
    expect(done.decision).toMatchObject({ outcome: 'approved', by: [{ who: 'carol' }] });
    expect(typeof done.decision.at).toBe('number');
    expect(done.votes.approve).toHaveLength(1);
    const entries = await audited(bridge, (e) => e.handoffId === created.id && e.event === 'approval.settled');
    expect(entries[0]!.actor).toBe('carol');
  });

  it('logins keep kind "login" by default', async () => {
    const res = await agent.call('POST', '/v1/handoffs', {
      service: `${bridge.url}/sandbox`,
      thread: freshThread('lg'),
    });
    expect(res.status).toBe(201);
    expect(res.body.kind).toBe('login');
  });

  it('needs a quorum of distinct approvers; a repeated vote counts once', async () => {
    const thread = freshThread('q');
    const { id } = await ask(thread, { quorum: 2, approvers: ['alice', 'bob', 'carol'] });
    await posted(thread);
    await bridge.reply(thread, 'alice', 'approve');
    await bridge.reply(thread, 'alice', '/approve');
    await waitFor('alice counted', async () => ((await view(id)).votes.approve.length === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    expect((await view(id)).status).toBe('awaiting_human');
    await bridge.reply(thread, 'bob', 'approved');
    const done = await settled(id);
    expect(done.decision.outcome).toBe('approved');
    expect(done.decision.by.map((b: { who: string }) => b.who).sort()).toEqual(['alice', 'bob']);
  });

  it('any one deny denies, with its reason', async () => {
    const thread = freshThread('veto');
    const { id } = await ask(thread, { quorum: 2 });
    await posted(thread);
    await bridge.reply(thread, 'alice', 'approve');
    await bridge.reply(thread, 'bob', 'deny: not on a Friday');
    const done = await settled(id);
    expect(done.decision).toMatchObject({ outcome: 'denied', by: [{ who: 'bob' }], reason: 'not on a Friday' });
  });

  it('refuses self-approval, the bridge account and people not named; none counts', async () => {
    const thread = freshThread('self');
    const { id } = await ask(thread, { approvers: ['alice', 'bob'], requestedBy: 'alice' });
    await posted(thread);
    await bridge.reply(thread, 'alice', 'approve');
    await bridge.reply(thread, 'mallory', 'approve');
    await bridge.reply(thread, 'handoff', 'approve');
    const refusals = await waitFor('three refusals', async () => {
      const found = (await bridge.bridge.engine.audit.recent(2_000)).filter(
        (e) => e.handoffId === id && e.event === 'approval.refused',
      );
      return found.length === 3 ? found : undefined;
    });
    expect(refusals.map((e) => e.detail?.code).sort()).toEqual(['bridge', 'not_an_approver', 'self_approval']);
    const v = await view(id);
    expect(v.status).toBe('awaiting_human');
    expect(v.votes.approve).toEqual([]);
  });

  it('refuses a quorum the named approvers can never reach', async () => {
    const res = await agent.call('POST', '/v1/handoffs', {
      kind: 'approval',
      thread: freshThread('unreach'),
      action: { title: 'x' },
      approvers: ['alice', 'bob'],
      requestedBy: 'bob',
      quorum: 2,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('quorum_unreachable');
  });

  it('settles exactly once however many votes race', async () => {
    const thread = freshThread('race');
    const { id } = await ask(thread, { quorum: 3 });
    await posted(thread);
    const record = (await bridge.bridge.engine.store.get(id))!;
    const voters = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const results = await Promise.all(
      voters.map((v, i) =>
        bridge.bridge.engine.store.vote({
          handoffId: id,
          agentId: record.agentId,
          voter: v,
          choice: i === 25 ? { vote: 'deny', reason: 'no' } : { vote: 'approve' },
          now: Date.now(),
        }),
      ),
    );
    expect(results.filter((r) => r.kind === 'settled')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'counted')).toHaveLength(2);
    expect(results.filter((r) => r.kind === 'closed')).toHaveLength(37);
    const feed = await agent.call('GET', '/v1/events?waitMs=0');
    expect(feed.body.events.filter((e: { handoffId: string }) => e.handoffId === id)).toHaveLength(1);
    const v = await view(id);
    expect(v.decision.outcome).toBe('approved');
    expect(v.decision.by).toHaveLength(3);
  });

  it('times out as expired (no decision) by default, and as denied with onTimeout deny', async () => {
    const a = await ask(freshThread('to1'), { expiresInMs: 600 });
    const b = await ask(freshThread('to2'), { expiresInMs: 600, onTimeout: 'deny' });
    const [ea, eb] = await Promise.all([settled(a.id), settled(b.id)]);
    expect(ea.status).toBe('expired');
    expect(ea.decision).toBeNull();
    expect(eb.status).toBe('completed');
    expect(eb.decision).toMatchObject({ outcome: 'denied', by: [], reason: 'timed out' });
  });

  it('waitMs returns as soon as a vote settles it', async () => {
    const thread = freshThread('wait');
    const { id } = await ask(thread);
    await posted(thread);
    const waiting = agent.call('GET', `/v1/handoffs/${id}?waitMs=10000`);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await bridge.reply(thread, 'dave', 'reject too risky');
    const res = await waiting;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res.body).toMatchObject({ status: 'completed', decision: { outcome: 'denied', reason: 'too risky' } });
  });

  it('cancels like a login, and a vote after that changes nothing', async () => {
    const thread = freshThread('cancel');
    const { id } = await ask(thread);
    await posted(thread);
    const cancelled = await agent.call('DELETE', `/v1/handoffs/${id}`);
    expect(cancelled.body.status).toBe('cancelled');
    await bridge.reply(thread, 'alice', 'approve');
    await new Promise((r) => setTimeout(r, 300));
    expect((await view(id)).status).toBe('cancelled');
  });
});
