import type { JobsOptions } from 'bullmq';

/** Attempts and retention per queue. Times in ms. */
export const driverJobOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 24 * 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
} as const satisfies JobsOptions;

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
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
} as const satisfies JobsOptions;

export const credentialJobOptions = {
  attempts: 6,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { age: 24 * 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
} as const satisfies JobsOptions;
