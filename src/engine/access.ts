import { mayActFor, originOf, type ApiCall } from '../core/caller.js';
import { NotFoundError } from '../core/errors.js';
import type { HandoffRecord } from '../core/handoff.js';
import type { CredentialRecord } from '../store/credential-store.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * Isolation between agents: an agent key reaches only its own handoffs and credentials. Anyone
 * else's answers exactly like an id that does not exist (the same 404, code and sentence), so
 * an agent cannot learn what others have; the attempt is audited with the caller, and names
 * the owner, so the operator sees who tried whose.
 */
export type AccessAction = 'read' | 'wait' | 'credential' | 'cancel' | 'extend' | 'revoke' | 'report_rejected';

export const handoffNotFound = (id: string) =>
  new NotFoundError(
    `No handoff ${id.slice(0, 40)} exists (finished handoffs are kept for 7 days).`,
    'handoff_not_found',
  );
export const credentialNotFound = (id: string) =>
  new NotFoundError(`No credential ${id.slice(0, 40)} exists (it may have been revoked).`, 'credential_not_found');

async function denied(
  deps: EngineDeps,
  call: ApiCall,
  action: AccessAction,
  owner: string,
  what: { handoffId: string; credentialId?: string },
): Promise<void> {
  await deps.audit.append({
    event: 'access.denied',
    handoffId: what.handoffId,
    agentId: owner,
    ...originOf(call),
    detail: { action, ...(what.credentialId ? { credentialId: what.credentialId } : {}) },
  });
}

/** The handoff, when the caller may act on it; else 404 as if it did not exist. */
export async function handoffFor(
  deps: EngineDeps,
  call: ApiCall,
  id: string,
  action: AccessAction,
): Promise<HandoffRecord> {
  const record = await deps.store.get(id);
  if (!record) throw handoffNotFound(id);
  if (!mayActFor(call.caller, record.agentId)) {
    await denied(deps, call, action, record.agentId, { handoffId: record.id });
    throw handoffNotFound(id);
  }
  return record;
}

/** The credential, when the caller may act on it; else 404 as if it did not exist. */
export async function credentialFor(
  deps: EngineDeps,
  call: ApiCall,
  id: string,
  action: AccessAction,
): Promise<CredentialRecord> {
  const record = await deps.credentials.get(id);
  if (!record) throw credentialNotFound(id);
  if (!mayActFor(call.caller, record.agentId)) {
    await denied(deps, call, action, record.agentId, { handoffId: record.handoffId, credentialId: record.id });
    throw credentialNotFound(id);
  }
  return record;
}
