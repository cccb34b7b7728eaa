import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.js';
import { refreshAttempts, refreshLeaseMs, sweepRefreshes } from '../../src/engine/credential-refresh-sweep.js';
import { credentialJobOptions } from '../../src/queue/job-options.js';
import { createKeys } from '../../src/store/keys.js';
import { completedLogin, createTestAgent, type TestAgent } from '../helpers/agents.js';
import { connectTestRedis } from '../helpers/redis.js';
import { startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Refreshes run from the store's refresh index (src/engine/credential-refresh-sweep.ts), not
 * from a delayed job each. Tokens here live an hour, so the bridge's own sweep (due within a
 * second) leaves them alone and each test takes them by calling the sweep with a long reach.
 * Attacked: sweepers racing, a sweeper dying with its lease, a service failing, refusing and
 * rate-limiting, a credential deleted under a sweeper, index entries without a record, and
 * `refresh` jobs an older bridge left in the queue.
 */
const hour = 3_600_000;
const refreshPath = '/agent-sessions/refresh';

describe('the refresh sweep (real Redis, real BullMQ, sandbox over HTTP)', () => {
  let bridge: TestBridge;
  let agent: TestAgent;
  let redis: Redis;
  let index: string;
  beforeAll(async () => {
    bridge = await startTestBridge('refresh-sweep', {
      env: { HANDOFF_POLL_INTERVAL_MS: '600000' },
      sandbox: { accessTtlMs: hour },
    });
    agent = await createTestAgent(bridge, 'refresher');
    redis = connectTestRedis();
    index = createKeys(bridge.prefix).credentialsRefreshDue();
  });
  afterAll(async () => {
    await bridge.close();
    redis.disconnect();
  });

  const engine = () => bridge.bridge.engine;
  const filedAt = async (id: string) => {
    const score = await redis.zscore(index, id);
    return score === null ? undefined : Number(score);
  };
  const refreshedAudits = async (id: string) =>
    (await engine().audit.recent(2_000)).filter(
      (e) => e.event === 'credential.refreshed' && (e.detail as { credentialId?: string }).credentialId === id,
    );
  /** Takes every credential filed (reaching two hours ahead) and refreshes it. */
  const sweepAll = () => sweepRefreshes(engine(), 2 * hour);

  it('a completed login is filed for its refresh in the same write; a refresh files the next one', async () => {
    const { credentialId } = await completedLogin(bridge, agent);
    const first = (await engine().credentials.secret(credentialId))!;
    expect(await filedAt(credentialId)).toBe(first.expiresAt! - engine().policy.refreshBeforeMs);
    const queued = await bridge.bridge.queues.credentials.getJobs(['delayed', 'waiting']);
    expect(queued.filter((j) => j.name === 'refresh' || j.name === 'retire')).toEqual([]);

    expect((await sweepAll()).get(credentialId)).toBe('refreshed');
    const fresh = (await engine().credentials.secret(credentialId))!;
    expect(fresh.accessToken).not.toBe(first.accessToken);
    expect(await filedAt(credentialId)).toBe(fresh.expiresAt! - engine().policy.refreshBeforeMs);
    expect(await refreshedAudits(credentialId)).toMatchObject([{ actor: 'bridge:refresh' }]);
  });

  it('sweepers racing each other (several worker processes) refresh each credential exactly once', async () => {
    const ids = (await Promise.all([1, 2, 3, 4].map(() => completedLogin(bridge, agent)))).map((l) => l.credentialId);
    const results = await Promise.all([1, 2, 3].map(() => sweepAll()));
    for (const id of ids) {
      const takers = results.filter((r) => r.has(id));
      expect(takers, id).toHaveLength(1);
      expect(takers[0]!.get(id)).toBe('refreshed');
      expect(await refreshedAudits(id)).toHaveLength(1);
    }
  });

  it('a sweeper that dies holding its lease leaves the refresh to be taken again when the lease is over', async () => {
    const { credentialId } = await completedLogin(bridge, agent);
    const dueBy = Date.now() + 2 * hour;
    // Taken, then never reported back (the process died).
    expect(await engine().credentials.claimRefreshes(dueBy, 1_000, refreshLeaseMs)).toContain(credentialId);
    expect(await engine().credentials.claimRefreshes(dueBy, 1_000, refreshLeaseMs)).not.toContain(credentialId);
    expect(await filedAt(credentialId)).toBe(dueBy + refreshLeaseMs);
    expect(await engine().credentials.claimRefreshes(dueBy + refreshLeaseMs, 1_000, refreshLeaseMs)).toContain(
      credentialId,
    );
  });

  it('a failing service is tried again later and later; the sixth failure marks the credential as needing a login', async () => {
    const { credentialId } = await completedLogin(bridge, agent);
    bridge.sandbox!.faults.inject(refreshPath, 'error_500', 100);
    try {
      const before = Date.now();
      expect((await sweepAll()).get(credentialId)).toBe('retry');
      expect((await engine().credentials.get(credentialId))!.refreshFailures).toBe(1);
      const firstRetry = (await filedAt(credentialId))! - before;
      expect(firstRetry).toBeGreaterThanOrEqual(5_000);
      expect(firstRetry).toBeLessThan(10_000);
      expect((await sweepAll()).get(credentialId)).toBe('retry');
      expect((await engine().credentials.get(credentialId))!.refreshFailures).toBe(2);
      expect((await filedAt(credentialId))! - Date.now()).toBeGreaterThan(9_000);
      // Up to the last attempt: it is given up, the secret deleted, nobody asked yet.
      await redis.hset(createKeys(bridge.prefix).credential(credentialId), 'refreshFailures', refreshAttempts - 1);
      expect((await sweepAll()).get(credentialId)).toBe('needs_login');
    } finally {
      bridge.sandbox!.faults.clear();
    }
    const record = (await engine().credentials.get(credentialId))!;
    expect(record.needsLogin).toBeDefined();
    expect(await engine().credentials.secret(credentialId)).toBeUndefined();
    expect(await filedAt(credentialId)).toBeUndefined();
  });

  it('a refresh that works after failures starts the count again', async () => {
    const { credentialId } = await completedLogin(bridge, agent);
    bridge.sandbox!.faults.inject(refreshPath, 'error_500', 100);
    expect((await sweepAll()).get(credentialId)).toBe('retry');
    bridge.sandbox!.faults.clear();
    expect((await sweepAll()).get(credentialId)).toBe('refreshed');
    expect((await engine().credentials.get(credentialId))!.refreshFailures).toBeUndefined();
  });

  it('a rate limit is waited out for its Retry-After without spending an attempt', async () => {
    const { credentialId } = await completedLogin(bridge, agent);
    bridge.sandbox!.faults.inject(refreshPath, 'rate_limited', 100);
    try {
      const before = Date.now();
      expect((await sweepAll()).get(credentialId)).toBe('rate_limited');
      expect((await filedAt(credentialId))! - before).toBeGreaterThanOrEqual(60_000);
      expect((await engine().credentials.get(credentialId))!.refreshFailures).toBeUndefined();
    } finally {
      bridge.sandbox!.faults.clear();
    }
  });

  it('a credential deleted while its refresh is taken is not filed again; an entry without a record is dropped', async () => {
    const { credentialId } = await completedLogin(bridge, agent);
    expect(await engine().credentials.claimRefreshes(Date.now() + 2 * hour, 1_000, refreshLeaseMs)).toContain(
      credentialId,
    );
    await agent.api.revokeCredential(credentialId);
    expect(await engine().credentials.deferRefresh(credentialId, Date.now() + 5_000, true)).toBeUndefined();
    expect(await filedAt(credentialId)).toBeUndefined();

    const ghost = newId('credential');
    await redis.zadd(index, 1, ghost);
    expect((await sweepAll()).get(ghost)).toBe('gone');
    expect(await filedAt(ghost)).toBeUndefined();
  });

  it('a refresh job queued by an older bridge still refreshes, and files the credential for the sweep', async () => {
    const { credentialId } = await completedLogin(bridge, agent);
    // As an older bridge stored it: not filed, a delayed job instead.
    await redis.zrem(index, credentialId);
    const expiresAt = (await engine().credentials.get(credentialId))!.expiresAt!;
    const job = await bridge.bridge.queues.credentials.add(
      'refresh',
      { credentialId, generation: expiresAt },
      { ...credentialJobOptions, jobId: `refresh-${credentialId}-${expiresAt}` },
    );
    await waitFor('the old job done', async () => (await job.isCompleted()) || undefined);
    expect(await refreshedAudits(credentialId)).toHaveLength(1);
    const fresh = (await engine().credentials.secret(credentialId))!;
    expect(await filedAt(credentialId)).toBe(fresh.expiresAt! - engine().policy.refreshBeforeMs);
  });
});

