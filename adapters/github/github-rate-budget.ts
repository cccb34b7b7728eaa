/**
 * What this process last heard about GitHub's primary rate limit (`x-ratelimit-limit`,
 * `-remaining`, `-reset` on every response, 304s included), and the poll interval that keeps
 * polling within it. GitHub counts per token or App installation; the bridge usually has one
 * of each per organisation, so one budget per auth identity is kept.
 */
export interface RateSnapshot {
  /** Requests per window (5,000/h for a token; 5,000–12,500 for an installation). */
  readonly limit: number;
  readonly remaining: number;
  /** When the window resets, epoch ms. */
  readonly resetAt: number;
}

export interface RateBudget {
  /** Records the rate-limit headers of a response (or an error's response). */
  observe(identity: string, headers: Readonly<Record<string, unknown>> | undefined): void;
  snapshot(identity: string): RateSnapshot | undefined;
  /**
   * How long a scope should rest before its next poll, ms: the base interval while the budget
   * is healthy; longer when `scopes` polls at the base interval could spend more than half of
   * what remains before the reset; until the reset once only the reserve is left.
   */
  nextPollMs(identity: string, scopes: number, baseMs: number, now: number): number;
}

/** Requests always left to posting and reactions, never spent on polling. */
export const pollReserve = (limit: number): number => Math.max(50, Math.ceil(limit * 0.05));

export function createRateBudget(): RateBudget {
  const snapshots = new Map<string, RateSnapshot>();
  return {
    observe(identity, headers) {
      if (!headers) return;
      const limit = Number(headers['x-ratelimit-limit']);
      const remaining = Number(headers['x-ratelimit-remaining']);
      const reset = Number(headers['x-ratelimit-reset']);
      if (![limit, remaining, reset].every(Number.isFinite)) return;
      snapshots.set(identity, { limit, remaining, resetAt: reset * 1000 });
    },
    snapshot: (identity) => snapshots.get(identity),
    nextPollMs(identity, scopes, baseMs, now) {
      const s = snapshots.get(identity);
      if (!s || s.resetAt <= now) return baseMs;
      const untilReset = s.resetAt - now;
      const reserve = pollReserve(s.limit);
      if (s.remaining <= reserve) return Math.max(baseMs, untilReset + 1_000);
      // Worst case every poll is a counted 200 (idle polls are free 304s, so this is cautious).
      const budget = (s.remaining - reserve) / 2;
      const pollsAtBase = (Math.max(1, scopes) * untilReset) / baseMs;
      if (pollsAtBase <= budget) return baseMs;
      return Math.min(untilReset + 1_000, Math.ceil((Math.max(1, scopes) * untilReset) / budget));
    },
  };
}
