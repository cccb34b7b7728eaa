import { asHandoffError } from '../core/errors.js';
import { rateLimitWaitMs } from '../core/rate-limit.js';
import { refreshNow } from './credential-lifecycle.js';
import type { EngineDeps } from './engine-deps.js';

/** Refreshes taken per sweep; more wait for the next sweep, a tick later. */
export const refreshBatch = 100;
/** Refreshes one sweep runs at once. */
const parallel = 8;
/** A taken refresh's lease: one whose sweeper died comes due again after this. */
export const refreshLeaseMs = 60_000;
/** Attempts before a credential that cannot be refreshed is marked as needing a new login. */
export const refreshAttempts = 6;
/** Wait after a failed attempt: 5 s, doubling with each failure (5, 10, 20, 40, 80 s). */
const firstRetryMs = 5_000;

export type RefreshSweepResult = 'refreshed' | 'needs_login' | 'busy' | 'gone' | 'retry' | 'rate_limited';

/**
 * Keeping credentials alive without a delayed job each: a refreshable credential is filed in
 * the store's refresh index, by when its next refresh is due, in the same write that stores
 * it or its refreshed secret (credential-lifecycle.ts `refreshAtOf`). A sweep a second takes
 * the ones due within `aheadMs` (the tick: a refresh is never later for the sweep's step, at
 * most that much earlier), each under a lease so several processes never take the same one,
 * and refreshes them. A failure puts the next try off (5 s, doubling) and is counted on the
 * credential; the sixth attempt that fails marks it as needing a new login, as a refused
 * refresh does. A rate limit is waited out without spending an attempt. `busy`: a retrieval
 * is refreshing it right now, and files the next refresh itself; if that fails, the lease
 * brings it back.
 */
export async function sweepRefreshes(deps: EngineDeps, aheadMs: number): Promise<Map<string, RefreshSweepResult>> {
  const ids = await deps.credentials.claimRefreshes(deps.clock.now() + aheadMs, refreshBatch, refreshLeaseMs);
  const results = new Map<string, RefreshSweepResult>();
  let next = 0;
  const lane = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      results.set(id, await refreshFiled(deps, id));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, ids.length) }, lane));
  return results;
}

async function refreshFiled(deps: EngineDeps, id: string): Promise<RefreshSweepResult> {
  const record = await deps.credentials.get(id);
  if (!record) {
    await deps.credentials.dropRefresh(id);
    return 'gone';
  }
  const failures = record.refreshFailures ?? 0;
  try {
    const outcome = await refreshNow(
      deps,
      id,
      { actor: 'bridge:refresh' },
      { finalAttempt: failures + 1 >= refreshAttempts, onDead: 'mark' },
    );
    // Refreshed: filed for the next one. Needs a login: taken out of the index with its secret.
    if (outcome.kind === 'refreshed' || outcome.kind === 'needs_login' || outcome.kind === 'busy') return outcome.kind;
    await deps.credentials.dropRefresh(id);
    return 'gone';
  } catch (err) {
    const e = asHandoffError(err);
    const now = deps.clock.now();
    if (e.retry === 'after_delay') {
      const waitMs = rateLimitWaitMs(e.retryAfterMs);
      await deps.credentials.deferRefresh(id, now + waitMs, false);
      deps.logger.info('credential refresh waits out a rate limit', { credentialId: id, retryInMs: waitMs });
      return 'rate_limited';
    }
    const retryInMs = firstRetryMs * 2 ** failures;
    await deps.credentials.deferRefresh(id, now + retryInMs, true);
    deps.logger.warn('credential refresh failed', { credentialId: id, attempt: failures + 1, retryInMs, error: err });
    return 'retry';
  }
}
