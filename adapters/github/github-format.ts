import type { GithubPermission } from './github-config.js';
import {
  htmlImage,
  markdownCode,
  markdownLink,
  quietPerson,
  renderMarkdownSentence,
} from '../../src/core/markdown-text.js';
import {
  noticeLines,
  approvalLink,
  describeAnswer,
  describeLink,
  describeRequest,
  describeTag,
  formatUtc,
  safeLogoUrl,
  threadLinkLabel,
  threadLinkOf,
  type ApprovalRequestMessage,
  type NoticeMessage,
  type OutboundMessage,
} from '../../src/core/messages.js';
import { say, type Sentence } from '../../src/core/sentence.js';
import { cleanText, textLimits } from '../../src/core/untrusted-text.js';

/**
 * Markdown for GitHub comments. Every comment the bridge writes starts with a hidden marker,
 * so the bridge recognises its own comments whichever account or App posted them (and never
 * answers itself). Values from services, agents and people are code spans and the bridge's
 * words are escaped (src/core/markdown-text.ts): the only link is the approval link, the only
 * image the service's logo beside its label, the only mentions the named approvers.
 */
export const ownCommentMarker = '<!-- handoff-bridge -->';

export function isOwnComment(body: string): boolean {
  return body.includes(ownCommentMarker);
}

/** GitHub's login rule: letters, digits and single inner hyphens, at most 39 characters. */
const loginPattern = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

/** A GitHub login without its `@`, when it is one (a team such as `org/team` is not). */
export function githubLogin(handle: string): string | undefined {
  const login = handle.trim().replace(/^@/, '');
  return loginPattern.test(login) ? login : undefined;
}

/** An approver named in the request: @-mentioned so they are notified, when it is a login. */
const approverMention = (handle: string): string => {
  const login = githubLogin(handle);
  return login ? `@${login}` : markdownCode(handle);
};

/** Who may answer, in GitHub's terms: named logins are @-mentioned so they are notified. */
export function describeGithubApprovers(approvers: readonly string[], permission: GithubPermission): string {
  if (approvers.length > 0) {
    const shown = approvers.slice(0, textLimits.scopes).map(approverMention).join(', ');
    const more = approvers.length > textLimits.scopes ? ` and ${approvers.length - textLimits.scopes} more` : '';
    return `Only ${shown}${more} may answer.`;
  }
  return permission === 'read'
    ? 'Anyone who can read this repository may answer.'
    : `Only people with ${permission} access to this repository may answer.`;
}

/**
 * Sentences on GitHub: people in notices are shown by login, never mentioned, except those the
 * bridge calls on (a reminder's approvers), @-mentioned when the id is a login.
 */
export const githubSentence = (sentence: Sentence): string =>
  renderMarkdownSentence(sentence, (part) => (part.mention ? approverMention(part.person) : quietPerson(part)));

function renderApproval(msg: ApprovalRequestMessage, permission: GithubPermission): string {
  // GitHub serves images through its own proxy, so the logo costs the reader no request to the service.
  const logo = safeLogoUrl(msg);
  const link = msg.linkSentPrivately ? undefined : approvalLink(msg);
  const lines = [
    '### 🔐 Login approval needed',
    githubSentence(describeRequest(msg)),
    ...(logo
      ? [`${htmlImage(logo, 20)} ${githubSentence(['The logo, like the name, is the service’s own claim.'])}`]
      : []),
    `${link ? `**${markdownLink(msg.answer === 'email_code' ? 'The service' : 'Open the approval page', link.href)}** ` : ''}${githubSentence(describeLink(msg))}`,
    githubSentence(describeAnswer(msg)),
    ...(msg.notes ?? []).map(githubSentence),
    `${githubSentence(say`Expires at ${[formatUtc(msg.expiresAt)]}.`)} ${describeGithubApprovers(msg.approvers, permission)}`,
    `Handoff ${markdownCode(cleanText(msg.handoffId, textLimits.id))}`,
  ];
  lines.splice(
    lines.length - 1,
    0,
    githubSentence(
      describeTag(
        msg,
        'if other requests wait in this thread, start your reply with it (or quote-reply this comment).',
      ),
    ),
  );
  return lines.join('\n\n');
}

/** A comment body of the bridge's own text, with the marker. */
export const renderGithubText = (text: string): string => `${ownCommentMarker}\n${text}`;

/** The link back to the handoff's thread, as a markdown link of the bridge's own label. */
const linkBack = (msg: NoticeMessage): string[] => {
  const href = threadLinkOf(msg);
  return href ? [markdownLink(threadLinkLabel, href)] : [];
};

/** The comment body for an outbound message. */
export function renderGithubComment(msg: OutboundMessage, permission: GithubPermission): string {
  return renderGithubText(
    msg.kind === 'notice'
      ? [...noticeLines(msg).map(githubSentence), ...linkBack(msg)].join('\n\n')
      : renderApproval(msg, permission),
  );
}
