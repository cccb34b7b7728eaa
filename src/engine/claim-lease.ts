import type { HandoffRecord } from '../core/handoff.js';
import { newId } from '../core/ids.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * Holding a claim: the compare-and-set from `awaiting_human` to `claiming` that admits one
 * claimant, the resumption of a claim by the same job after a crash, the lease renewed while
 * the service is asked, and the release that hands the claim back.
 */

/** Default claim lease, ms: see EnginePolicy.claimLeaseMs. */
export const defaultClaimLeaseMs = 60_000;
export const claimLeaseMs = (deps: EngineDeps): number => deps.policy.claimLeaseMs ?? defaultClaimLeaseMs;

/**
 * Runs `work` (the exchange with the service) while renewing the claim's lease every third of
 * it, so the driver never takes a slow exchange for a dead worker's and releases it to a
 * second claimant (which would exchange the code again). Each renewal is a compare-and-set on
 * the version the last one left: when anything else moved the record, renewing stops.
 */
export async function whileLeased<T>(deps: EngineDeps, held: HandoffRecord, work: () => Promise<T>): Promise<T> {
  let version = held.version;
  let renewing = Promise.resolve();
  const timer = setInterval(
    () => {
      renewing = renewing.then(async () => {
        const renewed = await deps.store
          .transition(held.id, { from: ['claiming'], expectVersion: version, set: {} })
          .catch(() => undefined);
        if (renewed?.ok) version = renewed.record.version;
        else clearInterval(timer);
      });
    },
    Math.max(100, Math.floor(claimLeaseMs(deps) / 3)),
  );
  try {
    return await work();
  } finally {
    clearInterval(timer);
    await renewing;
  }
}

/**
 * Takes the claim for the job `jobId`, fixing the credential id it will store under; the same
 * job's retry gets its own claim back. Undefined: someone else holds it, or the handoff ended.
 * `newCredentialId`: the credential id was drawn by this very call, so nothing can be stored
 * under it yet (a claim released after a crash keeps its id, and a retry resumes with it).
 */
export async function acquireClaim(
  deps: EngineDeps,
  record: HandoffRecord,
  jobId: string,
): Promise<{ held: HandoffRecord; newCredentialId: boolean } | undefined> {
  if (record.status === 'claiming' && record.claimedBy === jobId) return { held: record, newCredentialId: false };
  const credentialId = record.credentialId ?? newId('credential');
  const result = await deps.store.transition(record.id, {
    to: 'claiming',
    from: ['awaiting_human'],
    set: { claimedBy: jobId, credentialId },
  });
  if (result.ok)
    return {
      held: result.record,
      newCredentialId: record.credentialId === undefined && result.record.credentialId === credentialId,
    };
  if (result.reason === 'conflict' && result.record.status === 'claiming' && result.record.claimedBy === jobId)
    return { held: result.record, newCredentialId: false };
  return undefined;
}

/** Gives a claim back after a transport failure, so the next try can take it. */
export async function releaseClaim(
  deps: EngineDeps,
  record: HandoffRecord,
  set: { attempts?: number; notBefore?: number } = {},
): Promise<HandoffRecord> {
  const result = await deps.store.transition(record.id, {
    to: 'awaiting_human',
    from: ['claiming'],
    set: { ...set, claimedBy: undefined },
  });
  return result.ok ? result.record : record;
}
