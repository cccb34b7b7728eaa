import { checkPolicy } from '../core/agent-policy.js';
import type { AuditOrigin, Caller } from '../core/caller.js';
import type { HandoffRecord } from '../core/handoff.js';
import type { ProtocolName } from '../core/login-protocol.js';
import type { ReuseMode } from '../core/wire.js';
import type { CredentialRecord } from '../store/credential-store.js';
import type { KnownAgent } from './agent-directory.js';
import { retireIfDue } from './credential-expiry.js';
import { refreshNow } from './credential-lifecycle.js';
import type { EngineDeps } from './engine-deps.js';
import { admitNewHandoff, storeNewHandoff } from './handoff-intake.js';
import type { HandoffRequest } from './handoff-request.js';

/**
 * Standing grants (issue #14): a login request with `reuse: "agent"` is answered at once by a
 * credential its agent already holds for the same service with the scopes asked for (or
 * more) — a handoff created `completed`, `reused: true`, with that credential, nothing posted
 * in any thread, audited `credential.reused`. `reuse: "thread"` takes only a credential
 * approved in the request's own thread. What may be reused, all of it checked now:
 *
 * - the same agent's, never another's (the agent's own listing, and its id checked again);
 *   not one issued before the agent's current registration (an agent removed and created
 *   again under the same id inherits nothing);
 * - the same service: the normalised URL (origin and path) equal, not a prefix;
 * - the protocol the request names, when it names one;
 * - a live one: in the vault, not retired by the bridge's age or idle limits, not marked as
 *   needing a login, and not expired — one about to expire is refreshed first, and one the
 *   service will not refresh is not reused (the request asks a person instead);
 * - one the agent's policy allows as of now: its service and the thread it was approved in.
 */
export interface GrantQuestion {
  readonly agentId: string;
  /** As `parseServiceUrl` normalised it; credentials store it the same way. */
  readonly service: string;
  readonly protocol: ProtocolName | 'auto';
  /** The request's canonical thread ref. */
  readonly thread: string;
  readonly threadIgnoresCase: boolean;
  readonly scopes: readonly string[];
  readonly mode: Exclude<ReuseMode, 'never'>;
}

/** How many of the agent's credentials (newest first) are looked at. */
export const grantScanLimit = 200;

/** Closer than this to its expiry, a credential is refreshed before it is reused, ms. */
const reuseMarginMs = 60_000;

const sameThread = (a: string, b: string, ignoreCase: boolean) =>
  ignoreCase ? a.toLowerCase() === b.toLowerCase() : a === b;

/** Whether the credential answers the question on paper (no I/O but the thread's adapter). */
function fits(
  deps: EngineDeps,
  credential: CredentialRecord,
  q: GrantQuestion,
  agent: KnownAgent | undefined,
): boolean {
  if (credential.agentId !== q.agentId || credential.service !== q.service || credential.needsLogin) return false;
  if (q.protocol !== 'auto' && credential.protocol !== q.protocol) return false;
  if (q.mode === 'thread' && !sameThread(credential.thread, q.thread, q.threadIgnoresCase)) return false;
  const held = new Set(credential.scopes);
  if (!q.scopes.every((s) => held.has(s))) return false;
  if (agent?.createdAt !== undefined && credential.createdAt < agent.createdAt) return false;
  if (!agent) return true;
  let ignoresCase: boolean;
  try {
    ignoresCase = deps.adapters.parse(credential.thread).adapter.refsIgnoreCase === true;
  } catch {
    return false; // approved on a platform this bridge no longer runs
  }
  const { approvers: _approversAreNotAsked, ...rules } = agent.policy;
  return (
    checkPolicy(agent.id, rules, {
      serviceOrigin: new URL(credential.service).origin,
      thread: credential.thread,
      approvers: [],
      threadIgnoresCase: ignoresCase,
    }) === undefined
  );
}

/** True when the credential can be handed out now (refreshed first when it is about to expire). */
async function live(deps: EngineDeps, credential: CredentialRecord, origin: AuditOrigin): Promise<boolean> {
  if (await retireIfDue(deps, credential.id)) return false;
  const secret = await deps.credentials.secret(credential.id);
  if (!secret) return false;
  const now = deps.clock.now();
  const margin = Math.min(reuseMarginMs, deps.policy.refreshBeforeMs);
  if (secret.expiresAt === undefined || secret.expiresAt - now > margin) return true;
  if (!deps.protocols.get(credential.protocol).refresh || !secret.refreshToken) return false;
  // A refusal marks it as needing a login (nobody is asked from here): this request asks instead.
  const outcome = await refreshNow(deps, credential.id, origin, { onDead: 'mark' }).catch(() => undefined);
  return outcome?.kind === 'refreshed' || (outcome?.kind === 'busy' && deps.clock.now() < secret.expiresAt);
}

/** The newest credential that may answer the question, or undefined (a person is asked). */
export async function findStandingGrant(
  deps: EngineDeps,
  question: GrantQuestion,
  caller: Caller | undefined,
  origin: AuditOrigin,
): Promise<CredentialRecord | undefined> {
  const agent = await deps.agents.get(question.agentId);
  // An agent key whose agent is gone: nothing of its own to reuse (its key is refused anyway).
  if (!agent && caller?.kind === 'agent') return undefined;
  for (const credential of await deps.credentials.listOf(question.agentId, grantScanLimit)) {
    if (fits(deps, credential, question, agent) && (await live(deps, credential, origin))) return credential;
  }
  return undefined;
}

/**
 * The handoff that the grant answers: admitted like any other (idempotency key, the agent's
 * rate limit), written and ended `completed` at once — the ending goes to the agent's feed
 * like every ending — with no driver job and no message.
 */
export async function answerFromGrant(
  deps: EngineDeps,
  request: HandoffRequest,
  grant: CredentialRecord,
  context: {
    readonly thread: string;
    readonly expiresInMs: number;
    readonly mode: GrantQuestion['mode'];
    readonly caller: Caller | undefined;
    readonly origin: AuditOrigin;
  },
): Promise<{ record: HandoffRecord; created: boolean }> {
  const { expiresInMs, caller, origin } = context;
  const intake = await admitNewHandoff(deps, { request, expiresInMs, caller, origin });
  if (intake.kind === 'existing') return { record: intake.record, created: false };
  const { id, now } = intake;
  const pending: HandoffRecord = {
    id,
    kind: 'login',
    status: 'pending',
    version: 0,
    service: grant.service,
    protocol: grant.protocol,
    thread: context.thread,
    approvers: request.approvers,
    agentId: request.agent.id,
    correlationId: request.agent.correlationId ?? id,
    scopes: request.scopes,
    createdAt: now,
    updatedAt: now,
    expiresAt: now + expiresInMs,
    attempts: 0,
    credentialId: grant.id,
    reused: true,
    ...(grant.serviceName ? { serviceName: grant.serviceName } : {}),
  };
  await storeNewHandoff(deps, pending);
  const ended = await deps.store.transition(id, {
    to: 'completed',
    from: ['pending'],
    agentId: pending.agentId,
    thread: pending.thread,
    set: { completedAt: now },
    credentialScopes: grant.scopes,
  });
  await deps.audit.append({
    event: 'credential.reused',
    handoffId: id,
    agentId: pending.agentId,
    correlationId: pending.correlationId,
    ...origin,
    detail: { credentialId: grant.id, grantedIn: grant.handoffId, reuse: context.mode },
  });
  deps.logger.info('login answered by a standing grant', { handoffId: id, credentialId: grant.id });
  return { record: ended.ok ? ended.record : pending, created: true };
}
