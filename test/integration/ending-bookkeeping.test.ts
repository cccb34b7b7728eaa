import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { createHandoffStore } from '../../src/store/handoff-store.js';
import { createKeys } from '../../src/store/keys.js';
import { repoRoot } from '../helpers/processes.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { redisUrl } from '../helpers/environment.js';

/**
 * The bookkeeping of an ending (out of the thread's open set, the agent's open count and, with
 * the thread's last open handoff, the platform's open threads) is done by the transition's
 * script itself: one round trip, and no crash between the ending and its bookkeeping.
 */
describe('ending bookkeeping: done by the transition script', () => {
  const redis = connectTestRedis();
  const prefix = randomPrefix('endbk');
  const keys = createKeys(prefix);
  const store = createHandoffStore({ redis, keys, now: Date.now, polledPlatforms: ['local'] });

  const record = (id: string, thread: string, agentId = 'a1'): HandoffRecord => ({
    id,
    kind: 'login',
    status: 'awaiting_human',
    version: 0,
    service: 'https://svc.example',
    protocol: 'agent-sessions',
    thread,
    approvers: [],
    agentId,
    correlationId: id,
    scopes: [],
    createdAt: Date.now(),
    updatedAt: Date.now(),
    expiresAt: Date.now() + 60_000,
    attempts: 0,
  });
  /** Created as the intake does it, and counted against its agent as admission does. */
  const open = async (r: HandoffRecord) => {
    await store.create(r);
    await redis.zadd(keys.agentOpen(r.agentId), r.expiresAt, r.id);
  };
  const openThreads = () => redis.zrange(keys.openThreads('local'), 0, -1);

  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('takes an ended handoff out of its thread, its agent count and, with the last one, the open threads', async () => {
    await open(record('hf_b1', 'local:bk'));
    await open(record('hf_b2', 'local:bk'));
    expect(await openThreads()).toContain('local:bk');
    const first = await store.transition('hf_b1', { to: 'cancelled', agentId: 'a1', thread: 'local:bk' });
    expect(first.ok).toBe(true);
    expect(await redis.zrange(keys.threadHandoffs('local:bk'), 0, -1)).toEqual(['hf_b2']);
    expect(await redis.zrange(keys.agentOpen('a1'), 0, -1)).toEqual(['hf_b2']);
    expect(await openThreads()).toContain('local:bk');
    // Without the hints, the store reads them from the record.
    expect((await store.transition('hf_b2', { to: 'expired' })).ok).toBe(true);
    expect(await redis.exists(keys.threadHandoffs('local:bk'), keys.agentOpen('a1'))).toBe(0);
    expect(await openThreads()).not.toContain('local:bk');
  });

  it("refuses a thread hint that is not the record's, and writes nothing", async () => {
    await open(record('hf_b3', 'local:bk3', 'a3'));
    await expect(
      store.transition('hf_b3', { to: 'cancelled', agentId: 'a3', thread: 'local:elsewhere' }),
    ).rejects.toThrow(/not the record's/);
    expect((await store.get('hf_b3'))?.status).toBe('awaiting_human');
    expect(await redis.zrange(keys.threadHandoffs('local:bk3'), 0, -1)).toEqual(['hf_b3']);
    expect(await redis.exists(keys.agentFeed('a3'), keys.audit())).toBe(0);
  });

  it('has done the bookkeeping when the process is SIGKILLed the moment the script returned', async () => {
    await open(record('hf_killed', 'local:bk-killed', 'a2'));
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/end-then-die.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        END_PREFIX: prefix,
        END_HANDOFF: 'hf_killed',
        END_AGENT: 'a2',
        END_THREAD: 'local:bk-killed',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.stderr).toBe('');
    expect(child.signal).toBe('SIGKILL');
    expect((await store.get('hf_killed'))?.status).toBe('cancelled');
    expect(await redis.exists(keys.threadHandoffs('local:bk-killed'), keys.agentOpen('a2'))).toBe(0);
    expect(await openThreads()).not.toContain('local:bk-killed');
  });
});
