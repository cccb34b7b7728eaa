import type { Worker } from 'bullmq';
import type { Redis } from '../store/redis.js';

/** How long a stop may wait for work that needs Redis before the connections are cut. */
export const shutdownGraceMs = 10_000;
/** After the cut, how long the same work gets to notice that its commands failed. */
const afterCutMs = 2_000;

/**
 * Waits for `work` (a graceful stop: workers finish their jobs, QUITs are answered). Redis
 * lost on the way, or `graceMs` gone by, means that wait may never end (a command waits in
 * ioredis's offline queue for a reconnection that does not come): then `cut` ends every
 * connection, which fails what waits, and `work` gets a last moment before the stop goes on
 * without it. Resolves true when the work ended on its own.
 */
export async function finishOrCut(
  work: Promise<void>,
  options: { redis: Redis; cut: () => void; graceMs?: number },
): Promise<boolean> {
  const ended = work.then(
    () => true,
    () => true,
  );
  let timer: NodeJS.Timeout | undefined;
  let lost: () => void = () => undefined;
  const givenUp = new Promise<false>((resolve) => {
    lost = () => resolve(false);
    options.redis.once('close', lost);
    timer = setTimeout(lost, options.graceMs ?? shutdownGraceMs);
  });
  try {
    if (await Promise.race([ended, givenUp])) return true;
  } finally {
    clearTimeout(timer);
    options.redis.off('close', lost);
  }
  options.cut();
  const last = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), afterCutMs);
  });
  await Promise.race([ended, last]);
  clearTimeout(timer);
  return false;
}

/**
 * Resolves once every worker has finished connecting, or as soon as the bridge's connection to
 * Redis is lost (then a worker may never finish, and is closed without waiting). Closing a BullMQ
 * connection that is still being set up leaves a rejected command nobody listens to ('Connection
 * is closed'), as in a start-up that fails right after the workers were created (a port already
 * taken); waiting for the set-up rather than for a fixed time holds on a busy machine too.
 */
export async function workersReadyOrRedisLost(workers: readonly Worker[], redis: Redis): Promise<void> {
  if (workers.length === 0 || redis.status !== 'ready') return;
  let lost: () => void = () => undefined;
  try {
    await Promise.race([
      Promise.all(workers.map((w) => w.waitUntilReady().catch(() => undefined))),
      new Promise<void>((resolve) => {
        lost = resolve;
        redis.once('close', lost);
      }),
    ]);
  } finally {
    redis.off('close', lost);
  }
}
