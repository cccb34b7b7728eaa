import type { HandoffRecord } from '../core/handoff.js';
import type { IssuedCredential } from '../core/login-protocol.js';
import type { CredentialRecord } from '../store/credential-store.js';
import { refreshAtOf } from './credential-lifecycle.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * Stores the credential a claim obtained under the id fixed at claim time, filed for its first
 * refresh in the same write (credential-refresh-sweep.ts; its retirement needs no schedule:
 * credential-sweep.ts). A retry that finds it stored finishes without asking the service.
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
  await deps.credentials.put(stored, credential, refreshAtOf(deps, credential, stored.protocol));
}
