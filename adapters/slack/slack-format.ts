import type { Button, ContextBlock, KnownBlock } from '@slack/web-api';
import {
  noticeLines,
  approvalLink,
  describeAnswer,
  describeApprovers,
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
import { people, say } from '../../src/core/sentence.js';
import { cleanText, hostOf, textLimits } from '../../src/core/untrusted-text.js';
import { approvalButtons, loginActionsBlockId, newLinkButton } from './slack-handoff-buttons.js';
import { mrkdwn, plainText, slackCode, slackSentence } from './slack-mrkdwn.js';

/**
 * Block Kit for the bridge's messages. Values from agents and services sit in `plain_text`
 * fields (Slack parses nothing there) or in inline code inside `verbatim` mrkdwn
 * (slack-mrkdwn.ts); mrkdwn carries only the bridge's structure: bold labels, the expiry date
 * token and mentions of the approvers it resolved. The approval link is a button whose host is
 * shown beside it; the service's own name and logo sit in a line that says they are its claim.
 */

/** A message as chat.postMessage / chat.postEphemeral take it. */
export interface SlackContent {
  /** Fallback shown in notifications and by clients that cannot show blocks (mrkdwn, escaped). */
  readonly text: string;
  /** The Block Kit layout. */
  readonly blocks?: KnownBlock[];
}

/** action_ids of the buttons on approval messages. */
export const slackActionIds = {
  /** The link button. Slack still reports the click; it needs nothing but an ack. */
  openLink: 'handoff_open_link',
  /** Opens the modal where the code is pasted out of the channel's sight. */
  pasteCode: 'handoff_paste_code',
} as const;

/** Slack's limit on a button's url. */
const maxButtonUrl = 3000;

/** What the paste-code button carries back to the bridge (Slack returns it untouched). */
export interface PasteCodeValue {
  /** Canonical ref of the thread the approval message is in. */
  readonly thread: string;
  readonly handoffId: string;
  /** What the modal asks for: a finish code or an emailed one-time code. */
  readonly answer: ApprovalRequestMessage['answer'];
}

function slackDate(epochMs: number): string {
  return `<!date^${Math.floor(epochMs / 1000)}^{date_short_pretty} at {time}|${formatUtc(epochMs)}>`;
}

/** The approval link, when there is one Slack can carry in a button. */
function buttonLink(msg: ApprovalRequestMessage): string | undefined {
  const link = msg.linkSentPrivately ? undefined : approvalLink(msg);
  return link && link.href.length <= maxButtonUrl ? link.href : undefined;
}

function buttons(msg: ApprovalRequestMessage, thread: string, codeModal: boolean): Button[] {
  const out: Button[] = [];
  const url = buttonLink(msg);
  if (url) {
    out.push({
      type: 'button',
      action_id: slackActionIds.openLink,
      text: { type: 'plain_text', text: 'Open approval page' },
      url,
      style: 'primary',
    });
  }
  if (codeModal && msg.answer !== 'done') {
    const value: PasteCodeValue = { thread, handoffId: msg.handoffId, answer: msg.answer };
    out.push({
      type: 'button',
      action_id: slackActionIds.pasteCode,
      text: {
        type: 'plain_text',
        text:
          msg.answer === 'email_code'
            ? 'Enter the emailed code'
            : msg.answer === 'page_code'
              ? 'Enter the code'
              : 'Paste finish code',
      },
      value: JSON.stringify(value),
    });
  }
  // The service's link or code can time out: a click asks for another (slack-handoff-buttons.ts).
  if (msg.freshLink) out.push(newLinkButton(msg.handoffId));
  return out;
}

/** Formats Slack can show as an image (it shows no SVG). */
const slackImagePath = /\.(png|jpe?g|gif)$/i;

/** The logo as a Slack image element, when Slack can show it. */
function slackLogo(msg: ApprovalRequestMessage): { type: 'image'; image_url: string; alt_text: string } | undefined {
  const url = safeLogoUrl(msg);
  if (!url || !slackImagePath.test(new URL(url).pathname)) return undefined;
  return { type: 'image', image_url: url, alt_text: 'logo the service shows for itself' };
}

export interface SlackRenderOptions {
  readonly thread: string;
  readonly codeModal: boolean;
  /** Show the service's logo (Slack fetches it; the adapter retries without it if that fails). Default true. */
  readonly logo?: boolean;
}

/** The service's own name and logo, labelled as its claim; undefined when it gave neither. */
function selfDeclared(msg: ApprovalRequestMessage, logo: ReturnType<typeof slackLogo>): ContextBlock | undefined {
  const name = msg.serviceName === undefined ? '' : cleanText(msg.serviceName, textLimits.name);
  if (!name && !logo) return undefined;
  const claim = name ? `The service calls itself “${name}”. ` : '';
  return {
    type: 'context',
    elements: [
      ...(logo ? [logo] : []),
      plainText(
        `${claim}${name ? 'That name' : 'Its logo'} is the service’s own claim; its host is the one above.`,
        400,
      ),
    ],
  };
}

/** The request's facts as label/value fields; every value plain text. */
function facts(msg: ApprovalRequestMessage): KnownBlock {
  const link = approvalLink(msg);
  const linkHost = msg.linkSentPrivately ? 'sent privately' : link ? link.host : 'no web link';
  const shownScopes = msg.scopes.slice(0, textLimits.scopes).map((s) => cleanText(s, textLimits.scope));
  const more = msg.scopes.length > textLimits.scopes ? ` and ${msg.scopes.length - textLimits.scopes} more` : '';
  return {
    type: 'section',
    text: mrkdwn(':lock: *Login approval needed*'),
    fields: [
      mrkdwn('*Agent*'),
      plainText(msg.agentId, textLimits.id),
      mrkdwn('*Service*'),
      plainText(hostOf(msg.serviceUrl), textLimits.host),
      mrkdwn('*The link opens*'),
      plainText(linkHost, textLimits.host),
      mrkdwn('*Scopes*'),
      plainText(shownScopes.length ? `${shownScopes.join(', ')}${more}` : 'none named', 1_900),
    ],
  };
}

/** The approval request: who asks for what, the link (unless sent privately), expiry, who may answer. */
export function renderApproval(msg: ApprovalRequestMessage, options: SlackRenderOptions): SlackContent {
  const logo = options.logo === false ? undefined : slackLogo(msg);
  const claim = selfDeclared(msg, logo);
  const link = approvalLink(msg);
  const tooLong = !msg.linkSentPrivately && link !== undefined && link.href.length > maxButtonUrl;
  const how = msg.linkSentPrivately
    ? slackSentence(
        say`The approval link was sent privately to ${msg.approvers.length ? people(msg.approvers) : ['the approver']}. ${describeAnswer(msg)}`,
      )
    : `${slackSentence(describeAnswer(msg))}${tooLong ? '\nThe approval link is too long for a Slack button; ask the agent for another login.' : ''}`;
  const blocks: KnownBlock[] = [facts(msg), ...(claim ? [claim] : []), { type: 'section', text: mrkdwn(how) }];
  for (const note of msg.notes ?? []) blocks.push({ type: 'section', text: mrkdwn(slackSentence(note)) });
  const actions = buttons(msg, options.thread, options.codeModal);
  if (actions.length)
    blocks.push({ type: 'actions', elements: actions, ...(msg.freshLink ? loginActionsBlockId(msg.freshLink) : {}) });
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(
        `Expires ${slackDate(msg.expiresAt)}. ${slackSentence(describeApprovers(msg.approvers))} ${slackSentence(describeTag(msg))} Handoff ${slackCode(cleanText(msg.handoffId, textLimits.id))}.`,
      ),
    ],
  });
  const text = `:lock: ${slackSentence(describeRequest(msg))} ${slackSentence(describeLink(msg))}`;
  return { text, blocks };
}

/** Outcomes, refusals and hints: one line in the thread, values as code, approvers as mentions. */
export function renderNotice(msg: NoticeMessage): SlackContent {
  const text = noticeLines(msg).map(slackSentence).join('\n');
  const blocks: KnownBlock[] = [{ type: 'section', text: mrkdwn(text) }];
  // An approval request (issue #13) carries Approve and Deny (slack-handoff-buttons.ts).
  if (msg.event === 'approval_asked') blocks.push(approvalButtons(msg.handoffId));
  // A notice in another thread (an escalation's) links back to the one where the handoff waits.
  const back = threadLinkOf(msg);
  if (back && back.length <= maxButtonUrl)
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', action_id: slackActionIds.openLink, text: plainText(threadLinkLabel, 75), url: back },
      ],
    });
  return { text, blocks };
}

/** True when the message would carry the service's logo (so a refusal may be the image's fault). */
export function hasSlackLogo(msg: OutboundMessage): boolean {
  return msg.kind === 'approval_request' && slackLogo(msg) !== undefined;
}

export function renderSlackMessage(msg: OutboundMessage, options: SlackRenderOptions): SlackContent {
  return msg.kind === 'notice' ? renderNotice(msg) : renderApproval(msg, options);
}
