import type { HandoffRecord } from '../core/handoff.js';
import type { ApprovedBy, Completion } from '../core/login-protocol.js';
import type { InboundReply, ThreadAdapter } from '../core/thread-adapter.js';

/** What a claim (claim.ts) is asked with and answers: shared by its parts and its callers. */

/** Where the answer comes from: a reply in the thread, or the background poll. */
export type ClaimSource =
  | {
      readonly kind: 'reply';
      readonly reply: InboundReply;
      /** The reply's platform's adapter, resolved once by the reply handler. */
      readonly adapter: ThreadAdapter;
      readonly jobId: string;
      /** The queue will not retry this job again: a transport failure now ends the handoff. */
      readonly finalAttempt?: boolean;
      /** The reply was a "done" (no code in it: nothing to redact or call spent). */
      readonly saidDone?: boolean;
    }
  | { readonly kind: 'poll'; readonly jobId: string };

/**
 * What finishes the login: an answer for the protocol's `complete`, a result already in hand
 * (a poll's), or the result held for an approver's word (`held`: the reply is that word).
 */
export type ClaimAnswer =
  | { readonly code: string; readonly approvedBy?: ApprovedBy }
  | { readonly completion: Completion }
  | { readonly held: true };

export type ClaimOutcome =
  /** Someone else holds the claim or the handoff already ended. */
  | { readonly kind: 'not_claimable'; readonly record: HandoffRecord }
  | { readonly kind: 'completed'; readonly record: HandoffRecord }
  | { readonly kind: 'wrong_code'; readonly record: HandoffRecord }
  /** The protocol started over with fresh instructions, which were posted. */
  | { readonly kind: 'restarted'; readonly record: HandoffRecord }
  /** A poll result nobody can vouch for yet is held until an approver's word. */
  | { readonly kind: 'held'; readonly record: HandoffRecord }
  | { readonly kind: 'failed'; readonly record: HandoffRecord };

export interface ClaimOptions {
  /** `count` (default) records a wrong answer; `release` gives the claim back silently. */
  readonly onWrongCode?: 'count' | 'release';
}
