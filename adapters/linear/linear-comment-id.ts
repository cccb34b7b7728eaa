import { createHash } from 'node:crypto';
import type { OutboundMessage } from '../../src/core/messages.js';
import type { PostContext } from '../../src/core/thread-adapter.js';

/**
 * Linear lets the client choose a comment's id (a UUID in v4 layout), which makes creation
 * idempotent: a retried `commentCreate` with the same id cannot make a second comment. The
 * id is derived from the handoff and the outbound job that posts it, so a retry of that job
 * reuses it while a notice that legitimately repeats (a second wrong code, a second refusal)
 * comes from another job and gets another id.
 */
export function derivedUuid(...parts: readonly string[]): string {
  const bytes = createHash('sha256').update(parts.join('\u0000')).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4 layout
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The id of the comment that carries `msg`. Without an idempotency key (a direct call, not
 * from the outbound queue) the rendered body stands in for it: the same text for the same
 * handoff is then posted once.
 */
export function commentIdFor(msg: OutboundMessage, body: string, context?: PostContext): string {
  const key =
    context?.idempotencyKey !== undefined
      ? `job:${context.idempotencyKey}`
      : `body:${createHash('sha256').update(body).digest('hex')}`;
  return derivedUuid('handoff/linear/comment', msg.handoffId, msg.kind, key);
}
