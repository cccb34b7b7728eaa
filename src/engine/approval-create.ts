import { createHash } from 'node:crypto';
import type { AuditOrigin, Caller } from '../core/caller.js';
import { isSelfApproval, type ApprovalSpec } from '../core/approval.js';
import { BadInputError, ConflictError } from '../core/errors.js';
import type { HandoffRecord } from '../core/handoff.js';
import { newId } from '../core/ids.js';
import { admitHandoff, checkAgentPolicy } from './agent-admission.js';
import type { EngineDeps } from './engine-deps.js';
import type { ApprovalRequest } from './handoff-request.js';
import type { CreateResult } from './handoff-service.js';

/**
 * Creating an approval handoff (issue #13): the same record, store, idempotency, policy and
 * limits as a login, with what is asked kept in `approval`. The driver then posts the request
 * into the thread (approval-driver.ts) and waits for votes or the expiry.
 */
function fingerprint(request: ApprovalRequest): string {
  const { idempotencyKey: _ignored, ...rest } = request;
  return createHash('sha256').update(JSON.stringify(rest)).digest('base64url').slice(0, 22);
}

const norm = (s: string) => s.trim().replace(/^@/, '').toLowerCase();

export async function createApproval(
  deps: EngineDeps,
  request: ApprovalRequest,
  options: { origin?: AuditOrigin; caller?: Caller } = {},
): Promise<CreateResult> {
  const { thread } = deps.adapters.parse(request.thread);
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
  await checkAgentPolicy(deps, options.caller, origin, { thread: thread.ref, approvers });

  let id = newId('handoff');
  let reservedKey = false;
  if (request.idempotencyKey) {
    const reservation = await deps.idempotency.reserve(
      request.agent.id,
      request.idempotencyKey,
      id,
      fingerprint(request),
      expiresInMs + 3_600_000,
    );
    if (reservation.kind === 'existing' && reservation.handoffId) {
      if (!reservation.sameRequest) {
        throw new ConflictError(
          'This idempotencyKey was already used for a different request; use a new key.',
          'idempotency_key_reused',
        );
      }
      const existing = await deps.store.get(reservation.handoffId);
      if (existing) return { record: existing, created: false };
      id = reservation.handoffId;
    } else reservedKey = true;
  }

  const now = deps.clock.now();
  try {
    await admitHandoff(deps, {
      caller: options.caller,
      origin,
      agentId: request.agent.id,
      handoffId: id,
      expiresAt: now + expiresInMs,
    });
  } catch (err) {
    if (reservedKey) await deps.idempotency.release(request.agent.id, request.idempotencyKey!, id);
    throw err;
  }
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
  };
  try {
    await deps.store.create(record);
  } catch (err) {
    await deps.agentLimits.release(record.agentId, id);
    throw err;
  }
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
