import { BadInputError } from '../core/errors.js';
import type { RouteRequest } from '../core/http-route.js';
import type { Waiter } from './status-events.js';

/** Longest a long-poll request may wait for a change, ms. */
export const maxWaitMs = 60_000;

/** The request's `waitMs` (0 when absent), capped at `maxWaitMs`; 400 when it is not a whole number. */
export function waitMsOf(req: RouteRequest): number {
  const raw = req.query.get('waitMs');
  if (raw === null || raw === '') return 0;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new BadInputError('waitMs must be a whole number of milliseconds (0 or more).', {
      code: 'invalid_request',
      details: { field: 'waitMs' },
    });
  }
  return Math.min(value, maxWaitMs);
}

/**
 * The wait of a long poll, given a waiter that was armed *before* `first` was read: reads
 * again after each change until `done`, the time is up, or the client goes away. Returns the
 * last value read.
 */
export async function readUntil<T>(
  waiter: Waiter,
  first: T,
  options: { read: () => Promise<T>; done: (value: T) => boolean; waitMs: number; signal: AbortSignal },
): Promise<T> {
  const deadline = Date.now() + options.waitMs;
  let value = first;
  while (!options.done(value) && !options.signal.aborted) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const changed = await waiter.next(left, options.signal);
    if (!changed) break;
    value = await options.read();
  }
  return value;
}
