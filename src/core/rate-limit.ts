/**
 * How long to wait when a service or platform says "slow down" (429, a secondary rate limit,
 * `Retry-After`): as long as it asked, but at least a second (a `Retry-After: 0` must not
 * become a hot loop) and at most 15 minutes (a hostile `Retry-After: 99999999` must not park
 * work forever), and never past the moment the work stops mattering (a handoff's expiry).
 */
export const minRateLimitWaitMs = 1_000;
export const maxRateLimitWaitMs = 15 * 60_000;

/** `leftMs`: time until the work no longer matters (e.g. the handoff expires); the wait ends there. */
export function rateLimitWaitMs(retryAfterMs: number | undefined, leftMs = Number.POSITIVE_INFINITY): number {
  const asked = Number.isFinite(retryAfterMs) ? Math.max(minRateLimitWaitMs, retryAfterMs!) : minRateLimitWaitMs;
  return Math.max(0, Math.min(asked, maxRateLimitWaitMs, leftMs));
}
