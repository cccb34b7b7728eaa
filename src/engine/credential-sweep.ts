import { retireIfDue } from './credential-expiry.js';
import type { EngineDeps } from './engine-deps.js';

/** Credentials looked at per index and sweep; more wait for the next sweep, a tick later. */
export const sweepBatch = 100;

/** Longest one sweep may hold the sweep lock, ms; a crashed sweeper frees it after this. */
const sweepLockMs = 60_000;

/**
 * Credentials whose retirement failed, held back for a while so one that keeps failing is
 * neither retried nor logged every second, nor stands in front of the others: id → the
 * failures so far and when to try again. One per process.
 */
export type SweepBackoff = Map<string, { readonly failures: number; readonly retryAt: number }>;

/** First wait after a failed retirement, ms; it doubles with each failure, up to an hour. */
const firstRetryMs = 60_000;
const lastRetryMs = 3_600_000;

export interface SweepOutcome {
  /** False when another process was sweeping: this one did nothing. */
  readonly swept: boolean;
  readonly retired: number;
  /** Past their life by the indexes but not by their record: a retrieval moved the idle deadline meanwhile. */
  readonly kept: number;
  /** Whose retirement failed; held back (`SweepBackoff`), then tried again. */
  readonly failed: number;
}

/**
 * Credentials do not wait for a job of their own to end them: the store's two indexes (by
 * creation and by last use, written with the credential and with each retrieval) say which
 * are past `HANDOFF_CREDENTIAL_MAX_AGE_MS` or `HANDOFF_CREDENTIAL_IDLE_MS` now, and a sweep a
 * second retires them (credential-expiry.ts decides from the record, not the index). Nothing
 * is scheduled per credential, so nothing can be lost: a credential stays in the indexes until
 * it is deleted, and one whose retirement fails is tried again a minute later (then 2, 4…
 * minutes, up to an hour) while the others go on. Limits changed in the config apply to
 * credentials already stored. One process sweeps at a time.
 */
export async function sweepCredentials(deps: EngineDeps, backoff: SweepBackoff = new Map()): Promise<SweepOutcome> {
  const maxAge = deps.policy.credentialMaxAgeMs ?? 0;
  const idle = deps.policy.credentialIdleMs ?? 0;
  const outcome = { swept: true, retired: 0, kept: 0, failed: 0 };
  if (maxAge <= 0 && idle <= 0) return outcome;
  const token = await deps.credentials.lockSweep(sweepLockMs);
  if (!token) return { ...outcome, swept: false };
  try {
    const now = deps.clock.now();
    const held = (id: string) => (backoff.get(id)?.retryAt ?? 0) > now;
    const found = await deps.credentials.pastLife(
      { ...(maxAge > 0 ? { createdBefore: now - maxAge } : {}), ...(idle > 0 ? { usedBefore: now - idle } : {}) },
      sweepBatch + backoff.size,
    );
    for (const id of found.filter((id) => !held(id)).slice(0, sweepBatch)) {
      try {
        const record = await deps.credentials.get(id);
        // Only in an index (its record deleted by an older bridge): out of the indexes too.
        if (!record) await deps.credentials.delete(id);
        else if (await retireIfDue(deps, id, record)) outcome.retired += 1;
        else {
          await deps.credentials.reindexLastUse(id);
          outcome.kept += 1;
        }
        backoff.delete(id);
      } catch (err) {
        outcome.failed += 1;
        const failures = (backoff.get(id)?.failures ?? 0) + 1;
        const retryInMs = Math.min(lastRetryMs, firstRetryMs * 2 ** (failures - 1));
        backoff.set(id, { failures, retryAt: now + retryInMs });
        deps.logger.warn('credential retirement failed', { credentialId: id, failures, retryInMs, error: err });
      }
    }
    // Gone by other hands, or due no more: nothing to hold back.
    for (const id of backoff.keys()) if (!held(id) && !found.includes(id)) backoff.delete(id);
    return outcome;
  } finally {
    await deps.credentials.unlockSweep(token);
  }
}
