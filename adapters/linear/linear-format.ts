import { describeDuration } from '../../src/core/clock.js';
import { markdownCode, markdownLink, renderMarkdownSentence } from '../../src/core/markdown-text.js';
import {
  noticeLines,
  approvalLink,
  describeLink,
  describeRequest,
  describeTag,
  formatUtc,
  shownUserCode,
  threadLinkLabel,
  threadLinkOf,
  type ApprovalRequestMessage,
  type OutboundMessage,
} from '../../src/core/messages.js';
import { list, say, value, words, type Sentence } from '../../src/core/sentence.js';
import { cleanText, textLimits } from '../../src/core/untrusted-text.js';

/**
 * Comments in Linear's markdown. The approval request says, in this order: who asks for what,
 * the link, what to send back, who may answer and until when. Values from outside (service
 * host and name, agent id, scopes, notes, people's names) are code spans and the bridge's
 * words are escaped (src/core/markdown-text.ts), so nothing but the approval link is a link.
 */

/** Who may answer, as the adapter worked it out for this issue. */
export type ApproverLine =
  /** Named approvers, by display name where Linear knows them. */
  | { readonly kind: 'named'; readonly names: readonly string[] }
  /** None named: the issue's assignee and creator. */
  | { readonly kind: 'issue_people'; readonly assignee?: string; readonly creator?: string };

/** Body that replaces a comment whose code was spent, when it cannot be deleted. */
export const redactedBody = '_[code removed by handoff after use]_';

/** Who may answer, as a sentence; display names are values (people name themselves). */
export function describeApproverLine(line: ApproverLine): Sentence {
  if (line.kind === 'named') return say`Only ${list(line.names, textLimits.name)} may answer.`;
  const who: Sentence[] = [
    ...(line.assignee ? [say`assignee (${value(line.assignee, textLimits.name)})`] : []),
    ...(line.creator ? [say`creator (${value(line.creator, textLimits.name)})`] : []),
  ];
  return who.length > 0
    ? say`Only this issue's ${who[0]!}${who[1] ? say` or ${who[1]}` : []} may answer.`
    : ['Only this issue’s assignee or creator may answer, and it has neither yet: assign the issue to the approver.'];
}

function answerLine(msg: ApprovalRequestMessage): string {
  switch (msg.answer) {
    case 'finish_code':
      return 'Open the link, sign in and approve, then **reply to this comment with the finish code** the page shows.';
    case 'email_code':
      return 'The service emails you a one-time code: **reply to this comment with that code**.';
    case 'page_code':
      return 'Open the link, sign in and press Authorize, then **reply to this comment with the code** the page shows.';
    case 'done': {
      const userCode = shownUserCode(msg);
      return userCode
        ? `Open the link, enter the code ${markdownCode(userCode)} and approve, then reply **done** to this comment.`
        : 'Open the link and approve, then reply **done** to this comment.';
    }
  }
}

export function renderApproval(msg: ApprovalRequestMessage, approvers: ApproverLine, now: number): string {
  const link = msg.linkSentPrivately ? undefined : approvalLink(msg);
  return [
    `🔐 ${renderNotice(describeRequest(msg))}`,
    `${link ? `**${markdownLink(msg.answer === 'email_code' ? 'The service' : 'Open the approval page', link.href)}** ` : ''}${renderNotice(describeLink(msg))}`,
    answerLine(msg),
    ...(msg.notes ?? []).map(renderNotice),
    renderNotice(
      say`${describeApproverLine(approvers)} Expires at ${words(formatUtc(msg.expiresAt))} (in ${words(describeDuration(msg.expiresAt - now))}).`,
    ),
    renderNotice(describeTag(msg, 'a reply to this comment answers this request.')),
    `_handoff ${markdownCode(cleanText(msg.handoffId, textLimits.id))}_`,
  ].join('\n\n');
}

/** A sentence as Linear markdown; people are shown by name, never mentioned. */
export function renderNotice(text: Sentence): string {
  return renderMarkdownSentence(text);
}

export function renderMessage(msg: OutboundMessage, approvers: ApproverLine, now: number): string {
  if (msg.kind !== 'notice') return renderApproval(msg, approvers, now);
  const href = threadLinkOf(msg);
  return [...noticeLines(msg).map(renderNotice), ...(href ? [markdownLink(threadLinkLabel, href)] : [])].join('\n\n');
}
