import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.js';
import { sweepBatch, sweepCredentials, type SweepOutcome } from '../../src/engine/credential-sweep.js';
import type { EngineDeps } from '../../src/engine/engine-deps.js';
import { credentialJobOptions } from '../../src/queue/job-options.js';
import { createKeys } from '../../src/store/keys.js';
import { completedLogin, createTestAgent } from '../helpers/agents.js';
import { connectTestRedis } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Credentials past their maximum age or idle limit are found by a sweep over two indexes (by
 * creation, by last use), not by a delayed job each (src/engine/credential-sweep.ts). Attacked
 * here: sweeps racing each other, a retrieval racing the sweep, index entries without a record,
 * a record that cannot be read, a flood past one sweep's batch, and `retire` jobs an older
 * bridge left in the queue.
 */
const minute = 60_000;
let redis: Redis;
beforeAll(() => {
  redis = connectTestRedis();
});
afterAll(() => redis.disconnect());

const revocations = async (bridge: TestBridge, credentialId: string) =>
  (await bridge.bridge.engine.audit.recent(2_000)).filter(
    (e) => e.event === 'credential.revoked' && (e.detail as { credentialId?: string }).credentialId === credentialId,
  );

describe('the sweep on a running bridge (its clock moved forward)', () => {
  let bridge: TestBridge;
  let offsetMs = 0;
  beforeAll(async () => {
    bridge = await startTestBridge('cred-sweep', {
      clock: { now: () => Date.now() + offsetMs },
      env: {
        HANDOFF_POLL_INTERVAL_MS: '600000',
        HANDOFF_CREDENTIAL_IDLE_MS: String(10 * minute),
        HANDOFF_CREDENTIAL_MAX_AGE_MS: String(60 * minute),
      },
    });
  });
  afterAll(async () => bridge.close());

  it('retires an idle credential with no job of its own, and a retrieval moves it out of the sweep', async () => {
    offsetMs = 0;
    const keys = createKeys(bridge.prefix);
    const agent = await createTestAgent(bridge, 'sweeper');
    const kept = await completedLogin(bridge, agent);
    const idle = await completedLogin(bridge, agent);
    // Nothing queued per credential for its life: only the refresh (the sandbox's tokens expire).
    const queued = await bridge.bridge.queues.credentials.getJobs(['delayed', 'waiting']);
    expect(queued.filter((j) => j.name === 'retire')).toEqual([]);
    expect(await redis.zscore(keys.credentialsByLastUse(), idle.credentialId)).not.toBeNull();

    offsetMs = 9 * minute;
    await agent.api.retrieveCredential(kept.handoffId);
    const usedAt = Number(await redis.zscore(keys.credentialsByLastUse(), kept.credentialId));
    expect(usedAt).toBeGreaterThanOrEqual(Date.now() + 9 * minute - 5_000);

    // 11 minutes after both were issued: `idle` is past the limit, `kept` was used 2 minutes ago.
    offsetMs = 11 * minute;
    const [revoked] = await waitFor('the idle credential retired', async () => {
      const found = await revocations(bridge, idle.credentialId);
      return found.length > 0 ? found : undefined;
    });
    expect(revoked).toMatchObject({ actor: 'bridge:lifetime', detail: { reason: 'idle' } });
    expect(await redis.zscore(keys.credentialsByLastUse(), idle.credentialId)).toBeNull();
    expect(await redis.zscore(keys.credentials(), idle.credentialId)).toBeNull();
    await expect(agent.api.retrieveCredential(idle.handoffId)).rejects.toMatchObject({ code: 'credential_not_found' });
    // A few sweeps later `kept` is still there…
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await revocations(bridge, kept.credentialId)).toEqual([]);
    expect(await bridge.bridge.engine.credentials.get(kept.credentialId)).toBeDefined();
    // …until 10 minutes after its retrieval.
    offsetMs = 20 * minute;
    await waitFor(
      'the retrieved credential retired',
      async () => (await revocations(bridge, kept.credentialId)).length || undefined,
    );
    expect(await revocations(bridge, kept.credentialId)).toHaveLength(1);
  }, 30_000);

  it('a retire job queued by an older bridge files its credential for the sweep, which retires it in time', async () => {
    offsetMs = 0;
    const keys = createKeys(bridge.prefix);
    const agent = await createTestAgent(bridge, 'old-bridge');
    const { credentialId } = await completedLogin(bridge, agent);
    // As an older bridge stored it: no last-use index, a `retire` job instead.
    await redis.zrem(keys.credentialsByLastUse(), credentialId);
    const createdAt = (await bridge.bridge.engine.credentials.get(credentialId))!.createdAt;
    const job = await bridge.bridge.queues.credentials.add(
      'retire',
      { credentialId, generation: createdAt + 10 * minute },
      { ...credentialJobOptions, jobId: `retire-${credentialId}-${createdAt + 10 * minute}` },
    );
    await waitFor('the old job done', async () => (await job.isCompleted()) || undefined);
    expect((await bridge.bridge.queues.credentials.getJob(job.id!))?.returnvalue).toEqual({ outcome: 'swept' });
    expect(Number(await redis.zscore(keys.credentialsByLastUse(), credentialId))).toBe(createdAt);
    expect(await revocations(bridge, credentialId)).toEqual([]);

    offsetMs = 11 * minute;
    await waitFor(
      'the swept credential retired',
      async () => (await revocations(bridge, credentialId)).length || undefined,
    );
    expect(await revocations(bridge, credentialId)).toHaveLength(1);
  }, 30_000);
});

