import { describeDuration } from '../core/clock.js';
import type { CredentialRecord } from '../store/credential-store.js';
import { revokeCredential } from './credential-admin.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * Credentials do not live forever: `HANDOFF_CREDENTIAL_MAX_AGE_MS` after it was issued, or
 * `HANDOFF_CREDENTIAL_IDLE_MS` after it was last handed out (or issued, if never), a credential
 * is revoked at the service, deleted and audited, and its thread is told. The sweep
 * (credential-sweep.ts) finds those past either limit about a second after it; a retrieval
 * also checks, so a late sweep never hands out a credential past its life.
 */
export type Retirement = { readonly at: number; readonly reason: 'max_age' | 'idle' };

/** When the credential must go, or undefined when neither limit is set. */
export function retirementOf(deps: EngineDeps, record: CredentialRecord): Retirement | undefined {
  const maxAge = deps.policy.credentialMaxAgeMs ?? 0;
  const idle = deps.policy.credentialIdleMs ?? 0;
  const candidates: Retirement[] = [];
  if (maxAge > 0) candidates.push({ at: record.createdAt + maxAge, reason: 'max_age' });
  if (idle > 0) candidates.push({ at: (record.retrievedAt ?? record.createdAt) + idle, reason: 'idle' });
  return candidates.sort((a, b) => a.at - b.at)[0];
}

function reasonText(deps: EngineDeps, reason: Retirement['reason']): string {
  return reason === 'max_age'
    ? `the bridge: it reached its maximum age of ${describeDuration(deps.policy.credentialMaxAgeMs ?? 0)}`
    : `the bridge: nobody used it for ${describeDuration(deps.policy.credentialIdleMs ?? 0)}`;
}

/**
 * Retires the credential when its time has come; true when it did. `stored`: the record the
 * caller has just read (saves reading it again).
 */
export async function retireIfDue(deps: EngineDeps, credentialId: string, stored?: CredentialRecord): Promise<boolean> {
  const record = stored ?? (await deps.credentials.get(credentialId));
  const due = record && retirementOf(deps, record);
  if (!due || deps.clock.now() < due.at) return false;
  await revokeCredential(deps, credentialId, { actor: 'bridge:lifetime' }, reasonText(deps, due.reason), due.reason);
  return true;
}

/**
 * A `retire` job queued by an older bridge (one per credential, before the sweep): retires the
 * credential when due, else puts it in the last-use index, where the sweep finds it from now on.
 */
export async function runQueuedRetirement(deps: EngineDeps, credentialId: string): Promise<'retired' | 'swept'> {
  if (await retireIfDue(deps, credentialId)) return 'retired';
  await deps.credentials.reindexLastUse(credentialId);
  return 'swept';
}
