import type { Platform } from '../core/thread-ref.js';

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
