import type { Button, KnownBlock } from '@slack/web-api';
import { describeAnswer, describeApprovers, renderPlainText, safeLogoUrl, type ApprovalRequestMessage, type NoticeMessage, type OutboundMessage } from '../../src/core/messages.js';

/**
 * Block Kit for the bridge's messages. Everything that comes from an agent or a service
 * (agent id, service name, scopes, notes) is escaped: Slack's mrkdwn would otherwise turn
 * `<!channel>` into a ping or `<https://evil|Approve>` into a disguised link. Slack user ids
 * become mentions, so people see names instead of `U0123ABCD`.
 */

/** A message as chat.postMessage / chat.postEphemeral take it. */
export interface SlackContent {
  /** Fallback shown in notifications and by clients that cannot show blocks. */
  readonly text: string;
  /** The Block Kit layout; notices have none. */
  readonly blocks?: KnownBlock[];
}

/** action_ids of the buttons on approval messages. */
export const slackActionIds = {
  /** The link button. Slack still reports the click; it needs nothing but an ack. */
  openLink: 'handoff_open_link',
  /** Opens the modal where the code is pasted out of the channel's sight. */
  pasteCode: 'handoff_paste_code',
} as const;

/** Slack's limits on a button: label 75 chars, url and value 3000/2000 chars. */
const maxButtonUrl = 3000;

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// U/W + 8–11 upper-case letters and digits, at least one digit (so shouted words stay words).
const userIdPattern = /(?<![A-Za-z0-9@])([UW](?=[A-Z0-9]*\d)[A-Z0-9]{8,11})(?![A-Za-z0-9])/g;

export function isSlackUserId(value: string): boolean {
  return new RegExp(`^${userIdPattern.source}$`).test(value);
}

const urlPattern = /https?:\/\/[^\s<>]+/g;
const mentionIds = (text: string) => text.replace(userIdPattern, '<@$1>');

/** Escapes text and turns bare Slack user ids in it (outside URLs) into mentions. */
export function slackText(text: string): string {
  const escaped = escapeMrkdwn(text);
  let out = '';
  let last = 0;
  for (const match of escaped.matchAll(urlPattern)) {
    out += mentionIds(escaped.slice(last, match.index)) + match[0];
    last = match.index + match[0].length;
  }
  return out + mentionIds(escaped.slice(last));
}

/** What the paste-code button carries back to the bridge (Slack returns it untouched). */
export interface PasteCodeValue {
  /** Canonical ref of the thread the approval message is in. */
  readonly thread: string;
  readonly handoffId: string;
  /** What the modal asks for: a finish code or an emailed one-time code. */
  readonly answer: ApprovalRequestMessage['answer'];
}

function slackDate(epochMs: number): string {
  const fallback = `${new Date(epochMs).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${Math.floor(epochMs / 1000)}^{date_short_pretty} at {time}|${fallback}>`;
}

function buttons(msg: ApprovalRequestMessage, thread: string, codeModal: boolean): Button[] {
  const out: Button[] = [];
  if (!msg.linkSentPrivately && msg.approvalUrl.length <= maxButtonUrl) {
    out.push({
      type: 'button',
      action_id: slackActionIds.openLink,
      text: { type: 'plain_text', text: 'Open approval page' },
      url: msg.approvalUrl,
      style: 'primary',
    });
  }
  if (codeModal && msg.answer !== 'done') {
    const value: PasteCodeValue = { thread, handoffId: msg.handoffId, answer: msg.answer };
    out.push({
      type: 'button',
      action_id: slackActionIds.pasteCode,
      text: { type: 'plain_text', text: msg.answer === 'email_code' ? 'Enter the emailed code' : 'Paste finish code' },
      value: JSON.stringify(value),
    });
  }
  return out;
}

/** Formats Slack can show as an image (it shows no SVG). */
const slackImagePath = /\.(png|jpe?g|gif)$/i;

/** The logo as a Slack image, when Slack can show it. */
function slackLogo(msg: ApprovalRequestMessage): { type: 'image'; image_url: string; alt_text: string } | undefined {
  const url = safeLogoUrl(msg);
  if (!url || !slackImagePath.test(new URL(url).pathname)) return undefined;
  return { type: 'image', image_url: url, alt_text: msg.serviceName.slice(0, 2_000) };
}

export interface SlackRenderOptions {
  readonly thread: string;
  readonly codeModal: boolean;
  /** Show the service's logo (Slack fetches it; the adapter retries without it if that fails). Default true. */
  readonly logo?: boolean;
}

/** The approval request: who asks for what, the link (unless sent privately), expiry, who may answer. */
export function renderApproval(msg: ApprovalRequestMessage, options: SlackRenderOptions): SlackContent {
  const scopes = msg.scopes.length ? msg.scopes.map((s) => `\`${escapeMrkdwn(s)}\``).join(' ') : '_none named_';
  const logo = options.logo === false ? undefined : slackLogo(msg);
  const how = msg.linkSentPrivately
    ? `The approval link was sent privately to ${msg.approvers.length ? slackText(msg.approvers.join(', ')) : 'the approver'}. ${escapeMrkdwn(describeAnswer(msg))}`
    : `${escapeMrkdwn(describeAnswer(msg))}${msg.approvalUrl.length > maxButtonUrl ? `\n${escapeMrkdwn(msg.approvalUrl)}` : ''}`;
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `:lock: Agent *${escapeMrkdwn(msg.agentId)}* asks to log in to *${escapeMrkdwn(msg.serviceName)}*` },
      fields: [{ type: 'mrkdwn', text: `*Scopes*\n${scopes}` }],
      ...(logo ? { accessory: logo } : {}),
    },
    { type: 'section', text: { type: 'mrkdwn', text: how } },
  ];
  if (msg.note) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(msg.note) } });
  const actions = buttons(msg, options.thread, options.codeModal);
  if (actions.length) blocks.push({ type: 'actions', elements: actions });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Expires ${slackDate(msg.expiresAt)}. ${slackText(describeApprovers(msg.approvers))} Tag *${escapeMrkdwn(msg.handoffTag)}*: if other requests wait in this thread, start your reply with it. Handoff \`${escapeMrkdwn(msg.handoffId)}\`.`,
      },
    ],
  });
  return { text: slackText(renderPlainText(msg)), blocks };
}

/** Outcomes, refusals and hints: one short line in the thread, exactly as the engine wrote it. */
export function renderNotice(msg: NoticeMessage): SlackContent {
  return { text: slackText(msg.text) };
}

/** True when the message would carry the service's logo (so a refusal may be the image's fault). */
export function hasSlackLogo(msg: OutboundMessage): boolean {
  return msg.kind === 'approval_request' && slackLogo(msg) !== undefined;
}

export function renderSlackMessage(msg: OutboundMessage, options: SlackRenderOptions): SlackContent {
  return msg.kind === 'notice' ? renderNotice(msg) : renderApproval(msg, options);
}
