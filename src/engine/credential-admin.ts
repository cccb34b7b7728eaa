import type { AuditOrigin } from '../core/caller.js';
import { HandoffError } from '../core/errors.js';
import { say, value } from '../core/sentence.js';
import { textLimits } from '../core/untrusted-text.js';
import type { CredentialView, RejectionResult, RevokeResult } from '../core/wire.js';
import type { CredentialRecord } from '../store/credential-store.js';
import { credentialNotFound } from './access.js';
import { refreshNow, reopenHandoff } from './credential-lifecycle.js';
import type { EngineDeps } from './engine-deps.js';
import { serviceLabel } from './notices.js';

/**
 * What operators and agents do with credentials besides using them: list them (never the
 * secret), revoke one (at the service where the protocol allows, then here), and report one
 * the service rejected (refresh it, or re-open the login in its thread).
 */
export function toCredentialView(r: CredentialRecord): CredentialView {
  return {
    id: r.id,
    service: r.service,
    serviceName: r.serviceName ?? null,
    protocol: r.protocol,
    scopes: r.scopes,
    expiresAt: r.expiresAt ?? null,
    agentId: r.agentId,
    thread: r.thread,
    handoffId: r.handoffId,
    createdAt: r.createdAt,
    refreshedAt: r.refreshedAt ?? null,
    lastRetrievedAt: r.retrievedAt ?? null,
    needsLogin: r.needsLogin ?? null,
  };
}

async function credentialOrThrow(deps: EngineDeps, id: string): Promise<CredentialRecord> {
  const record = await deps.credentials.get(id);
  if (!record) throw credentialNotFound(id);
  return record;
}

export async function listCredentials(
  deps: EngineDeps,
  filter: { agentId?: string; limit: number },
): Promise<CredentialView[]> {
  const records = filter.agentId
    ? await deps.credentials.listOf(filter.agentId, filter.limit)
    : await deps.credentials.list(filter.limit);
  return records.map(toCredentialView);
}

/**
 * Revokes at the service where the protocol allows, then deletes from the vault either way
 * (an operator who revokes wants the bridge to stop handing it out), tells the thread, audits.
 */
/** `by` names the revoker in the thread's notice; `reason` (e.g. `idle`) goes into the audit entry. */
export async function revokeCredential(
  deps: EngineDeps,
  id: string,
  origin: AuditOrigin,
  by = 'the agent API',
  reason?: string,
): Promise<RevokeResult> {
  const record = await credentialOrThrow(deps, id);
  const secret = await deps.credentials.secret(id);
  // A protocol this bridge no longer runs (taken out of the config) cannot revoke: deleted here all the same.
  const protocol = deps.protocols.names.includes(record.protocol) ? deps.protocols.get(record.protocol) : undefined;
  const correlationId = (await deps.store.get(record.handoffId))?.correlationId ?? record.handoffId;
  let atService: RevokeResult['atService'] = protocol?.revoke && secret ? 'revoked' : 'not_supported';
  let serviceError: string | undefined;
  if (protocol?.revoke && secret) {
    try {
      await protocol.revoke(secret, record.service, { agentId: record.agentId, correlationId });
    } catch (err) {
      atService = 'failed';
      serviceError = err instanceof HandoffError ? err.code : 'internal_error';
      deps.logger.warn('revoking at the service failed', { credentialId: id, error: err });
    }
  }
  await deps.credentials.delete(id);
  await deps.audit.append({
    event: 'credential.revoked',
    handoffId: record.handoffId,
    agentId: record.agentId,
    correlationId,
    ...origin,
    detail: { credentialId: id, atService, ...(serviceError ? { serviceError } : {}), ...(reason ? { reason } : {}) },
  });
  const name = serviceLabel(record);
  const where =
    atService === 'revoked'
      ? say` at ${name} and`
      : atService === 'failed'
        ? say` here (${name} could not be reached to revoke it there) and`
        : [];
  await deps.outbox.send({
    kind: 'post',
    handoffId: record.handoffId,
    thread: record.thread,
    message: {
      kind: 'notice',
      handoffId: record.handoffId,
      event: 'info',
      text: say`🔒 The ${name} credential of agent ${value(record.agentId, textLimits.id)} (from handoff ${value(record.handoffId, textLimits.id)}) was revoked by ${value(by, textLimits.id)}${where} deleted from the bridge. The agent can no longer use it.`,
    },
  });
  return { credential: toCredentialView(record), atService, ...(serviceError ? { serviceError } : {}) };
}

/**
 * The service answered 401 to this credential. Refresh it when the protocol can; otherwise
 * (or when the refresh is refused) re-open the login in its thread, linked to the old one.
 * A transient failure of the refresh is thrown (the agent may report again): one outage of
 * the service's token endpoint must not cost the human a new approval.
 */
export async function reportRejected(deps: EngineDeps, id: string, origin: AuditOrigin): Promise<RejectionResult> {
  const record = await credentialOrThrow(deps, id);
  if (record.needsLogin)
    return {
      status: 'reopened',
      handoffId: (await reopenHandoff(deps, record, { code: record.needsLogin, origin })).id,
    };
  const secret = await deps.credentials.secret(id);
  const protocol = deps.protocols.get(record.protocol);
  if (protocol.refresh && secret?.refreshToken) {
    const outcome = await refreshNow(deps, id, origin);
    if (outcome.kind === 'refreshed' || outcome.kind === 'busy') return { status: 'refreshed' };
    if (outcome.kind === 'reopened') return { status: 'reopened', handoffId: outcome.handoff.id };
  }
  const current = await deps.credentials.get(id);
  if (!current) throw credentialNotFound(id);
  const reopened = await reopenHandoff(deps, current, { code: 'rejected_by_service', origin });
  return { status: 'reopened', handoffId: reopened.id };
}
