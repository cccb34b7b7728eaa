import type { HandoffRecord } from '../core/handoff.js';
import type { IssuedCredential } from '../core/login-protocol.js';
import type { CredentialRecord } from '../store/credential-store.js';
import { scheduleRetirement } from './credential-expiry.js';
import { scheduleRefresh } from './credential-lifecycle.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * Stores the credential a claim obtained under the id fixed at claim time, and schedules its
 * refresh and retirement. A retry that finds it stored finishes without asking the service.
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
  // Together: one write to Redis, one round trip.
  await Promise.all([scheduleRefresh(deps, id, credential, record.protocol), scheduleRetirement(deps, id, stored)]);
}

/**
 * A claim that found its credential already stored (a worker died after storing it) schedules
 * its refresh and retirement again: the crash may have come before they were. Their job ids are
 * fixed by credential (and expiry), so when they were scheduled this adds nothing.
 */
export async function rescheduleStoredCredential(
  deps: EngineDeps,
  record: HandoffRecord,
  stored: CredentialRecord,
): Promise<void> {
  const secret = await deps.credentials.secret(stored.id);
  if (secret) await scheduleRefresh(deps, stored.id, secret, record.protocol);
  await scheduleRetirement(deps, stored.id, stored);
}
