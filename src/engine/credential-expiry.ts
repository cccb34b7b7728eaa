import { describeDuration } from '../core/clock.js';
import type { CredentialRecord } from '../store/credential-store.js';
import { revokeCredential } from './credential-admin.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * Credentials do not live forever: `HANDOFF_CREDENTIAL_MAX_AGE_MS` after it was issued, or
 * `HANDOFF_CREDENTIAL_IDLE_MS` after it was last handed out (or issued, if never), a credential
 * is revoked at the service, deleted and audited, and its thread is told. A delayed job on
 * the `credentials` queue checks at the earlier of the two; a retrieval in between only
 * moves the idle deadline, so the job looks again and sleeps until the new one. A retrieval
 * also checks, so a late job never hands out a credential past its life.
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

/**
 * Schedules the check of a credential's life (a no-op when already scheduled for that time).
 * `stored`: the record just written, when the caller has it (saves reading it back).
 */
export async function scheduleRetirement(
  deps: EngineDeps,
  credentialId: string,
  stored?: CredentialRecord,
): Promise<void> {
  const record = stored ?? (await deps.credentials.get(credentialId));
  const due = record && retirementOf(deps, record);
  if (due) await deps.credentialJobs.scheduleRetirement(credentialId, due.at);
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

/** The delayed job scheduled for `scheduledAt`: retire it, or sleep until the (moved) deadline. */
export async function runRetirementCheck(
  deps: EngineDeps,
  credentialId: string,
  scheduledAt: number,
): Promise<'retired' | 'rescheduled' | 'gone'> {
  if (await retireIfDue(deps, credentialId)) return 'retired';
  const record = await deps.credentials.get(credentialId);
  const due = record && retirementOf(deps, record);
  if (!due) return 'gone';
  // Woken a moment early (clocks differ): the same time would be this very job's id, a no-op.
  await deps.credentialJobs.scheduleRetirement(credentialId, due.at > scheduledAt ? due.at : scheduledAt + 1_000);
  return 'rescheduled';
}
