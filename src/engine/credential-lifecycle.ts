import type { AuditOrigin } from '../core/caller.js';
import { HandoffError } from '../core/errors.js';
import type { HandoffRecord } from '../core/handoff.js';
import type { IssuedCredential, ProtocolName } from '../core/login-protocol.js';
import type { CredentialRecord } from '../store/credential-store.js';
import type { EngineDeps } from './engine-deps.js';
import { createHandoff } from './handoff-service.js';

/**
 * Keeping credentials alive: a refreshable credential is filed for a refresh before it
 * expires (credential-refresh-sweep.ts runs it), and a refresh also happens on the spot when
 * an agent retrieves a credential about to expire.
 * One process refreshes a credential at a time (a short Redis lock), because refresh tokens
 * rotate and a second refresh with the old one would kill the session. When a credential
 * cannot be kept alive, what happens depends on who found out. The bridge's own scheduled
 * refresh only marks it as needing a new login (the secret is deleted): nobody is asked to
 * approve anything until the owning agent next wants it. When the agent asks for it (a
 * retrieval, a reported 401), it is deleted and its handoff re-opened in the same thread,
 * linked to the old one, and the agent is told which handoff to wait for.
 */
export type RefreshOutcome =
  | { readonly kind: 'refreshed'; readonly credential: IssuedCredential }
  /** Another process is refreshing it right now. */
  | { readonly kind: 'busy' }
  /** No such credential (revoked, deleted), or the job is for an older token. */
  | { readonly kind: 'gone' }
  | { readonly kind: 'reopened'; readonly handoff: HandoffRecord }
  /** Marked as needing a new login; re-opened when its agent next asks for it. */
  | { readonly kind: 'needs_login'; readonly reason: string };

/** Longest a refresh may hold the lock, ms. */
const lockMs = 30_000;

const canRefresh = (deps: EngineDeps, protocol: ProtocolName, credential: IssuedCredential) =>
  deps.protocols.get(protocol).refresh !== undefined && credential.refreshToken !== undefined;

/**
 * When a credential just issued or refreshed is due its next refresh; undefined when it does
 * not expire, cannot be refreshed, or came already expired: the service's answer is not taken
 * as a reason to call it again at once (a sweep a second, for ever); the agent's next
 * retrieval refreshes it on the spot, or re-opens the login.
 */
export function refreshAtOf(
  deps: EngineDeps,
  credential: IssuedCredential,
  protocol: ProtocolName | 'auto',
): number | undefined {
  if (protocol === 'auto' || credential.expiresAt === undefined || !canRefresh(deps, protocol, credential)) return;
  const life = credential.expiresAt - deps.clock.now();
  if (life <= 0) return;
  // Before expiry by the configured margin, but never in the first three quarters of its life.
  return Math.round(credential.expiresAt - Math.min(deps.policy.refreshBeforeMs, life / 4));
}

/**
 * The credential no longer works: delete it and re-open its handoff in the same thread with
 * the same agent and approvers (once per credential: a second report returns the same one).
 */
export async function reopenHandoff(
  deps: EngineDeps,
  record: CredentialRecord,
  reason: { code: string; origin: AuditOrigin },
): Promise<HandoffRecord> {
  const old = await deps.store.get(record.handoffId);
  await deps.credentials.delete(record.id);
  await deps.audit.append({
    event: 'credential.dead',
    handoffId: record.handoffId,
    agentId: record.agentId,
    ...(old ? { correlationId: old.correlationId } : {}),
    ...reason.origin,
    detail: { credentialId: record.id, reason: reason.code },
  });
  const { record: reopened } = await createHandoff(
    deps,
    {
      service: record.service,
      protocol: record.protocol,
      thread: record.thread,
      approvers: [...(old?.approvers ?? [])],
      ...(old?.approverEmail ? { approverEmail: old.approverEmail } : {}),
      agent: { id: record.agentId, ...(old ? { correlationId: old.correlationId } : {}) },
      scopes: [...(old?.scopes ?? record.scopes)],
      idempotencyKey: `reopen-${record.id}`,
      // The credential just died: a person is asked, whatever grant the agent holds.
      reuse: 'never',
    },
    {
      previousHandoffId: record.handoffId,
      ...((old?.serviceName ?? record.serviceName) ? { serviceName: old?.serviceName ?? record.serviceName } : {}),
      ...(old?.serviceLogoUrl ? { serviceLogoUrl: old.serviceLogoUrl } : {}),
      origin: reason.origin,
    },
  );
  return reopened;
}

