import { votesView } from './approval.js';
import type { HandoffRecord } from './handoff.js';

/**
 * The API's picture of an approval handoff (issue #13): the common fields, what was asked, the
 * votes so far, and once settled the decision. No login fields (service, scopes, link…).
 */
export function toApprovalView(record: HandoffRecord) {
  const spec = record.approval!;
  return {
    id: record.id,
    kind: 'approval' as const,
    status: record.status,
    thread: record.thread,
    agent: { id: record.agentId, correlationId: record.correlationId },
    action: spec.action,
    approvers: record.approvers,
    quorum: spec.quorum,
    requestedBy: spec.requestedBy ?? null,
    onTimeout: spec.onTimeout,
    votes: votesView(record.votes, spec.quorum),
    decision:
      record.status === 'completed' && record.decision
        ? {
            outcome: record.decision.outcome,
            by: record.decision.by.map((b) => ({ who: b.who, at: b.at })),
            ...(record.decision.reason ? { reason: record.decision.reason } : {}),
            at: record.decision.at,
          }
        : null,
    expiresAt: record.expiresAt,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    completedAt: record.completedAt ?? null,
    error: record.error ?? null,
  };
}

export type ApprovalView = ReturnType<typeof toApprovalView>;
