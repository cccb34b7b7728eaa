import { afterAll, describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../src/core/errors.js';
import type { HandoffRecord } from '../../src/core/handoff.js';
import type { InboundPoller, PollScope } from '../../src/core/inbound-poller.js';
import { createHandoffStore } from '../../src/store/handoff-store.js';
import { createKeys } from '../../src/store/keys.js';
import { startPolling } from '../../src/queue/poll-worker.js';
import { captureLogs } from '../helpers/logs.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The generic polling machinery with a poller that only counts: scopes grouped from open
 * threads, each due scope polled once per tick however many processes tick, waits honoured.
 */
describe('inbound polling as a repeatable job', () => {
  const redis = connectTestRedis();
  const prefix = randomPrefix('poll');
  const keys = createKeys(prefix);
  const store = createHandoffStore({ redis, keys, now: Date.now });
  const { logger } = captureLogs('polling');
  const closers: Array<{ close(): Promise<void> }> = [];

  afterAll(async () => {
    for (const c of closers) await c.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  const polls: string[] = [];
  let behaviour: (scope: PollScope) => Promise<{ nextPollMs: number }> = async () => ({ nextPollMs: 60_000 });
  const poller: InboundPoller = {
    tickMs: 200,
    // One scope per repository, as the GitHub adapter does.
    scopes: (threads) => {
      const byRepo = new Map<string, string[]>();
      for (const t of threads) {
        const repo = t.slice('github:'.length).split('#')[0]!;
        byRepo.set(repo, [...(byRepo.get(repo) ?? []), t]);
      }
      return [...byRepo].map(([scope, ts]) => ({ scope, threads: ts.sort() }));
    },
    poll: async (scope) => {
      polls.push(`${scope.scope}:${scope.threads.length}`);
      await new Promise((r) => setTimeout(r, 30));
      return behaviour(scope);
    },
  };

  const record = (id: string, thread: string): HandoffRecord => {
    const now = Date.now();
    return {
      id,
      kind: 'login',
      status: 'awaiting_human',
      version: 0,
      service: 'https://svc.example',
      protocol: 'agent-sessions',
      thread,
      approvers: [],
      agentId: 'a',
      correlationId: 'c',
      scopes: [],
      createdAt: now,
      updatedAt: now,
      expiresAt: now + 60_000,
      attempts: 0,
    };
  };

  it('polls each due scope once, however many processes tick', async () => {
    const start = () =>
      startPolling({
        platform: 'github',
        poller,
        store,
        clock: { now: Date.now },
        redis,
        keys,
        prefix: `${prefix}:q`,
        logger,
      });
    const a = await start();
    const b = await start();
    closers.push(a, b);
    expect(await a.tick()).toBe(0); // nothing open: nothing polled

    await store.create(record('hf_p1', 'github:octo/app#1'));
    await store.create(record('hf_p2', 'github:octo/app#2'));
    await store.create(record('hf_p3', 'github:octo/lib#7'));
    // Two schedulers tick every 200 ms and we tick by hand as well, all at once.
    await Promise.all([a.tick(), b.tick(), a.tick()]);
    await waitFor('both scopes polled', () => polls.length >= 2 || undefined);
    await new Promise((r) => setTimeout(r, 700));
    // Each scope asked for a minute's rest after its poll: exactly one poll each.
    expect(polls.sort()).toEqual(['octo/app:2', 'octo/lib:1']);
  });

  it('polls again when a scope is due, and leaves a rate-limited scope alone for as long as asked', async () => {
    behaviour = async (scope) => {
      if (scope.scope === 'octo/lib') throw new RateLimitedError('slow down', 60_000);
      return { nextPollMs: 0 };
    };
    polls.length = 0;
    await redis.del(keys.pollDue('github'));
    // The schedulers tick on their own every 200 ms.
    await waitFor(
      'three scheduled polls of octo/app',
      () => polls.filter((p) => p.startsWith('octo/app')).length >= 3 || undefined,
      10_000,
    );
    expect(polls.filter((p) => p.startsWith('octo/lib'))).toHaveLength(1);
    expect(Number(await redis.hget(keys.pollDue('github'), 'octo/lib'))).toBeGreaterThan(Date.now() + 50_000);
  });

  it('stops polling a thread once its last handoff ends', async () => {
    await store.transition('hf_p3', { to: 'cancelled' });
    expect(await store.openThreads('github')).toEqual(['github:octo/app#1', 'github:octo/app#2']);
    await store.transition('hf_p1', { to: 'expired' });
    expect(await store.openThreads('github')).toEqual(['github:octo/app#2']);
  });
});
