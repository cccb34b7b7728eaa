import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxReasonLength } from '../../src/core/approval.js';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { cleanText } from '../../src/core/untrusted-text.js';
import { castVote } from '../../src/engine/approval-vote.js';
import { createApprovalVotes } from '../../src/store/approval-votes.js';
import { createAuditLog } from '../../src/store/audit-log.js';
import { createHandoffStore } from '../../src/store/handoff-store.js';
import { createKeys } from '../../src/store/keys.js';
import { createTestAgent, type TestAgent } from '../helpers/agents.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * An approval settled by votes is ended by the vote script, which writes its `handoff.completed`
 * audit entry itself (as the transition does for every other ending): nothing the JS does after
 * the script (bookkeeping, the vote's own entry, the sink's copy, the notices) can lose it, and
 * a retry of the vote finds the approval closed and writes none again.
 */
type Fields = string[];
const endingEvents = ['handoff.completed', 'handoff.failed', 'handoff.expired', 'handoff.cancelled'];
const field = (f: Fields, name: string) => f[f.indexOf(name) + 1];
const hostile = `"}\\/</script><img src=x onerror=alert(1)>\u2028\u0007é${'\u202e'}${'\uD800'}${'ü'.repeat(2_000)}`;

describe('approval ending audit: the vote script writes it (store)', () => {
  const redis = connectTestRedis();
  const prefix = randomPrefix('apaudit');
  const keys = createKeys(prefix);
  const store = createHandoffStore({ redis, keys, now: Date.now });
  const audit = createAuditLog({ redis, keys });
  const crashing = createApprovalVotes({
    redis,
    keys,
    retentionMs: 60_000,
    ended: async () => {
      throw new Error('the process died right after the script');
    },
  });

  const approval = (id: string, quorum: number): HandoffRecord => ({
    id,
    kind: 'approval',
    status: 'awaiting_human',
    version: 0,
    service: '',
    protocol: 'agent-sessions',
    thread: `local:${id}`,
    approvers: [],
    agentId: 'a1',
    correlationId: id,
    scopes: [],
    createdAt: Date.now(),
    updatedAt: Date.now(),
    expiresAt: Date.now() + 60_000,
    attempts: 0,
    approval: { action: { title: 'Drop table users' }, quorum, onTimeout: 'expire' },
  });
  const endingsOf = async (id: string): Promise<Fields[]> =>
    (await redis.xrange(keys.audit(), '-', '+'))
      .map(([, f]) => f)
      .filter((f) => field(f, 'handoffId') === id && endingEvents.includes(field(f, 'event')!));

  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('has the ending entry even when everything after the script throws, and a retry adds none', async () => {
    await store.create(approval('hf_crash', 1));
    const vote = { handoffId: 'hf_crash', agentId: 'a1', voter: 'carol', choice: { vote: 'approve' as const } };
    await expect(crashing.vote({ ...vote, now: Date.now() })).rejects.toThrow('died');
    const [ending, ...more] = await endingsOf('hf_crash');
    expect(more).toEqual([]);
    expect(field(ending!, 'event')).toBe('handoff.completed');
    expect(field(ending!, 'actor')).toBe('carol');
    expect(JSON.parse(field(ending!, 'detail')!)).toEqual({ status: 'completed', outcome: 'approved' });
    // The retry (the same vote, by a job run again) and a late vote find it closed.
    expect((await store.vote({ ...vote, now: Date.now() })).kind).toBe('closed');
    expect((await store.vote({ ...vote, voter: 'dave', now: Date.now() })).kind).toBe('closed');
    expect(await endingsOf('hf_crash')).toHaveLength(1);
  });

  it('writes exactly what AuditLog.append writes for the same entry, a hostile deny reason bounded and escaped', async () => {
    await store.create(approval('hf_deny', 2));
    const result = await store.vote({
      handoffId: 'hf_deny',
      agentId: 'a1',
      voter: 'mallory',
      choice: { vote: 'deny', reason: hostile },
      now: Date.now(),
    });
    expect(result.kind).toBe('settled');
    const reason = cleanText(hostile, maxReasonLength);
    expect(Array.from(reason).length).toBeLessThanOrEqual(maxReasonLength);
    expect(result.record?.decision?.reason).toBe(reason);
    const [scripted, ...more] = await endingsOf('hf_deny');
    expect(more).toEqual([]);
    const entry = {
      event: 'handoff.completed',
      handoffId: 'hf_deny',
      agentId: 'a1',
      correlationId: 'hf_deny',
      actor: 'mallory',
      detail: { status: 'completed', outcome: 'denied', reason },
    };
    expect(JSON.parse(field(scripted!, 'detail')!)).toEqual(entry.detail);
    await audit.append(entry);
    const appended = (await redis.xrevrange(keys.audit(), '+', '-', 'COUNT', 1))[0]![1];
    expect(scripted).toEqual(appended);
    expect((await audit.recent(2, 'hf_deny'))[1]).toMatchObject(entry);
  });

  it('settles once with one ending entry however many votes race', async () => {
    await store.create(approval('hf_race', 3));
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        store.vote({
          handoffId: 'hf_race',
          agentId: 'a1',
          voter: `p${i}`,
          choice: i === 17 ? { vote: 'deny', reason: 'no' } : { vote: 'approve' },
          now: Date.now(),
        }),
      ),
    );
    expect(results.filter((r) => r.kind === 'settled')).toHaveLength(1);
    expect(await endingsOf('hf_race')).toHaveLength(1);
  });

  it('writes no ending for a vote that only counts, nor for another agent’s vote', async () => {
    await store.create(approval('hf_count', 2));
    const vote = { handoffId: 'hf_count', voter: 'alice', choice: { vote: 'approve' as const }, now: Date.now() };
    expect((await store.vote({ ...vote, agentId: 'a2' })).kind).toBe('not_found');
    expect((await store.vote({ ...vote, agentId: 'a1' })).kind).toBe('counted');
    expect(await endingsOf('hf_count')).toEqual([]);
  });
});

