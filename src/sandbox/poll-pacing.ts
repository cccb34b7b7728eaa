/** A request a token endpoint is polled for, as the device flow and CIBA sandboxes keep it. */
export interface PolledRequest {
  status: 'pending' | 'approved' | 'denied' | 'used';
  expiresAt: number;
  /** Current minimum poll interval, seconds. */
  interval: number;
  lastPollAt?: number;
  polls: number;
  slowDowns: number;
}

export type PendingPollError = 'expired_token' | 'slow_down' | 'access_denied' | 'authorization_pending';

/**
 * The answer to one poll of a known request before any token (RFC 8628 §3.5; CIBA §11 the
 * same): expired, too soon (the interval then grows by 5 s), denied or still pending; or
 * nothing when it is approved, which marks it used (single use). Counts the poll.
 */
export function pacePoll(found: PolledRequest, now: number): PendingPollError | undefined {
  found.polls += 1;
  if (now >= found.expiresAt) return 'expired_token';
  const tooSoon = found.lastPollAt !== undefined && now - found.lastPollAt < found.interval * 1000;
  found.lastPollAt = now;
  if (tooSoon) {
    found.interval += 5;
    found.slowDowns += 1;
    return 'slow_down';
  }
  if (found.status === 'denied') return 'access_denied';
  if (found.status === 'pending') return 'authorization_pending';
  found.status = 'used';
  return undefined;
}
