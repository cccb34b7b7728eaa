import type { AuditOrigin, Caller } from '../core/caller.js';
import { BadInputError, ConflictError } from '../core/errors.js';
import { isTerminal, type HandoffRecord } from '../core/handoff.js';
import type { ProtocolName } from '../core/login-protocol.js';
import { handoffNotFound } from './access.js';
import { approvalNotices } from './approval-notices.js';
import { checkAgentPolicy } from './agent-admission.js';
import { admitNewHandoff, storeNewHandoff, type Intake } from './handoff-intake.js';
import { joinOrLead, type Lead } from './login-join.js';
import { answerFromGrant, findStandingGrant } from './standing-grant.js';
import type { EngineDeps } from './engine-deps.js';
import { finishHandoff } from './finish.js';
import { parseServiceUrl, type HandoffRequest } from './handoff-request.js';
import { notices } from './notices.js';
import { waitingPlanFor } from './waiting-plan.js';
import { escalationPlanFor } from './escalation-plan.js';

/**
 * Creating, reading and cancelling handoffs: what the HTTP API and requireLogin() share.
 */
export interface CreateResult {
  readonly record: HandoffRecord;
  /** False when an idempotency key returned an existing handoff. */
  readonly created: boolean;
}

/**
 * The protocol a request names, or `auto`: discovery chooses later, in the driver (it needs
 * the network). With one protocol, or no discovery, there is nothing to choose.
 */
function chooseProtocol(deps: EngineDeps, requested: HandoffRequest['protocol']): ProtocolName | 'auto' {
  if (requested === undefined || requested === 'auto') {
    if (deps.protocols.names.length === 1) return deps.protocols.names[0]!;
    return deps.discovery ? 'auto' : deps.protocols.names[0]!;
  }
  return deps.protocols.get(requested).name;
}

/** Engine-internal parts of a handoff that no API request can set. */
export interface CreateOptions {
  /** The handoff this one re-opens. */
  readonly previousHandoffId?: string;
  /** What the service is called, when already known (a re-opened login). */
  readonly serviceName?: string;
  readonly serviceLogoUrl?: string;
  /** Who asks, for the audit: default `agent:<the request's agent id>`. */
  readonly origin?: AuditOrigin;
  /** The API caller: an agent's policy and limits apply to its own requests (not the admin's, nor the bridge's). */
  readonly caller?: Caller;
}

