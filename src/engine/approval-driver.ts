import type { HandoffRecord } from '../core/handoff.js';
import { approvalNotices, approvalRequestNotice } from './approval-notices.js';
import type { EngineDeps } from './engine-deps.js';
import { finishHandoff } from './finish.js';

/**
 * The driver's two steps for an approval (issue #13): post the request into the thread, and
 * end it at its expiry. Between them the driver job sleeps until the expiry (a delayed job);
 * votes settle the approval without it (src/store/approval-votes.ts) and wake it to finish.
 */
export async function startApproval(deps: EngineDeps, record: HandoffRecord): Promise<void> {
  const { adapter, thread } = deps.adapters.parse(record.thread);
  // Named approvers as platform ids (checked to exist where the platform can tell), once.
  const approvers = adapter.resolvePerson
    ? (await Promise.all(record.approvers.map((handle) => adapter.resolvePerson!(thread, handle)))).map((p) => p.id)
    : [...record.approvers];
  const posted = { ...record, approvers };
  // The dedupe key outlives the job's retries: a retry after a crash posts nothing twice.
  await deps.outbox.send(
    {
      kind: 'post',
      handoffId: record.id,
      thread: record.thread,
      message: approvalRequestNotice(posted, adapter.unnamedApprovers ?? 'anyone'),
      critical: true,
      // Its id is kept on the record, so votes and the outcome can edit it.
      keepRef: true,
    },
    { dedupeKey: `approval-ask-${record.id}` },
  );
  const saved = await deps.store.transition(record.id, { to: 'awaiting_human', from: ['pending'], set: { approvers } });
  if (saved.ok) {
    await deps.audit.append({
      event: 'approval.asked',
      handoffId: record.id,
      agentId: record.agentId,
      correlationId: record.correlationId,
      actor: 'bridge',
      detail: { platform: adapter.platform, quorum: record.approval?.quorum ?? 1, approvers: approvers.length },
    });
  }
}

/**
 * The expiry: `onTimeout: expire` ends it as `expired` (never read as a decision); `deny`
 * completes it as denied with the reason "timed out". A vote racing it loses or wins whole:
 * both change the record only from `awaiting_human`.
 */
export async function timeOutApproval(deps: EngineDeps, record: HandoffRecord): Promise<void> {
  const deny = record.approval?.onTimeout === 'deny';
  const now = deps.clock.now();
  if (deny) {
    await finishHandoff(deps, record, 'completed', {
      from: ['pending', 'awaiting_human'],
      set: { decision: { outcome: 'denied', by: [], reason: 'timed out', at: now } },
      notice: (r) => approvalNotices.timedOut(r, true),
      actor: 'bridge:timeout',
    });
    return;
  }
  await finishHandoff(deps, record, 'expired', {
    set: { error: { code: 'expired', message: 'Nobody decided before the approval request expired.' } },
    notice: (r) => approvalNotices.timedOut(r, false),
    actor: 'bridge:timeout',
  });
}
