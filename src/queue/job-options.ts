import type { JobsOptions, WorkerOptions } from 'bullmq';

/** Attempts and retention per queue. Times in ms (BullMQ's `age` is in seconds). */
export const driverJobOptions = {
  attempts: 8,
  // Named, not spelled out: the strategy lives on the worker (driverBackoff), so each waiting
  // job stores 16 bytes of backoff instead of 45.
  backoff: { type: 'exp' },
} as const satisfies JobsOptions;

/** The driver's retry delays: 2 s, 4 s, 8 s… (about 4 minutes over its 8 attempts). */
export function driverBackoff(attemptsMade: number): number {
  return 2_000 * 2 ** Math.max(0, attemptsMade - 1);
}

/**
 * Driver jobs' retention lives on the worker, not in each job: every byte of a job's options
 * is stored with the job for as long as its handoff waits.
 */
export const driverRetention = {
  removeOnComplete: { age: 24 * 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
} as const satisfies Pick<WorkerOptions, 'removeOnComplete' | 'removeOnFail'>;

export const inboundJobOptions = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 1_000 },
  // Kept an hour so a redelivered reply with the same job id is dropped by BullMQ too.
  removeOnComplete: { age: 3_600 },
  removeOnFail: { age: 7 * 24 * 3_600 },
} as const satisfies JobsOptions;

export const outboundJobOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  // Nothing reads a delivered message's job again; duplicates are stopped by deduplication ids.
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3_600 },
} as const satisfies JobsOptions;

export const credentialJobOptions = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { age: 24 * 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
} as const satisfies JobsOptions;

/**
 * A worker's hold on the jobs it runs (HANDOFF_JOB_LOCK_MS): BullMQ renews the lock every half
 * of it while the worker lives; once a worker dies (SIGKILL, a lost machine) its jobs are
 * found stalled within one more `lockMs` by any other worker and run again, at most once more.
 */
export function jobLock(lockMs: number): Pick<WorkerOptions, 'lockDuration' | 'stalledInterval'> {
  return { lockDuration: lockMs, stalledInterval: lockMs };
}
