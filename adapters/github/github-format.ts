import type { GithubPermission } from '../../src/core/config-github.js';
import { describeAnswer, safeLogoUrl, type ApprovalRequestMessage, type OutboundMessage } from '../../src/core/messages.js';

/**
 * Markdown for GitHub comments. Every comment the bridge writes starts with a hidden marker,
 * so the bridge recognises its own comments whichever account or App posted them (and never
 * answers itself). Values that come from services or agents are escaped: they must not
 * render as links, images or @-mentions that notify people.
 */
export const ownCommentMarker = '<!-- handoff-bridge -->';

export function isOwnComment(body: string): boolean {
  return body.includes(ownCommentMarker);
}

/** Backslash-escapes Markdown syntax and breaks @-mentions and #-references. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_{}[\]()<>#+!|~]/g, (c) => `\\${c}`)
    .replace(/@(?=\w)/g, '@\u200b')
    .replace(/\r?\n/g, ' ');
}

const code = (text: string) => `\`${text.replace(/`/g, 'ʼ')}\``;

function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Who may answer, in GitHub's terms: named logins are @-mentioned so they are notified. */
export function describeGithubApprovers(approvers: readonly string[], permission: GithubPermission): string {
  if (approvers.length > 0) return `Only ${approvers.map((login) => `@${login.replace(/^@/, '')}`).join(', ')} may answer.`;
  return permission === 'read'
    ? 'Anyone who can read this repository may answer.'
    : `Only people with ${permission} access to this repository may answer.`;
}

function renderApproval(msg: ApprovalRequestMessage, permission: GithubPermission): string {
  const scopes = msg.scopes.length ? ` with scopes ${msg.scopes.map(code).join(', ')}` : '';
  // GitHub serves images through its own proxy, so the logo costs the reader no request to the service.
  const logo = safeLogoUrl(msg);
  const lines = [
    `### ${logo ? `<img src="${logo}" alt="" width="20" height="20"> ` : ''}🔐 Login approval needed: ${escapeMarkdown(msg.serviceName)}`,
    '',
    `Agent ${code(msg.agentId)} asks you to log in to **${escapeMarkdown(msg.serviceName)}**${scopes}.`,
    '',
    msg.linkSentPrivately ? 'The approval link was sent to the approver privately.' : `**Approve here:** <${msg.approvalUrl}>`,
    '',
    describeAnswer(msg),
  ];
  if (msg.note) lines.push('', ...msg.note.split('\n').map((line) => `> ${escapeMarkdown(line)}`));
  lines.push(
    '',
    `Expires at ${formatUtc(msg.expiresAt)}. ${describeGithubApprovers(msg.approvers, permission)}`,
    '',
    // A "Quote reply" of this comment carries the tag, which is how a reply names its request here.
    `Tag ${code(msg.handoffTag)}: if other requests wait in this thread, start your reply with it (or quote-reply this comment).`,
    '',
    `<sub>(handoff ${msg.handoffId})</sub>`,
  );
  return lines.join('\n');
}

/** A comment body of the bridge's own text, with the marker. */
export const renderGithubText = (text: string): string => `${ownCommentMarker}\n${text}`;

/** The comment body for an outbound message; notices are the engine's text, verbatim. */
export function renderGithubComment(msg: OutboundMessage, permission: GithubPermission): string {
  return renderGithubText(msg.kind === 'notice' ? msg.text : renderApproval(msg, permission));
}
