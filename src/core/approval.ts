/**
 * Approval handoffs (issue #13): an agent asks "may I?", people approve or deny in the thread.
 * Pure: the request's shape as stored, the votes, the decision, and what a vote does.
 *
 * An approval is a handoff record of `kind: 'approval'` with the same statuses as a login
 * (pending → awaiting_human → completed | expired | cancelled | failed); `claiming` is never
 * used. Votes live inside the record and change only through one Lua script
 * (src/store/approval-votes.ts), which also settles it.
 */

export const approvalRisks = ['low', 'medium', 'high'] as const;
export type ApprovalRisk = (typeof approvalRisks)[number];

/** What the agent wants to do, as it wrote it: shown as the agent's words, escaped per platform. */
export interface ApprovalAction {
  readonly title: string;
  readonly description?: string;
  /** A flat object, shown as fields. */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
  readonly risk?: ApprovalRisk;
  /** An https URL, shown with its host. */
  readonly link?: string;
}

/** The approval part of a handoff record. */
export interface ApprovalSpec {
  readonly action: ApprovalAction;
  /** Distinct approvers needed (≥ 1). Any one deny denies. */
  readonly quorum: number;
  /** The person the agent acts for: never counts as an approver (`self_approval`). */
  readonly requestedBy?: string;
  /** What the expiry means: `expire` (no decision) or `deny`. */
  readonly onTimeout: 'expire' | 'deny';
}

/** One person's vote, stored compactly: who (platform id), when (epoch ms), and a deny's reason. */
export interface StoredVote {
  readonly w: string;
  readonly a: number;
  readonly r?: string;
}

export interface ApprovalVotes {
  readonly approve: readonly StoredVote[];
  readonly deny: readonly StoredVote[];
}

export interface ApprovalDecision {
  readonly outcome: 'approved' | 'denied';
  readonly by: readonly { readonly who: string; readonly at: number }[];
  readonly reason?: string;
  readonly at: number;
}

/** The longest a deny reason is kept, in characters. */
export const maxReasonLength = 500;

/** What a reply or a click says about an approval. */
export type VoteChoice = { readonly vote: 'approve' } | { readonly vote: 'deny'; readonly reason?: string };

/** The outcome of one vote, as the store's script reports it. */
export type VoteResult =
  /** Counted; the approval still waits for more. */
  | { readonly kind: 'counted'; readonly approvals: number; readonly needed: number }
  /** Counted, and it settled the approval (exactly one vote ever gets this). */
  | { readonly kind: 'settled'; readonly decision: ApprovalDecision }
  /** This person had already voted this way: nothing changed. */
  | { readonly kind: 'repeated' }
  /** The person already voted the other way; a vote is not taken back. */
  | { readonly kind: 'changed_mind' }
  /** The approval is no longer open (settled, expired, cancelled): nothing changed. */
  | { readonly kind: 'closed'; readonly status: string; readonly decision?: ApprovalDecision }
  | { readonly kind: 'not_found' };

/** Who may never count as an approver of this request: the person the agent acts for. */
export function isSelfApproval(
  spec: Pick<ApprovalSpec, 'requestedBy'>,
  voter: { id: string; name?: string; email?: string },
): boolean {
  if (!spec.requestedBy) return false;
  const norm = (s: string) => s.trim().replace(/^@/, '').toLowerCase();
  const asked = norm(spec.requestedBy);
  return [voter.id, voter.name, voter.email].some((v) => v !== undefined && norm(v) === asked);
}

/** The votes as the API shows them. */
export function votesView(votes: ApprovalVotes | undefined, quorum: number) {
  const show = (list: readonly StoredVote[] | undefined) =>
    (list ?? []).map((v) => ({ who: v.w, at: v.a, ...(v.r ? { reason: v.r } : {}) }));
  return { approve: show(votes?.approve), deny: show(votes?.deny), needed: quorum };
}
