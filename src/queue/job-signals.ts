import { asHandoffError } from '../core/errors.js';
import { rateLimitWaitMs } from '../core/rate-limit.js';

/**
 * The one mapping from our errors to what a BullMQ worker should do. Bad input and other 4xx
 * fail now; rate limits wait as long as asked (without spending an attempt), at least 1 s and
 * at most 15 min (src/core/rate-limit.ts); everything else is retried with backoff until
 * attempts run out.
 */
export type JobSignal =
  | { readonly kind: 'fail'; readonly code: string }
  | { readonly kind: 'delay'; readonly delayMs: number }
  | { readonly kind: 'retry' };

export function jobSignalFor(err: unknown, attemptsMade: number, maxAttempts: number): JobSignal {
  const e = asHandoffError(err);
  if (e.retry === 'never') return { kind: 'fail', code: e.code };
  if (e.retry === 'after_delay') return { kind: 'delay', delayMs: rateLimitWaitMs(e.retryAfterMs) };
  // attemptsMade counts finished attempts; this one is attemptsMade + 1.
  return attemptsMade + 1 >= maxAttempts ? { kind: 'fail', code: e.code } : { kind: 'retry' };
}
