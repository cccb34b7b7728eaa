import { pollingFrom, type HandoffRecord } from '../core/handoff.js';
import type { LoginRequest, Started } from '../core/login-protocol.js';
import { say, type Sentence } from '../core/sentence.js';
import { approvalMessage, postApproval } from './approval-message.js';
import type { EngineDeps } from './engine-deps.js';
import { sealLoginSecret } from './login-secret.js';

/** What the protocol's start is asked for this handoff (the first start, and any restart). */
export function loginRequestFor(record: HandoffRecord): LoginRequest {
  return {
    handoffId: record.id,
    service: record.service,
    scopes: record.scopes,
    agentId: record.agentId,
    correlationId: record.correlationId,
    label: `handoff ${record.id} for agent ${record.agentId}`,
    ...(record.approverEmail ? { approverEmail: record.approverEmail } : {}),
  };
}

/**
 * A login the protocol restarted (the service voided the claim or the code): keep the new
 * secret, hand the claim back with the new link, answer kind and expiry, and post the new
 * instructions. Not a wrong answer, so no attempt is counted; the caller bounds restarts.
 * Undefined: the record moved on meanwhile.
 */
export async function applyRestart(
  deps: EngineDeps,
  held: HandoffRecord,
  started: Started,
  reason: Sentence,
): Promise<HandoffRecord | undefined> {
  const restarts = (held.restarts ?? 0) + 1;
  const protocol = deps.protocols.get(held.protocol);
  const expiresAt = Math.min(held.expiresAt, started.expiresAt);
  const pollIntervalMs =
    protocol.poll && started.polls !== false ? (started.pollIntervalMs ?? deps.policy.pollIntervalMs) : undefined;
  const result = await deps.store.transition(held.id, {
    to: 'awaiting_human',
    from: ['claiming'],
    set: {
      claimedBy: undefined,
      restarts,
      linkSince: deps.clock.now(),
      approvalUrl: started.approvalUrl,
      answer: started.answer,
      sealedSecret: sealLoginSecret(deps.vault, held.id, started.secret),
      expiresAt,
      serviceExpiresAt: started.expiresAt,
      userCode: started.userCode,
      ...(started.protocolVersion ? { protocolVersion: started.protocolVersion } : {}),
      note: started.note,
      // Whatever the old login left waiting for a word is void with it.
      serviceReadyAt: undefined,
      sealedHeld: undefined,
      confirmedBy: undefined,
      confirmedAt: undefined,
      ...(pollIntervalMs !== undefined
        ? pollingFrom(deps.clock.now(), pollIntervalMs)
        : { pollIntervalMs: undefined, nextPollAt: undefined, activeUntil: undefined }),
    },
  });
  if (!result.ok) return undefined;
  const record = result.record;
  await deps.audit.append({
    event: 'login.restarted',
    handoffId: record.id,
    agentId: record.agentId,
    correlationId: record.correlationId,
    detail: { restarts, answer: started.answer },
  });
  const people = record.approvers.map((id) => ({ id }));
  await postApproval(
    deps,
    approvalMessage(record, [say`↻ ${reason}`]),
    record,
    people,
    `approval-${record.id}-restart-${restarts}`,
  );
  // The expiry may have moved closer: the parked driver must look again.
  await deps.jobs.wake(record.id);
  return record;
}
