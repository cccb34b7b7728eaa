import type { VoteChoice } from '../core/approval.js';
import { maxReasonLength } from '../core/approval.js';
import { parseReply, type ApprovalDecision } from '../core/parsed-reply.js';
import { cleanText } from '../core/untrusted-text.js';

/**
 * The words that decide an approval (issue #13) are read once, with everything else in a
 * reply, by `parseReply` (src/core/parsed-reply.ts): `approve`, `approved`, `lgtm`, `/approve`
 * on the first line that is not a quote are a yes; `deny <reason>`, `reject <reason>`, `/deny
 * <reason>` a no with an optional reason. This turns that decision into a vote, the reason
 * cleaned and capped as the agent's and person's words always are. Pure.
 */
export function voteOf(decision: ApprovalDecision | undefined): VoteChoice | undefined {
  if (!decision) return undefined;
  if (decision.kind === 'approve') return { vote: 'approve' };
  const reason = cleanText(decision.reason, maxReasonLength);
  return reason ? { vote: 'deny', reason } : { vote: 'deny' };
}

/** A reply's text as a vote (tests and the local page's buttons read it this way). */
export const parseVote = (text: string): VoteChoice | undefined => voteOf(parseReply(text).decision);
