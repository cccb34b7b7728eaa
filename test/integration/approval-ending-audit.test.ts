import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { maxReasonLength } from '../../src/core/approval.js';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { cleanText } from '../../src/core/untrusted-text.js';
import { createApprovalVotes } from '../../src/store/approval-votes.js';
import { createAuditLog } from '../../src/store/audit-log.js';
import { createHandoffStore } from '../../src/store/handoff-store.js';
import { createKeys } from '../../src/store/keys.js';
import { repoRoot } from '../helpers/processes.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { redisUrl } from '../helpers/environment.js';

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

  it('has the ending entry when the process is SIGKILLed the moment the script returned', async () => {
    await store.create(approval('hf_killed', 1));
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/vote-then-die.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        VOTE_PREFIX: prefix,
        VOTE_HANDOFF: 'hf_killed',
        VOTE_AGENT: 'a1',
        VOTE_VOTER: 'frank',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.stderr).toBe('');
    expect(child.signal).toBe('SIGKILL');
    const endings = await endingsOf('hf_killed');
    expect(endings).toHaveLength(1);
    expect(field(endings[0]!, 'actor')).toBe('frank');
    expect((await store.get('hf_killed'))?.status).toBe('completed');
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
