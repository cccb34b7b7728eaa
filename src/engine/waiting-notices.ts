import { describeDuration } from '../core/clock.js';
import type { HandoffRecord } from '../core/handoff.js';
import { handoffTag } from '../core/handoff-tag.js';
import { formatUtc, type NoticeMessage } from '../core/messages.js';
import { people, say, value, words, type Sentence } from '../core/sentence.js';
import { textLimits } from '../core/untrusted-text.js';
import { serviceLabel } from './notices.js';

/**
 * What the bridge says while a handoff waits (issue #14): reminders, the warning before the
 * expiry, more time. Short, one line each; the approvers as people (each platform mentions
 * them its own way, or names them), everything the agent or a service chose as values.
 */
const agent = (record: HandoffRecord) => value(record.agentId, textLimits.id);
const tag = (record: HandoffRecord) => value(handoffTag(record.id), textLimits.id);
const until = (ms: number) => words(formatUtc(ms));

/** What waits, in a few words: "the login to HOST for agent A" or "the approval TITLE for agent A". */
export function whatWaits(record: HandoffRecord): Sentence {
  return record.kind === 'approval'
    ? say`the approval ${value(record.approval?.action.title ?? '', 200)} for agent ${agent(record)} (${tag(record)})`
    : say`the login to ${serviceLabel(record)} for agent ${agent(record)} (${tag(record)})`;
}

/** Whom a line calls on: the named approvers, or anyone who may answer here. */
const whoIsAsked = (record: HandoffRecord): Sentence =>
  record.approvers.length ? people(record.approvers, { mention: true }) : words('Anyone who may answer here');

function notice(record: HandoffRecord, text: Sentence): NoticeMessage {
  return { kind: 'notice', handoffId: record.id, event: 'waiting', text };
}

export const waitingNotices = {
  reminder(record: HandoffRecord, n: number): NoticeMessage {
    const of = record.remind ? words(` (reminder ${n} of ${record.remind.max})`) : [];
    return notice(
      record,
      say`⏰ ${whoIsAsked(record)}: ${whatWaits(record)} still waits for you, until ${until(record.expiresAt)}${of}.`,
    );
  },
  expiryWarning(record: HandoffRecord, now: number): NoticeMessage {
    const left = words(describeDuration(record.expiresAt - now));
    return notice(
      record,
      say`⏳ ${whoIsAsked(record)}: ${whatWaits(record)} expires in ${left}, at ${until(record.expiresAt)}. Answer before then, or the agent is told it expired.`,
    );
  },
  /** In the handoff's thread: who joins, and that the others still may answer. */
  escalated(record: HandoffRecord, added: readonly string[]): NoticeMessage {
    const still = record.approvers.length
      ? say` ${people(record.approvers.filter((a) => !added.includes(a)))} can still answer too.`
      : [];
    return notice(
      record,
      say`⤴️ Escalated: nobody has answered ${whatWaits(record)} yet, so ${people(added, { mention: true })} may answer it now, until ${until(record.expiresAt)}.${still}`,
    );
  },
  /**
   * In the step's own thread (an on-call channel): what waits and where to answer. Its own
   * handoff id (`<id>/escalation`) keeps platforms that thread a handoff's notices under its
   * request comment from looking for that request in this other thread.
   */
  escalatedElsewhere(record: HandoffRecord, asked: readonly string[], threadLink?: string): NoticeMessage {
    return {
      kind: 'notice',
      handoffId: `${record.id}/escalation`,
      event: 'waiting',
      text: say`⤴️ ${people(asked, { mention: true })}: you are asked to help with ${whatWaits(record)}. It waits in ${value(record.thread, 512)} until ${until(record.expiresAt)}: answer there, not here.`,
      ...(threadLink ? { threadLink } : {}),
    };
  },
  extended(record: HandoffRecord): NoticeMessage {
    return notice(
      record,
      say`🕒 Agent ${agent(record)} gave more time: ${whatWaits(record)} now waits until ${until(record.expiresAt)}.`,
    );
  },
};