describe('approval ending audit: every way an approval ends is audited once (bridge)', () => {
  const sinkPath = join(tmpdir(), `handoff-apaudit-${randomBytes(4).toString('hex')}.jsonl`);
  let bridge: TestBridge;
  let agent: TestAgent;
  beforeAll(async () => {
    bridge = await startTestBridge('apaudit', { env: { HANDOFF_AUDIT_SINK: `file:${sinkPath}` } });
    agent = await createTestAgent(bridge, 'apaudit-agent');
  });
  afterAll(async () => {
    await bridge.close();
    await rm(sinkPath, { force: true });
  });

  const ask = async (extra: Record<string, unknown> = {}) => {
    const res = await agent.call('POST', '/v1/handoffs', {
      kind: 'approval',
      thread: freshThread('apa'),
      action: { title: 'Rotate the keys' },
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; thread: string };
  };
  const waiting = (id: string) =>
    waitFor('the approval to wait for votes', async () => {
      const record = await bridge.bridge.engine.store.get(id);
      return record?.status === 'awaiting_human' ? record : undefined;
    });
  const endings = async (id: string) =>
    (await bridge.bridge.engine.audit.recent(5_000, id)).filter((e) => endingEvents.includes(e.event));
  const sinkEndings = async (id: string) =>
    (await readFile(sinkPath, 'utf8').catch(() => ''))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { event: string; handoffId?: string; detail?: unknown })
      .filter((e) => e.handoffId === id && endingEvents.includes(e.event));

  it('a vote that settles: one entry in the stream, one copy in the sink after it, the same', async () => {
    const { id, thread } = await ask();
    await waiting(id);
    await bridge.reply(thread, 'carol', 'approve');
    const [copy] = await waitFor('the sink’s copy', async () => {
      const found = await sinkEndings(id);
      return found.length > 0 ? found : undefined;
    });
    const found = await endings(id);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ event: 'handoff.completed', actor: 'carol' });
    expect(copy).toMatchObject({ event: 'handoff.completed', actor: 'carol', detail: found[0]!.detail });
    expect(found[0]!.detail).toEqual({ status: 'completed', outcome: 'approved' });
    expect(await sinkEndings(id)).toHaveLength(1);
  });

  it('a vote whose JS fails after the script: the ending stays, once; retried, it is closed and adds none', async () => {
    const { id } = await ask();
    const record = await waiting(id);
    const engine = bridge.bridge.engine;
    const dying = {
      ...engine,
      audit: {
        ...engine.audit,
        append: async () => {
          throw new Error('the worker died after the vote script');
        },
      },
    };
    const voter = { id: 'erin' };
    await expect(castVote(dying, record, voter, { vote: 'approve' }, { platform: 'local' })).rejects.toThrow('died');
    expect(await castVote(engine, record, voter, { vote: 'approve' }, { platform: 'local' })).toBe('closed');
    const found = await endings(id);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ event: 'handoff.completed', actor: 'erin' });
    // The sink's copy comes after everything that died: at most once there, here none.
    expect(await sinkEndings(id)).toEqual([]);
  });

  it('expiry and a timed-out deny: one ending each, with the decision for the deny; a late vote adds none', async () => {
    const a = await ask({ expiresInMs: 600 });
    const b = await ask({ expiresInMs: 600, onTimeout: 'deny' });
    const [ea, eb] = await Promise.all(
      [a.id, b.id].map((id) =>
        waitFor('the approval to time out', async () => {
          const found = await endings(id);
          return found.length > 0 ? found : undefined;
        }),
      ),
    );
    expect(ea).toHaveLength(1);
    expect(ea![0]).toMatchObject({
      event: 'handoff.expired',
      actor: 'bridge:timeout',
      detail: { status: 'expired', error: 'expired' },
    });
    expect(eb![0]).toMatchObject({
      event: 'handoff.completed',
      actor: 'bridge:timeout',
      detail: { status: 'completed', outcome: 'denied', reason: 'timed out' },
    });
    // A vote that raced the expiry and lost (a reply to a thread with no open handoff is not even routed).
    const engine = bridge.bridge.engine;
    for (const id of [a.id, b.id]) {
      const ended = (await engine.store.get(id))!;
      expect(await castVote(engine, ended, { id: 'carol' }, { vote: 'approve' }, { platform: 'local' })).toBe('closed');
    }
    expect(await endings(a.id)).toHaveLength(1);
    expect(await endings(b.id)).toHaveLength(1);
    const copies = await waitFor('the sink’s copies', async () => {
      const found = [...(await sinkEndings(a.id)), ...(await sinkEndings(b.id))];
      return found.length === 2 ? found : undefined;
    });
    expect(copies.map((c) => c.detail)).toEqual(expect.arrayContaining([ea![0]!.detail, eb![0]!.detail]));
  });

  it('a hostile deny reason from a reply is bounded and escaped in the ending, the vote and the settlement', async () => {
    const { id, thread } = await ask();
    await waiting(id);
    await bridge.reply(thread, 'mallory', `deny: ${hostile}`);
    const ending = await waitFor('the ending', async () => (await endings(id))[0]);
    const reason = ending.detail?.reason;
    expect(typeof reason).toBe('string');
    expect(Array.from(reason as string).length).toBeLessThanOrEqual(maxReasonLength);
    expect(reason).toContain('</script>');
    expect(reason).not.toContain('\uD800');
    expect((await bridge.bridge.engine.store.get(id))?.decision?.reason).toBe(reason);
    const others = await waitFor('the vote and settlement entries', async () => {
      const found = (await bridge.bridge.engine.audit.recent(5_000, id)).filter((e) =>
        ['approval.vote', 'approval.settled'].includes(e.event),
      );
      return found.length === 2 ? found : undefined;
    });
    for (const entry of others) expect(entry.detail?.reason).toBe(reason);
    expect(await endings(id)).toHaveLength(1);
  });
});