/** The credential stopped working on its own: forget the secret, keep the record, ask nobody yet. */
async function markNeedsLogin(
  deps: EngineDeps,
  record: CredentialRecord,
  code: string,
  origin: AuditOrigin,
): Promise<void> {
  await deps.credentials.markNeedsLogin(record.id, code);
  const old = await deps.store.get(record.handoffId);
  await deps.audit.append({
    event: 'credential.dead',
    handoffId: record.handoffId,
    agentId: record.agentId,
    ...(old ? { correlationId: old.correlationId } : {}),
    ...origin,
    detail: { credentialId: record.id, reason: code, reopens: 'when the agent next asks for it' },
  });
}

/**
 * Refreshes now. A refusal (4xx) — or a transient failure when `finalAttempt` — ends the
 * credential: re-opened at once when `onDead` is `reopen` (the agent is asking), else marked
 * as needing a new login. Other transient failures are thrown for the caller's retry.
 */
export async function refreshNow(
  deps: EngineDeps,
  credentialId: string,
  origin: AuditOrigin,
  options: { finalAttempt?: boolean; onDead?: 'reopen' | 'mark' } = {},
): Promise<RefreshOutcome> {
  const dead = async (record: CredentialRecord, code: string): Promise<RefreshOutcome> => {
    if (options.onDead !== 'mark')
      return { kind: 'reopened', handoff: await reopenHandoff(deps, record, { code, origin }) };
    await markNeedsLogin(deps, record, code, origin);
    return { kind: 'needs_login', reason: code };
  };
  const token = await deps.credentials.lock(credentialId, lockMs);
  if (!token) return { kind: 'busy' };
  try {
    const record = await deps.credentials.get(credentialId);
    const secret = record ? await deps.credentials.secret(credentialId) : undefined;
    if (!record || !secret) return { kind: 'gone' };
    if (!canRefresh(deps, record.protocol, secret)) {
      return dead(record, 'not_refreshable');
    }
    const correlationId = (await deps.store.get(record.handoffId))?.correlationId ?? record.handoffId;
    let fresh: IssuedCredential;
    try {
      fresh = await deps.protocols.get(record.protocol).refresh!(secret, record.service, {
        agentId: record.agentId,
        correlationId,
      });
    } catch (err) {
      const e = err instanceof HandoffError ? err : undefined;
      // A rate limit is waited out by the job (it spends no attempt), never a reason to give up on the credential.
      if (e && (e.retry === 'never' || (options.finalAttempt && e.retry !== 'after_delay'))) {
        return dead(record, e.code);
      }
      throw err;
    }
    await deps.credentials.replaceSecret(
      credentialId,
      fresh,
      deps.clock.now(),
      refreshAtOf(deps, fresh, record.protocol),
    );
    await deps.audit.append({
      event: 'credential.refreshed',
      handoffId: record.handoffId,
      agentId: record.agentId,
      ...origin,
      detail: { credentialId, ...(fresh.expiresAt !== undefined ? { expiresAt: fresh.expiresAt } : {}) },
    });
    return { kind: 'refreshed', credential: fresh };
  } finally {
    await deps.credentials.unlock(credentialId, token);
  }
}

/**
 * A `refresh` job queued by an older bridge (one per credential and expiry): refreshes unless
 * the credential is gone or the job is for an older token. The refresh files the credential
 * for the next one in the refresh index, where the sweep takes over.
 */
export async function runScheduledRefresh(
  deps: EngineDeps,
  credentialId: string,
  generation: number,
  finalAttempt: boolean,
): Promise<RefreshOutcome> {
  const record = await deps.credentials.get(credentialId);
  if (!record || record.expiresAt !== generation) return { kind: 'gone' };
  // `busy`: someone else is refreshing it right now, and their refresh schedules the next job.
  return refreshNow(deps, credentialId, { actor: 'bridge:refresh' }, { finalAttempt, onDead: 'mark' });
}
