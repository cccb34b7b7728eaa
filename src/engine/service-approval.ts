import { HandoffError } from '../core/errors.js';
import { maxRestarts, type HandoffRecord } from '../core/handoff.js';
import type { ApprovedBy } from '../core/login-protocol.js';
import type { EngineDeps } from './engine-deps.js';
import { finishHandoff } from './finish.js';
import { sealHeldResult, type HeldResult } from './login-secret.js';
import { notices } from './notices.js';
import { applyRestart, loginRequestFor } from './restart.js';

/**
 * What happens to a login result the background poll found but cannot be tied to an
 * approver (see approver-binding.ts). Both functions take a record whose claim the caller
 * holds (`claiming`), and give it back.
 */

/** Audit detail naming the account the service reported (the audit is the operator's). */
function accountDetail(approvedBy: ApprovedBy | undefined): Record<string, string> {
  return {
    ...(approvedBy?.email ? { account: approvedBy.email } : {}),
    ...(approvedBy?.subject ? { subject: approvedBy.subject } : {}),
    ...(approvedBy ? { said: approvedBy.source } : {}),
  };
}

/**
 * Keeps the result sealed in the record and waits for an approver's word in the thread, which
 * then finishes the login from it at once. The poll stops: the service has nothing more to say.
 */
export async function holdServiceApproval(
  deps: EngineDeps,
  held: HandoffRecord,
  result: HeldResult,
): Promise<HandoffRecord> {
  const saved = await deps.store.transition(held.id, {
    to: 'awaiting_human',
    from: ['claiming'],
    set: {
      claimedBy: undefined,
      nextPollAt: undefined,
      confirmedBy: undefined,
      confirmedAt: undefined,
      serviceReadyAt: deps.clock.now(),
      sealedHeld: sealHeldResult(deps.vault, held.id, result),
    },
  });
  const record = saved.ok ? saved.record : held;
  await deps.audit.append({
    event: 'poll.held',
    handoffId: held.id,
    agentId: held.agentId,
    correlationId: held.correlationId,
    actor: 'bridge:poll',
    detail: accountDetail(result.approvedBy),
  });
  await deps.outbox.send({
    kind: 'post',
    handoffId: held.id,
    thread: held.thread,
    message: notices.serviceReady(record, result.approvedBy),
  });
  return record;
}

/**
 * Refuses an approval the service says someone other than the approvers gave: nothing of it
 * is used, the thread is told, the attempt is audited, and the login starts over with a fresh
 * link (the old one is spent on the wrong account) — or ends once restarts are used up.
 */
export async function refuseServiceApproval(
  deps: EngineDeps,
  held: HandoffRecord,
  approvedBy: ApprovedBy | undefined,
): Promise<{ kind: 'restarted' | 'failed' | 'not_claimable'; record: HandoffRecord }> {
  await deps.audit.append({
    event: 'poll.refused',
    handoffId: held.id,
    agentId: held.agentId,
    correlationId: held.correlationId,
    actor: 'bridge:poll',
    detail: accountDetail(approvedBy),
  });
  deps.logger.warn('service reported an approval by someone who is not an approver; refused', { handoffId: held.id });
  const fail = async (code: string, message: string) => {
    const result = await finishHandoff(deps, held, 'failed', {
      set: { error: { code, message } },
      actor: 'bridge:poll',
    });
    return { kind: 'failed' as const, record: result.ok ? result.record : held };
  };
  if ((held.restarts ?? 0) >= maxRestarts) {
    await deps.outbox.send({
      kind: 'post',
      handoffId: held.id,
      thread: held.thread,
      message: notices.serviceApprovalRefused(held, approvedBy, 'ended'),
    });
    return fail(
      'approved_by_other',
      `The service reported the login approved by an account that is not an approver, ${maxRestarts + 1} times.`,
    );
  }
  await deps.outbox.send({
    kind: 'post',
    handoffId: held.id,
    thread: held.thread,
    message: notices.serviceApprovalRefused(held, approvedBy, 'fresh_link'),
  });
  let started;
  try {
    started = await deps.protocols.get(held.protocol).start(loginRequestFor(held));
  } catch (err) {
    const e = err instanceof HandoffError ? err : undefined;
    return fail(
      e?.code ?? 'restart_failed',
      `The login was approved by someone who is not an approver, and starting a fresh one failed${e ? `: ${e.message}` : '.'}`,
    );
  }
  const restarted = await applyRestart(deps, held, started, [
    'The previous link was used by an account that is not an approver.',
  ]);
  return restarted
    ? { kind: 'restarted', record: restarted }
    : { kind: 'not_claimable', record: (await deps.store.get(held.id)) ?? held };
}
