import type { AuditOrigin, Caller } from '../core/caller.js';
import { isSelfApproval, type ApprovalSpec } from '../core/approval.js';
import { BadInputError } from '../core/errors.js';
import type { HandoffRecord } from '../core/handoff.js';
import { checkAgentPolicy } from './agent-admission.js';
import { admitNewHandoff, storeNewHandoff } from './handoff-intake.js';
import type { EngineDeps } from './engine-deps.js';
import type { ApprovalRequest } from './handoff-request.js';
import type { CreateResult } from './handoff-service.js';
import { waitingPlanFor } from './waiting-plan.js';
import { escalationPlanFor } from './escalation-plan.js';

/**
 * Creating an approval handoff (issue #13): the same record, store, idempotency, policy and
 * limits as a login (handoff-intake.ts), with what is asked kept in `approval`. The driver then
 * posts the request into the thread (approval-driver.ts) and waits for votes or the expiry.
 */
const norm = (s: string) => s.trim().replace(/^@/, '').toLowerCase();

export async function createApproval(
  deps: EngineDeps,
  request: ApprovalRequest,
  options: { origin?: AuditOrigin; caller?: Caller } = {},
): Promise<CreateResult> {
  const { adapter, thread } = deps.adapters.parse(request.thread);
  const expiresInMs = request.expiresInMs ?? deps.policy.defaultExpiresInMs;
  if (expiresInMs > deps.policy.maxExpiresInMs) {
    throw new BadInputError(
      `expiresInMs may be at most ${deps.policy.maxExpiresInMs} (the bridge's HANDOFF_MAX_EXPIRES_IN_MS).`,
      { code: 'invalid_request', details: { field: 'expiresInMs' } },
    );
  }
  const approvers = [...new Map(request.approvers.map((a) => [norm(a), a])).values()];
  if (approvers.length > 0) {
    const eligible = approvers.filter((a) => !isSelfApproval(request, { id: a }));
    if (eligible.length < request.quorum) {
      throw new BadInputError(
        `quorum ${request.quorum} can never be reached: ${eligible.length} named approver(s) may vote (requestedBy never counts). Name more approvers or lower the quorum.`,
        { code: 'quorum_unreachable', details: { field: 'quorum' } },
      );
    }
  }

  const origin = options.origin ?? { actor: `agent:${request.agent.id}` };
  await checkAgentPolicy(deps, options.caller, origin, {
    thread: thread.ref,
    approvers,
    // The same thread rule as a login's: case as the platform's refs have it.
    threadIgnoresCase: adapter.refsIgnoreCase === true,
  });

  const escalate = await escalationPlanFor(deps, request.escalate, {
    thread: thread.ref,
    caller: options.caller,
    origin,
  });

  const intake = await admitNewHandoff(deps, { request, expiresInMs, caller: options.caller, origin });
  if (intake.kind === 'existing') return { record: intake.record, created: false };
  const { id, now } = intake;
  const approval: ApprovalSpec = {
    action: request.action,
    quorum: request.quorum,
    ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
    onTimeout: request.onTimeout,
  };
  const record: HandoffRecord = {
    id,
    kind: 'approval',
    status: 'pending',
    version: 0,
    service: '',
    protocol: 'auto',
    thread: thread.ref,
    approvers,
    agentId: request.agent.id,
    correlationId: request.agent.correlationId ?? id,
    scopes: [],
    createdAt: now,
    updatedAt: now,
    expiresAt: now + expiresInMs,
    attempts: 0,
    approval,
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
      kind: 'approval',
      platform: thread.platform,
      quorum: approval.quorum,
      onTimeout: approval.onTimeout,
      ...(approval.action.risk ? { risk: approval.action.risk } : {}),
    },
  });
  await deps.jobs.start(id);
  return { record, created: true };
}
