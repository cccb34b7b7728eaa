import { ConflictError, NotFoundError } from '../core/errors.js';
import type { EngineDeps } from './engine-deps.js';
import { getHandoff } from './handoff-service.js';

/** The one deliberate way a credential leaves the bridge: to its owner, audited. */
export interface RetrievedCredential {
  readonly credentialId: string;
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly scopes: readonly string[];
  /** Epoch ms, or null when it does not expire. */
  readonly expiresAt: number | null;
}

export async function retrieveCredential(deps: EngineDeps, handoffId: string, actor: string): Promise<RetrievedCredential> {
  const record = await getHandoff(deps, handoffId);
  if (record.status !== 'completed' || !record.credentialId) {
    throw new ConflictError(`Handoff ${handoffId} is ${record.status}; a credential exists only once it is completed.`, 'handoff_not_completed', {
      status: record.status,
    });
  }
  const secret = await deps.credentials.secret(record.credentialId);
  if (!secret) throw new NotFoundError('The credential from this handoff was revoked or deleted.', 'credential_not_found');
  await deps.audit.append({
    event: 'credential.retrieved',
    handoffId,
    agentId: record.agentId,
    correlationId: record.correlationId,
    actor,
    detail: { credentialId: record.credentialId },
  });
  return {
    credentialId: record.credentialId,
    accessToken: secret.accessToken,
    tokenType: 'Bearer',
    scopes: secret.scopes,
    expiresAt: secret.expiresAt ?? null,
  };
}