export async function createHandoff(
  deps: EngineDeps,
  request: HandoffRequest,
  options: CreateOptions = {},
): Promise<CreateResult> {
  const service = parseServiceUrl(request.service, deps.policy.network);
  const { adapter, thread } = deps.adapters.parse(request.thread);
  const protocol = chooseProtocol(deps, request.protocol);
  const expiresInMs = request.expiresInMs ?? deps.policy.defaultExpiresInMs;
  if (expiresInMs > deps.policy.maxExpiresInMs) {
    throw new BadInputError(
      `expiresInMs may be at most ${deps.policy.maxExpiresInMs} (the bridge's HANDOFF_MAX_EXPIRES_IN_MS).`,
      {
        code: 'invalid_request',
        details: { field: 'expiresInMs' },
      },
    );
  }

  const origin = options.origin ?? { actor: `agent:${request.agent.id}` };
  await checkAgentPolicy(deps, options.caller, origin, {
    serviceOrigin: new URL(service).origin,
    thread: thread.ref,
    approvers: request.approvers,
    threadIgnoresCase: adapter.refsIgnoreCase === true,
  });

  const escalate = await escalationPlanFor(deps, request.escalate, {
    thread: thread.ref,
    caller: options.caller,
    origin,
  });

  const reuse = request.reuse ?? 'never';
  let join: Lead | undefined;
  if (reuse !== 'never') {
    const context = { thread: thread.ref, expiresInMs, mode: reuse, caller: options.caller, origin };
    const question = { agentId: request.agent.id, service, protocol, scopes: request.scopes };
    const grant = await findStandingGrant(
      deps,
      { ...question, thread: thread.ref, threadIgnoresCase: adapter.refsIgnoreCase === true, mode: reuse },
      options.caller,
      origin,
    );
    if (grant) return answerFromGrant(deps, request, grant, context);
    const joinQuestion = { ...question, thread: thread.ref, approvers: request.approvers };
    const slot = await joinOrLead(deps, { ...joinQuestion, approverEmail: request.approverEmail }, expiresInMs);
    if (slot.kind === 'joined') return { record: slot.record, created: false };
    join = slot;
  }

  let intake: Intake;
  try {
    intake = await admitNewHandoff(deps, {
      request,
      expiresInMs,
      caller: options.caller,
      origin,
      ...(join ? { id: join.id } : {}),
    });
  } catch (err) {
    await join?.abandon();
    throw err;
  }
  if (intake.kind === 'existing') {
    await join?.pointAt(intake.record.id);
    return { record: intake.record, created: false };
  }
  const { id, now } = intake;
  await join?.pointAt(id);
  const record: HandoffRecord = {
    id,
    kind: 'login',
    status: 'pending',
    version: 0,
    service,
    protocol,
    thread: thread.ref,
    approvers: request.approvers,
    ...(request.approverEmail ? { approverEmail: request.approverEmail } : {}),
    agentId: request.agent.id,
    correlationId: request.agent.correlationId ?? id,
    scopes: request.scopes,
    createdAt: now,
    updatedAt: now,
    expiresAt: now + expiresInMs,
    attempts: 0,
    ...(options.previousHandoffId ? { previousHandoffId: options.previousHandoffId } : {}),
    ...(options.serviceName ? { serviceName: options.serviceName } : {}),
    ...(options.serviceLogoUrl ? { serviceLogoUrl: options.serviceLogoUrl } : {}),
    ...waitingPlanFor(deps, request.remind, now),
    ...(escalate ? { escalate } : {}),
  };
  await storeNewHandoff(deps, record);
  await deps.audit.append({
    event: 'handoff.created',
    handoffId: id,
    agentId: record.agentId,
    correlationId: record.correlationId,
    ...origin,
    detail: {
      protocol,
      platform: thread.platform,
      ...(options.previousHandoffId ? { reopens: options.previousHandoffId } : {}),
    },
  });
  await deps.jobs.start(id);
  return { record, created: true };
}

export async function getHandoff(deps: EngineDeps, id: string): Promise<HandoffRecord> {
  const record = await deps.store.get(id);
  if (!record) throw handoffNotFound(id);
  return record;
}

/** Cancels an open handoff; `by` names the canceller in the thread's notice. */
export async function cancelHandoff(
  deps: EngineDeps,
  id: string,
  origin: AuditOrigin,
  by = 'the agent API',
): Promise<HandoffRecord> {
  const record = await getHandoff(deps, id);
  if (isTerminal(record.status)) {
    throw new ConflictError(`Handoff ${id} already ended (${record.status}).`, 'handoff_finished', {
      status: record.status,
    });
  }
  const result = await finishHandoff(deps, record, 'cancelled', {
    set: { error: { code: 'cancelled', message: `Cancelled by ${by}.` } },
    origin,
    notice: (r) => (r.kind === 'approval' ? approvalNotices.cancelled(r, by) : notices.cancelled(r, by)),
  });
  if (result.ok) return result.record;
  if (result.reason === 'conflict' && result.record.status === 'claiming') {
    throw new ConflictError(
      'A code for this handoff is being checked right now; try again in a few seconds.',
      'handoff_busy',
      { status: 'claiming' },
    );
  }
  const now = result.reason === 'conflict' ? result.record : record;
  throw new ConflictError(`Handoff ${id} already ended (${now.status}).`, 'handoff_finished', { status: now.status });
}
