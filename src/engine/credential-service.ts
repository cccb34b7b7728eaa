import type { AuditOrigin } from '../core/caller.js';
import { ConflictError, NotFoundError } from '../core/errors.js';
import type { IssuedCredential } from '../core/login-protocol.js';
import type { RetrievedCredential } from '../core/wire.js';
import { retireIfDue } from './credential-expiry.js';
import { refreshNow, reopenHandoff } from './credential-lifecycle.js';
import type { EngineDeps } from './engine-deps.js';
import type { HandoffRecord } from '../core/handoff.js';

/** The one deliberate way a credential leaves the bridge: to its owner, audited. */
/**
 * A credential closer than this to its expiry is refreshed before it is handed out, ms: a
 * minute, or the refresh margin when that is shorter.
 */
export const liveMarginMs = 60_000;

/** How long a retrieval waits for another process's refresh of the same credential, ms. */
const busyWaitMs = 10_000;

function expired(credentialId: string, handoffId: string): ConflictError {
  return new ConflictError(
    `Credential ${credentialId} expired and could not be renewed; the login was re-opened in its thread as handoff ${handoffId}.`,
    'credential_expired',
    { reopenedHandoffId: handoffId },
  );
}

/**
 * The credential as it is now, made live first: refreshed when it is about to expire and the
 * protocol can refresh it; when it cannot be kept alive, the handoff is re-opened in its
 * thread and the caller gets `credential_expired` naming the new handoff.
 */
async function liveSecret(
  deps: EngineDeps,
  credentialId: string,
  origin: AuditOrigin,
): Promise<IssuedCredential | undefined> {
  const deadline = deps.clock.now() + busyWaitMs;
  for (;;) {
    const secret = await deps.credentials.secret(credentialId);
    const margin = Math.min(liveMarginMs, deps.policy.refreshBeforeMs);
    if (!secret || secret.expiresAt === undefined || secret.expiresAt - deps.clock.now() > margin) return secret;
    const record = await deps.credentials.get(credentialId);
    if (!record) return undefined;
    const protocol = deps.protocols.get(record.protocol);
    if (!protocol.refresh || !secret.refreshToken) {
      if (deps.clock.now() < secret.expiresAt) return secret; // short-lived, but still live
      throw expired(credentialId, (await reopenHandoff(deps, record, { code: 'expired', origin })).id);
    }
    const outcome = await refreshNow(deps, credentialId, origin);
    switch (outcome.kind) {
      case 'refreshed':
        return outcome.credential;
      case 'gone':
        return undefined;
      case 'reopened':
        throw expired(credentialId, outcome.handoff.id);
      case 'needs_login':
        // Only the bridge's own refresh marks; this one re-opens (onDead defaults to reopen).
        return undefined;
      case 'busy':
        if (deps.clock.now() > deadline) return secret;
        await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The live secret of `record`'s credential, for a caller already allowed to read `record`. */
export async function retrieveCredential(
  deps: EngineDeps,
  record: HandoffRecord,
  origin: AuditOrigin,
): Promise<RetrievedCredential> {
  const handoffId = record.id;
  if (record.status !== 'completed' || !record.credentialId) {
    throw new ConflictError(
      `Handoff ${handoffId} is ${record.status}; a credential exists only once it is completed.`,
      'handoff_not_completed',
      {
        status: record.status,
      },
    );
  }
  const gone = () =>
    new NotFoundError('The credential from this handoff was revoked or deleted.', 'credential_not_found');
  const stored = await deps.credentials.get(record.credentialId);
  if (!stored || (await retireIfDue(deps, record.credentialId, stored))) throw gone();
  // It stopped working while nobody needed it: now its agent does, so the login is re-opened.
  if (stored.needsLogin)
    throw expired(stored.id, (await reopenHandoff(deps, stored, { code: stored.needsLogin, origin })).id);
  const secret = await liveSecret(deps, record.credentialId, origin);
  if (!secret) throw gone();
  await deps.credentials.touch(record.credentialId, deps.clock.now());
  await deps.audit.append({
    event: 'credential.retrieved',
    handoffId,
    agentId: record.agentId,
    correlationId: record.correlationId,
    ...origin,
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
