import { isSelfApproval, type VoteChoice, type VoteResult } from '../core/approval.js';
import type { HandoffRecord } from '../core/handoff.js';
import type { ApproverVerdict, MessageRef, Person } from '../core/thread-adapter.js';
import { endingAuditDetail } from '../store/audit-log.js';
import { queueRequestEdit } from './approval-edit.js';
import { approvalNotices } from './approval-notices.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * One person's vote on an approval (issue #13), from a reply or a button: who may decide is
 * checked here (the person the agent acts for never counts: `self_approval`; nor does the
 * bridge's own account; then the named approvers or the platform's rule), the count and the
 * settling happen atomically in the store (src/store/approval-votes.ts), whose script also writes
 * the ending's `handoff.completed` audit entry. Every vote, refusal and settlement is audited
 * with who and when.
 */
export type VoteOutcome = VoteResult['kind'] | 'refused_self_approval' | 'refused_bridge' | 'refused_not_approver';

/** The bridge's own accounts per platform (local posts are written as `handoff`); they never count. */
const bridgeAccounts: Readonly<Record<string, readonly string[]>> = { local: ['handoff'] };

/** The named approvers, else the platform's rule (as for logins' replies), else anyone in the thread. */
async function mayDecide(deps: EngineDeps, record: HandoffRecord, voter: Person): Promise<ApproverVerdict> {
  const { adapter, thread } = deps.adapters.parse(record.thread);
  if (adapter.checkApprover) return adapter.checkApprover(thread, voter, record.approvers);
  if (record.approvers.length === 0) return { allowed: true };
  const norm = (s: string) => s.trim().replace(/^@/, '').toLowerCase();
  const names = new Set(record.approvers.map(norm));
  return { allowed: names.has(norm(voter.id)) || (voter.name !== undefined && names.has(norm(voter.name))) };
}

export async function castVote(
  deps: EngineDeps,
  record: HandoffRecord,
  voter: Person,
  choice: VoteChoice,
  via: { readonly platform: string; readonly messageRef?: MessageRef; readonly answerPrivately?: boolean },
): Promise<VoteOutcome> {
  const ctx = {
    handoffId: record.id,
    agentId: record.agentId,
    correlationId: record.correlationId,
    actor: voter.id,
  };
  // What concerns the voter alone: to them privately after a click, else in the thread. A
  // click costs nothing to repeat, so each private answer goes to a person once per handoff
  // (within the outbox's dedupe window): a flood of clicks cannot hold up the platform's queue.
  const answer = (about: string, message: ReturnType<typeof approvalNotices.refused>) =>
    deps.outbox.send(
      {
        kind: 'post',
        handoffId: record.id,
        thread: record.thread,
        message,
        ...(via.answerPrivately ? { answerTo: voter } : {}),
      },
      via.answerPrivately ? { dedupeKey: `answer-${about}-${record.id}-${voter.id}` } : {},
    );
  const refuse = async (
    why: 'self_approval' | 'bridge' | 'not_an_approver',
    reason?: Parameters<typeof approvalNotices.refused>[3],
  ) => {
    await deps.audit.append({
      event: 'approval.refused',
      ...ctx,
      detail: { code: why, vote: choice.vote, platform: via.platform },
    });
    await answer('refused', approvalNotices.refused(record, voter, why, reason));
  };
  if ((bridgeAccounts[via.platform] ?? []).includes(voter.id.toLowerCase())) {
    await refuse('bridge');
    return 'refused_bridge';
  }
  if (record.approval && isSelfApproval(record.approval, voter)) {
    await refuse('self_approval');
    return 'refused_self_approval';
  }
  const verdict = await mayDecide(deps, record, voter);
  if (!verdict.allowed) {
    await refuse('not_an_approver', verdict.reason);
    return 'refused_not_approver';
  }

  const result = await deps.store.vote({
    handoffId: record.id,
    agentId: record.agentId,
    voter: voter.id,
    choice,
    now: deps.clock.now(),
  });
  await deps.audit.append({
    event: 'approval.vote',
    ...ctx,
    detail: {
      vote: choice.vote,
      result: result.kind,
      platform: via.platform,
      ...(choice.vote === 'deny' && choice.reason ? { reason: choice.reason } : {}),
    },
  });
  const current = result.record ?? record;
  const react = async (reaction: 'seen' | 'ok') => {
    if (via.messageRef)
      await deps.outbox.send({ kind: 'react', handoffId: record.id, message: via.messageRef, reaction });
  };
  const post = (message: ReturnType<typeof approvalNotices.settled>) =>
    deps.outbox.send({ kind: 'post', handoffId: record.id, thread: record.thread, message });
  switch (result.kind) {
    case 'settled':
      await deps.audit.append({
        event: 'approval.settled',
        ...ctx,
        detail: {
          outcome: result.decision.outcome,
          by: result.decision.by.map((b) => b.who).join(','),
          ...(result.decision.reason ? { reason: result.decision.reason } : {}),
        },
      });
      // The vote script wrote the ending's audit entry; the sink's copy follows it (as finish.ts).
      await deps.audit.copyToSink({ event: 'handoff.completed', ...ctx, detail: endingAuditDetail(current) });
      await react('ok');
      await queueRequestEdit(deps, current);
      await post(approvalNotices.settled(current, result.decision));
      await deps.jobs.wake(record.id);
      deps.logger.info('handoff finished', {
        handoffId: record.id,
        status: 'completed',
        outcome: result.decision.outcome,
      });
      break;
    case 'counted':
      await react('seen');
      await queueRequestEdit(deps, current);
      await post(approvalNotices.counted(current, result.approvals, result.needed));
      break;
    case 'repeated':
      await react('seen');
      // A click leaves no message to mark: say it privately instead.
      if (via.answerPrivately) await answer('repeated', approvalNotices.repeated(current, voter, choice.vote));
      break;
    case 'changed_mind':
      await answer('changed_mind', approvalNotices.changedMind(current, voter));
      break;
    case 'closed':
      await answer('closed', approvalNotices.closed(current, voter));
      break;
    case 'not_found':
      break;
  }
  return result.kind;
}
