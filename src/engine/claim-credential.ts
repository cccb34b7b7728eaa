import type { HandoffRecord } from '../core/handoff.js';
import type { IssuedCredential } from '../core/login-protocol.js';
import type { CredentialRecord } from '../store/credential-store.js';
import { scheduleRefresh } from './credential-lifecycle.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * Stores the credential a claim obtained under the id fixed at claim time, and schedules its
 * refresh (its retirement needs no schedule: credential-sweep.ts). A retry that finds it stored
 * finishes without asking the service.
 */
export async function storeClaimedCredential(
  deps: EngineDeps,
  record: HandoffRecord,
  id: string,
  credential: IssuedCredential,
): Promise<void> {
  const stored: CredentialRecord = {
    id,
    handoffId: record.id,
    service: record.service,
    protocol: deps.protocols.get(record.protocol).name,
    ...(record.serviceName ? { serviceName: record.serviceName } : {}),
    scopes: credential.scopes,
    ...(credential.expiresAt !== undefined ? { expiresAt: credential.expiresAt } : {}),
    agentId: record.agentId,
    thread: record.thread,
    createdAt: deps.clock.now(),
  };
  await deps.credentials.put(stored, credential);
  await scheduleRefresh(deps, id, credential, record.protocol);
}

/**
 * A claim that found its credential already stored (a worker died after storing it) schedules
 * its refresh again: the crash may have come before it was. The job id is fixed by credential
 * and expiry, so when it was scheduled this adds nothing.
 */
export async function rescheduleStoredCredential(
  deps: EngineDeps,
  record: HandoffRecord,
  stored: CredentialRecord,
): Promise<void> {
  const secret = await deps.credentials.secret(stored.id);
  if (secret) await scheduleRefresh(deps, stored.id, secret, record.protocol);
}
