import type { Platform } from '../core/thread-ref.js';

/**
 * The prefix of one queue's BullMQ keys: the bridge's queue prefix and the queue's own hash
 * tag, so each queue's keys (which BullMQ's scripts use together) share one Redis Cluster slot
 * and different queues spread over the cluster.
 */
export function queueKeyPrefix(queuePrefix: string, queue: string): string {
  return `${queuePrefix}:{${queue}}`;
}

/** One key of a queue's BullMQ keys, e.g. `queueKey(prefix, 'handoffs', 'delayed')` (a job's hash: its id). */
export function queueKey(queuePrefix: string, queue: string, part: string): string {
  return `${queueKeyPrefix(queuePrefix, queue)}:${queue}:${part}`;
}

/** The bridge's queues. Job ids never contain ':' (BullMQ forbids it). */
export const queueNames = {
  /** One driver job per handoff; waits as a delayed job while a human thinks. */
  handoffs: 'handoffs',
  /** Replies from every platform, already verified and deduplicated. */
  inbound: 'inbound',
  /** One delayed job per credential generation: refresh it before it expires. */
  credentials: 'credentials',
  /** One per platform, so each platform's rate limit applies to its own traffic only. */
  outbound: (platform: Platform) => `outbound-${platform}`,
} as const;
