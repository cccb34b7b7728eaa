import type { HandoffRecord } from '../core/handoff.js';
import { handoffTag } from '../core/handoff-tag.js';
import { answerOf, looksLikeAnswer, type ParsedReply } from '../core/parsed-reply.js';

/**
 * Which open handoff a reply is for: pure, no I/O. One reply reaches at most one service, so
 * a reply goes to the handoff the platform names (a modal opened from its approval
 * message, a reply nested under its approval comment), else the one whose tag or id the text names, else the only one whose
 * expected answer has this reply's shape. Anything less certain is no route at all: the
 * handler asks which, and nothing is sent anywhere. The text was read once (`parseReply`);
 * routing only matches that value against each open handoff.
 */

/** What a reply does to the handoff it answers. */
export type ReplyAction =
  /** A code (or "done" where "done" is the answer): the protocol checks it with the service. */
  | { readonly kind: 'claim'; readonly code: string }
  /** The word an approver owes a result the bridge holds: finish from it. */
  | { readonly kind: 'confirm'; readonly saidDone: boolean }
  /** "done" on a login the bridge polls: ask the service now (an approver's word vouches for the answer). */
  | { readonly kind: 'poll' };

export interface Candidate {
  /** A waiting handoff the reply could answer. */
  readonly record: HandoffRecord;
  /** What the reply would do to it. */
  readonly action: ReplyAction;
}

export interface Routing {
  /** True when the platform or the text named a handoff (then only named ones are considered). */
  readonly named: boolean;
  /** Waiting handoffs this reply answers, with what it does to each. */
  readonly candidates: readonly Candidate[];
  /** Handoffs that might take it but are busy (starting, or checking another answer). */
  readonly busy: readonly HandoffRecord[];
}

/** A "done" on a login the bridge polls is a cue to ask the service, not a code to claim with. */
export const polls = (r: HandoffRecord): boolean => r.nextPollAt !== undefined;

/** What this reply would do to a waiting handoff, if it answers it at all. */
export function actionFor(record: HandoffRecord, reply: ParsedReply): ReplyAction | undefined {
  const saysDone = reply.saysDone;
  const code = record.answer && record.answer !== 'done' ? answerOf(reply, record.answer) : undefined;
  if (record.serviceReadyAt !== undefined && (saysDone || code !== undefined))
    return { kind: 'confirm', saidDone: code === undefined };
  if (code !== undefined) return { kind: 'claim', code };
  if (!saysDone) return undefined;
  if (polls(record)) return { kind: 'poll' };
  return record.answer === 'done' ? { kind: 'claim', code: 'done' } : undefined;
}

/** Could a busy handoff take this reply once it is free? */
function mightTake(record: HandoffRecord, reply: ParsedReply): boolean {
  if (record.answer) return answerOf(reply, record.answer) !== undefined || reply.saysDone;
  return looksLikeAnswer(reply);
}

/**
 * `handoffId` is the handoff the platform names (InboundReply.handoffId); `parsed` is the
 * reply's text as `parseReply` read it.
 */
export function routeReply(
  reply: { readonly parsed: ParsedReply; readonly handoffId?: string | undefined },
  open: readonly HandoffRecord[],
  jobId: string,
): Routing {
  const { parsed } = reply;
  const said = parsed.named;
  const named = reply.handoffId !== undefined || said.ids.length > 0 || said.tags.length > 0;
  const pool = named
    ? open.filter((r) => r.id === reply.handoffId || said.ids.includes(r.id) || said.tags.includes(handoffTag(r.id)))
    : open;
  const waiting = (r: HandoffRecord) =>
    r.status === 'awaiting_human' || (r.status === 'claiming' && r.claimedBy === jobId);
  const candidates: Candidate[] = [];
  const busy: HandoffRecord[] = [];
  for (const record of pool) {
    if (waiting(record)) {
      const action = actionFor(record, parsed);
      if (action) candidates.push({ record, action });
    } else if ((record.status === 'pending' || record.status === 'claiming') && mightTake(record, parsed)) {
      busy.push(record);
    }
  }
  return { named, candidates, busy };
}