describe('a service that issues tokens already expired', () => {
  let bridge: TestBridge;
  let redis: Redis;
  beforeAll(async () => {
    // Every token the sandbox issues expired a minute before it was issued.
    bridge = await startTestBridge('refresh-expired', {
      env: { HANDOFF_POLL_INTERVAL_MS: '600000' },
      sandbox: { accessTtlMs: -60_000 },
    });
    redis = connectTestRedis();
  });
  afterAll(async () => {
    await bridge.close();
    redis.disconnect();
  });

  it('is not called again and again: such a token is not filed for a refresh, issued or refreshed', async () => {
    const agent = await createTestAgent(bridge, 'expired');
    const { credentialId } = await completedLogin(bridge, agent);
    const index = createKeys(bridge.prefix).credentialsRefreshDue();
    expect(await redis.zscore(index, credentialId)).toBeNull();
    const refreshes = () => bridge.sandbox!.state.calls.filter((c) => c.path.endsWith(refreshPath)).length;
    const before = refreshes();
    // A refresh that answers with another dead token files nothing either.
    await sweepRefreshes(bridge.bridge.engine, 2 * hour);
    await redis.zadd(index, 1, credentialId);
    expect((await sweepRefreshes(bridge.bridge.engine, 2 * hour)).get(credentialId)).toBe('refreshed');
    expect(await redis.zscore(index, credentialId)).toBeNull();
    // Three sweeps of the bridge's own later, the service was called that once.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(refreshes() - before).toBe(1);
  }, 30_000);
});
