import { Queue, Worker } from 'bullmq';
import type { Redis } from '../store/redis.js';
import { HandoffError } from '../core/errors.js';
import type { InboundPoller } from '../core/inbound-poller.js';
import type { Logger } from '../core/logger.js';
import type { Platform } from '../core/thread-ref.js';
import { rateLimitWaitMs } from '../core/rate-limit.js';
import type { Clock } from '../core/clock.js';
import type { HandoffStore } from '../store/handoff-store.js';
import type { Keys } from '../store/keys.js';
import { createPollSchedule } from '../store/poll-schedule.js';
import { queueKeyPrefix } from './queue-names.js';
import { queueOptions } from './queues.js';
import { logWorkerErrors } from './worker-errors.js';

/** Longest a scope's poll may hold its lease, ms; a crashed poller frees it after this. */
export const pollLeaseMs = 60_000;

const queueName = (platform: Platform) => `poll-${platform}`;

/**
 * Inbound polling as BullMQ work: one job scheduler per platform ticks every `tickMs`; the
 * tick polls each due scope under a short Redis lease, so however many bridge processes run,
 * each scope is polled once. Idle platforms (no open threads) cost one cheap tick.
 */
export async function startPolling(deps: {
  platform: Platform;
  poller: InboundPoller;
  store: HandoffStore;
  clock: Clock;
  redis: Redis;
  keys: Keys;
  prefix: string;
  logger: Logger;
}): Promise<{ close(): Promise<void>; tick(): Promise<number> }> {
  const { platform, poller, store, clock, redis, keys, logger } = deps;
  const schedule = createPollSchedule(redis, keys);
  const queue = new Queue(queueName(platform), queueOptions(redis, deps.prefix, queueName(platform)));
  await queue.upsertJobScheduler(
    `poll-${platform}`,
    { every: poller.tickMs },
    { name: 'tick', opts: { removeOnComplete: true, removeOnFail: 100 } },
  );

  /** Polls every due scope once; returns how many were polled. */
  async function tick(): Promise<number> {
    const threads = await store.openThreads(platform);
    if (threads.length === 0) return 0;
    let polled = 0;
    for (const scope of poller.scopes(threads)) {
      if (!(await schedule.claim(platform, scope.scope, clock.now(), pollLeaseMs))) continue;
      let nextPollMs = poller.tickMs;
      try {
        nextPollMs = (await poller.poll(scope)).nextPollMs;
        polled += 1;
      } catch (err) {
        // A platform's rate limit is waited out (at least a second, at most 15 min), never hot-looped.
        nextPollMs =
          err instanceof HandoffError && err.retryAfterMs !== undefined
            ? rateLimitWaitMs(err.retryAfterMs)
            : poller.tickMs * 4;
        logger.warn('inbound poll failed', { platform, scope: scope.scope, retryInMs: nextPollMs, error: err });
      } finally {
        await schedule.release(platform, scope.scope, clock.now() + nextPollMs);
      }
    }
    return polled;
  }

  const worker = new Worker(queueName(platform), async () => ({ polled: await tick() }), {
    connection: redis,
    prefix: queueKeyPrefix(deps.prefix, queueName(platform)),
    concurrency: 1,
  });
  logWorkerErrors(worker, logger, 'poll worker', { platform });

  return {
    tick,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
