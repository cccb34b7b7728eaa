import { describeDuration } from '../../src/core/clock.js';
import type { ApprovalRequestMessage, OutboundMessage } from '../../src/core/messages.js';

/**
 * Comments in Linear's markdown. The approval request says, in this order: who asks for what,
 * the link, what to send back, who may answer and until when. Text that comes from outside
 * (service names, agent ids, notices that quote a person's name) is escaped, so it cannot
 * turn into links or formatting.
 */

/** Who may answer, as the adapter worked it out for this issue. */
export type ApproverLine =
  /** Named approvers, by display name where Linear knows them. */
  | { readonly kind: 'named'; readonly names: readonly string[] }
  /** None named: the issue's assignee and creator. */
  | { readonly kind: 'issue_people'; readonly assignee?: string; readonly creator?: string };

/** Body that replaces a comment whose code was spent, when it cannot be deleted. */
export const redactedBody = '_[code removed by handoff after use]_';

/** Escapes markdown so the text shows as typed. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>#|~]/g, (c) => `\\${c}`);
}

/** Inline code that cannot be broken out of. */
const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

/** A URL as a markdown link target: parentheses and spaces would end it early. */
const linkTarget = (url: string) => url.replace(/[()\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Who may answer, as a sentence; plain text unless `esc` escapes the names. */
export function describeApproverLine(line: ApproverLine, esc: (text: string) => string = (text) => text): string {
  if (line.kind === 'named') return `Only ${line.names.map(esc).join(', ')} may answer.`;
  const who = [
    line.assignee ? `assignee (${esc(line.assignee)})` : undefined,
    line.creator ? `creator (${esc(line.creator)})` : undefined,
  ].filter(Boolean);
  return who.length > 0
    ? `Only this issue's ${who.join(' or ')} may answer.`
    : 'Only this issue’s assignee or creator may answer, and it has neither yet: assign the issue to the approver.';
}

function answerLine(msg: ApprovalRequestMessage): string {
  switch (msg.answer) {
    case 'finish_code':
      return 'Open the link, sign in and approve, then **reply to this comment with the finish code** the page shows.';
    case 'email_code':
      return 'The service emails you a one-time code: **reply to this comment with that code**.';
    case 'done':
      return msg.userCode
        ? `Open the link, enter the code ${code(msg.userCode)} and approve, then reply **done** to this comment.`
        : 'Open the link and approve, then reply **done** to this comment.';
  }
}

export function renderApproval(msg: ApprovalRequestMessage, approvers: ApproverLine, now: number): string {
  const scopes = msg.scopes.length ? ` with scopes ${msg.scopes.map(code).join(', ')}` : '';
  const link = msg.linkSentPrivately
    ? 'The approval link was sent to the approver privately.'
    : `**[Approve the login to ${escapeMarkdown(msg.serviceName)}](${linkTarget(msg.approvalUrl)})**`;
  return [
    `🔐 Agent ${code(msg.agentId)} asks you to log in to **${escapeMarkdown(msg.serviceName)}**${scopes}.`,
    link,
    answerLine(msg),
    ...(msg.note ? [escapeMarkdown(msg.note)] : []),
    `${describeApproverLine(approvers, escapeMarkdown)} Expires at ${formatUtc(msg.expiresAt)} (in ${describeDuration(msg.expiresAt - now)}).`,
    `Tag ${code(msg.handoffTag)}: a reply to this comment answers this request. _handoff ${code(msg.handoffId)}_`,
  ].join('\n\n');
}

/** Notices are the engine's sentences, shown as written. */
export function renderNotice(text: string): string {
  return escapeMarkdown(text);
}

export function renderMessage(msg: OutboundMessage, approvers: ApproverLine, now: number): string {
  return msg.kind === 'notice' ? renderNotice(msg.text) : renderApproval(msg, approvers, now);
}