describe('sweeps called directly (the bridge itself has no limits, so its own sweep does nothing)', () => {
  let bridge: TestBridge;
  let engine: EngineDeps;
  /** The engine with a maximum age of 1 ms: everything stored is past it. */
  let oneMs: EngineDeps;
  beforeAll(async () => {
    bridge = await startTestBridge('cred-sweep-direct', {
      env: { HANDOFF_POLL_INTERVAL_MS: '600000', HANDOFF_CREDENTIAL_IDLE_MS: '0', HANDOFF_CREDENTIAL_MAX_AGE_MS: '0' },
    });
    engine = bridge.bridge.engine;
    oneMs = { ...engine, policy: { ...engine.policy, credentialMaxAgeMs: 1 } };
  });
  afterAll(async () => bridge.close());

  /** A credential stored as a claim stores it; the service never issued it (its revocation fails there). */
  async function stored(agentId = 'direct'): Promise<string> {
    const id = newId('credential');
    await engine.credentials.put(
      {
        id,
        handoffId: newId('handoff'),
        service: `${bridge.url}/sandbox`,
        protocol: 'agent-sessions',
        scopes: ['read'],
        agentId,
        thread: freshThread('sw'),
        createdAt: Date.now() - 10,
      },
      { accessToken: `at-${id}`, tokenType: 'Bearer', scopes: ['read'] },
    );
    return id;
  }

  it('limits taken out of the config stop the sweep; limits put in apply to credentials already stored', async () => {
    const id = await stored();
    expect(await sweepCredentials(engine)).toEqual({ swept: true, retired: 0, kept: 0, failed: 0 });
    expect(await engine.credentials.get(id)).toBeDefined();
    expect(await sweepCredentials(oneMs)).toMatchObject({ swept: true, retired: 1, failed: 0 });
    expect(await engine.credentials.get(id)).toBeUndefined();
    expect(await revocations(bridge, id)).toMatchObject([{ actor: 'bridge:lifetime', detail: { reason: 'max_age' } }]);
  });

  it('sweeps racing each other (several worker processes) retire each credential exactly once', async () => {
    const ids = await Promise.all([1, 2, 3, 4, 5].map(() => stored()));
    const outcomes: SweepOutcome[][] = [];
    for (let round = 0; round < 20 && outcomes.flat().reduce((n, o) => n + o.retired, 0) < ids.length; round++)
      outcomes.push(await Promise.all([1, 2, 3, 4].map(() => sweepCredentials(oneMs))));
    // One holds the lock at a time; the others give way.
    for (const round of outcomes) expect(round.filter((o) => o.swept).length).toBeLessThanOrEqual(1);
    expect(outcomes.flat().reduce((n, o) => n + o.retired, 0)).toBe(ids.length);
    for (const id of ids) expect(await revocations(bridge, id)).toHaveLength(1);
  });

  it('an index entry without a record is dropped; a record that cannot be read is held back while the others go', async () => {
    const keys = createKeys(bridge.prefix);
    // Left by an older bridge, or by hand: the id in both indexes, no record.
    const ghost = newId('credential');
    await redis.zadd(keys.credentials(), 1, ghost);
    await redis.zadd(keys.credentialsByLastUse(), 1, ghost);
    const corrupt = await stored();
    await redis.hset(keys.credential(corrupt), 'scopes', '{"not json');
    const fine = await Promise.all([stored(), stored()]);
    const backoff = new Map<string, { failures: number; retryAt: number }>();

    expect(await sweepCredentials(oneMs, backoff)).toMatchObject({ swept: true, retired: 2, failed: 1 });
    for (const id of fine) expect(await revocations(bridge, id)).toHaveLength(1);
    expect(await redis.zscore(keys.credentials(), ghost)).toBeNull();
    expect(await redis.zscore(keys.credentialsByLastUse(), ghost)).toBeNull();
    expect(await revocations(bridge, ghost)).toEqual([]);
    // The unreadable one stays filed, held back for a minute: the next sweep neither retries nor logs it.
    expect(await redis.zscore(keys.credentials(), corrupt)).not.toBeNull();
    expect(backoff.get(corrupt)).toMatchObject({ failures: 1, retryAt: expect.any(Number) });
    expect(backoff.get(corrupt)!.retryAt - Date.now()).toBeGreaterThan(55_000);
    const logged = () => bridge.logs.filter((l) => l.includes('credential retirement failed')).length;
    const before = logged();
    expect(await sweepCredentials(oneMs, backoff)).toEqual({ swept: true, retired: 0, kept: 0, failed: 0 });
    expect(logged()).toBe(before);
    // Its minute over, it is tried again and waits twice as long.
    backoff.set(corrupt, { failures: 1, retryAt: Date.now() - 1 });
    expect(await sweepCredentials(oneMs, backoff)).toMatchObject({ failed: 1 });
    expect(backoff.get(corrupt)?.failures).toBe(2);
    expect(backoff.get(corrupt)!.retryAt - Date.now()).toBeGreaterThan(115_000);
    // Mended (or deleted by hand), it is retired and forgotten by the backoff.
    await redis.hset(keys.credential(corrupt), 'scopes', '["read"]');
    backoff.set(corrupt, { failures: 2, retryAt: Date.now() - 1 });
    expect(await sweepCredentials(oneMs, backoff)).toMatchObject({ retired: 1, failed: 0 });
    expect(backoff.size).toBe(0);
  });

  it('a stored protocol the bridge no longer runs does not stop its credential from being retired', async () => {
    const keys = createKeys(bridge.prefix);
    const id = await stored();
    await redis.hset(keys.credential(id), 'protocol', 'taken-out-of-config');
    expect(await sweepCredentials(oneMs)).toMatchObject({ retired: 1, failed: 0 });
    expect(await revocations(bridge, id)).toMatchObject([{ detail: { atService: 'not_supported' } }]);
  });

  it(`a flood past one sweep's batch (${sweepBatch}) is retired over the next sweeps, oldest first`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < sweepBatch + 20; i++) ids.push(await stored('flood'));
    const first = await sweepCredentials(oneMs);
    expect(first.retired).toBe(sweepBatch);
    expect(await engine.credentials.get(ids[0]!)).toBeUndefined();
    expect(await engine.credentials.get(ids.at(-1)!)).toBeDefined();
    expect((await sweepCredentials(oneMs)).retired).toBe(20);
    expect(await engine.credentials.listOf('flood', 1_000)).toEqual([]);
  }, 60_000);
});
