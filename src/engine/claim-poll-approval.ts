import type { HandoffRecord } from '../core/handoff.js';
import type { ApprovedBy, Completion } from '../core/login-protocol.js';
import { bindServiceApproval, vouchingApprover } from './approver-binding.js';
import type { ClaimAnswer, ClaimOutcome, ClaimSource } from './claim-types.js';
import type { EngineDeps } from './engine-deps.js';
import { holdServiceApproval, refuseServiceApproval } from './service-approval.js';

/**
 * A result the background poll found is someone's approval at the service: it counts only
 * when bound to an approver (approver-binding.ts). Refused when the service names someone
 * else, held for an approver's word when it names nobody the bridge can match, and the
 * binding audited when it counts.
 */
export interface PollApproval {
  /** The thread's rule for a handoff that names no approvers. */
  readonly unnamed: 'anyone' | 'platform_rule';
  /** The approver whose recent "done" vouches for a poll's result (read when the claim is taken). */
  readonly vouchedBy: string | undefined;
  /** Whom the service named with the answer itself, before any exchange. */
  readonly preApproval: ApprovedBy | undefined;
}

export function pollApprovalOf(
  deps: EngineDeps,
  held: HandoffRecord,
  answer: ClaimAnswer,
  source: ClaimSource,
): PollApproval {
  const adapter = source.kind === 'reply' ? source.adapter : deps.adapters.parse(held.thread).adapter;
  return {
    unnamed: adapter.unnamedApprovers ?? 'anyone',
    vouchedBy: source.kind === 'poll' ? vouchingApprover(held, deps.clock.now()) : undefined,
    preApproval: 'code' in answer ? answer.approvedBy : undefined,
  };
}

/** Before any exchange: a poll's answer the service says someone else approved is refused. */
export async function refusedBeforeExchange(
  deps: EngineDeps,
  held: HandoffRecord,
  source: ClaimSource,
  { preApproval, unnamed }: PollApproval,
): Promise<ClaimOutcome | undefined> {
  if (source.kind === 'poll' && preApproval && bindServiceApproval(held, preApproval, unnamed) === 'other') {
    return refuseServiceApproval(deps, held, preApproval);
  }
  return undefined;
}

/**
 * After the exchange: a poll's credential is refused (someone else's), held (nobody vouches),
 * or bound and audited. Undefined: the claim goes on to store it.
 */
export async function bindPollCompletion(
  deps: EngineDeps,
  held: HandoffRecord,
  source: ClaimSource,
  completion: Completion,
  { preApproval, unnamed, vouchedBy }: PollApproval,
): Promise<ClaimOutcome | undefined> {
  if (
    source.kind !== 'poll' ||
    !(completion.kind === 'credential' || (completion.kind === 'already_exchanged' && completion.credential))
  )
    return undefined;
  const approvedBy = completion.approvedBy ?? preApproval;
  const binding = bindServiceApproval(held, approvedBy, unnamed);
  if (binding === 'other') return refuseServiceApproval(deps, held, approvedBy);
  if (binding === 'unknown' && !vouchedBy) {
    const kept = await holdServiceApproval(deps, held, {
      credential: completion.credential!,
      ...(approvedBy ? { approvedBy } : {}),
    });
    return { kind: 'held', record: kept };
  }
  if (approvedBy || vouchedBy) await auditBinding(deps, held, approvedBy, vouchedBy);
  return undefined;
}

/** Records whom the service named, or which approver's word vouched, for a poll's completion. */
async function auditBinding(
  deps: EngineDeps,
  record: HandoffRecord,
  approvedBy: ApprovedBy | undefined,
  vouchedBy: string | undefined,
): Promise<void> {
  await deps.audit.append({
    event: 'poll.bound',
    handoffId: record.id,
    agentId: record.agentId,
    correlationId: record.correlationId,
    actor: vouchedBy ?? 'bridge:poll',
    detail: {
      ...(approvedBy?.email ? { account: approvedBy.email } : {}),
      ...(approvedBy ? { said: approvedBy.source } : {}),
      ...(vouchedBy ? { vouchedBy } : {}),
    },
  });
}
