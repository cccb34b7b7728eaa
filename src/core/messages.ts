import { describeService, list, people, plainSentence, say, value, words, type Sentence } from './sentence.js';
import { cleanText, isUserCode, linkTarget, textLimits } from './untrusted-text.js';

/**
 * What the engine wants said in a thread. The engine states intent; each adapter renders it
 * in its platform's idiom (Block Kit, markdown, plain text) and `renderPlainText` is the
 * shared fallback. No message ever carries a secret: approval URLs and user codes are the
 * only credentials-adjacent values, and they are meant for the approver's eyes.
 *
 * Nothing here is markup. Every value an agent, a service or a person chose (service name,
 * agent id, scopes, user code, notes, error messages, names) stays a separate field or a
 * foreign part of a `Sentence`, and each platform escapes it where it lands.
 */

/** Asks a person to open the approval link and answer in the thread. */
export interface ApprovalRequestMessage {
  readonly kind: 'approval_request';
  readonly handoffId: string;
  /**
   * The short tag (`#h-4f2a`, core/handoff-tag.ts) a reply names to say it answers this
   * request when several wait in one thread. Every rendering shows it.
   */
  readonly handoffTag: string;
  /**
   * The name the service gives itself (its metadata's `resource_name`), when it gave one. A
   * claim, not a fact: every platform shows it labelled as such, beside the host.
   */
  readonly serviceName?: string;
  /** The service's API root; its host is what every platform shows as the service. */
  readonly serviceUrl: string;
  /** URL of a logo the service advertises, shown beside its self-declared name where the platform shows images. */
  readonly serviceLogoUrl?: string;
  readonly agentId: string;
  readonly scopes: readonly string[];
  /**
   * The URL the approver opens; shown as a link only when http(s), always with its host beside
   * it. Absent: the service asks the approver on their own device (CIBA), nothing to open here.
   */
  readonly approvalUrl?: string;
  /** For device-style logins: the code to type on the approval page (shown only in RFC 8628's shape). */
  readonly userCode?: string;
  /** What the approver sends back: a finish code, an emailed one-time code, or just "done". */
  readonly answer: 'finish_code' | 'email_code' | 'page_code' | 'done';
  /** When the request stops working, epoch ms. */
  readonly expiresAt: number;
  /** Platform ids of the people who may answer; empty means anyone in the thread. */
  readonly approvers: readonly string[];
  /** True when the link was sent privately and this thread copy must not contain it. */
  readonly linkSentPrivately?: boolean;
  /**
   * A person may ask for a fresh link here (the service's link or code can time out, and fresh
   * links remain): platforms with buttons offer one that sends the same request as a `new link`
   * reply. `version` counts the links shown before this one; a click hands it back
   * (InboundReply.linkVersion), so a click on an older request asks nothing new.
   */
  readonly freshLink?: { readonly version: number };
  /** Extra lines, e.g. "The service has emailed a***@example.com a link.", one sentence each. */
  readonly notes?: readonly Sentence[];
}

/** Everything else the bridge says: outcomes, refusals, hints. */
export interface NoticeMessage {
  readonly kind: 'notice';
  readonly handoffId: string;
  readonly event: NoticeEvent;
  /** What to say, as structure: build it with `say` so foreign values stay values. */
  readonly text: Sentence;
  /** Further lines, one sentence each (an approval request's fields). */
  readonly lines?: readonly Sentence[];
  /** The one link the post may show as a link (an approval's https link), already checked. */
  readonly link?: string;
  /**
   * The web address of the thread the handoff waits in, from its platform's adapter and
   * already checked (http(s)): a notice in another thread links back to it.
   */
  readonly threadLink?: string;
}

export type NoticeEvent =
  | 'completed'
  | 'expired'
  | 'cancelled'
  | 'failed'
  | 'wrong_code'
  | 'refused'
  | 'hint_open_link'
  | 'already_finished'
  | 'code_removed'
  | 'service_ready'
  | 'which_handoff'
  /** An agent asks people to approve or deny an action (issue #13); platforms may add buttons. */
  | 'approval_asked'
  /** An approval was decided, expired or cancelled. */
  | 'approval_settled'
  /** A handoff still waits: a reminder, the warning before its expiry, or more time (issue #14). */
  | 'waiting'
  | 'info';

export type OutboundMessage = ApprovalRequestMessage | NoticeMessage;

/**
 * The service's logo as a URL safe to put in a platform's markup: http(s) only, in the
 * parsed (percent-encoded) form, which has no quote, bracket or space left to break out of
 * an attribute or a link. Undefined when there is none or it is not usable.
 */
export function safeLogoUrl(msg: Pick<ApprovalRequestMessage, 'serviceLogoUrl'>): string | undefined {
  return msg.serviceLogoUrl && msg.serviceLogoUrl.length <= 2_000 ? linkTarget(msg.serviceLogoUrl)?.href : undefined;
}

/** The approval link as the bridge shows it (undefined: not http(s), so no link at all). */
export const approvalLink = (msg: Pick<ApprovalRequestMessage, 'approvalUrl'>) => linkTarget(msg.approvalUrl);

/** The user code, when it has RFC 8628's shape; anything else is never shown. */
export const shownUserCode = (msg: Pick<ApprovalRequestMessage, 'userCode'>): string | undefined =>
  msg.userCode !== undefined && isUserCode(msg.userCode) ? msg.userCode : undefined;

export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Who may answer, with the named approvers as people (platforms mention them where they can). */
export function describeApprovers(approvers: readonly string[]): Sentence {
  return approvers.length === 0 ? ['Anyone in this thread may answer.'] : say`Only ${people(approvers)} may answer.`;
}

/** What the approver does, in words; a user code (RFC 8628 shape only) is a value. */
export function describeAnswer(msg: ApprovalRequestMessage): Sentence {
  switch (msg.answer) {
    case 'finish_code':
      return ['Open the link, sign in and approve, then paste the finish code here.'];
    case 'email_code':
      return ['Reply here with the one-time code from the email.'];
    case 'page_code':
      return ['Open the link, sign in and press Authorize, then paste here the code the page shows.'];
    case 'done': {
      if (msg.approvalUrl === undefined)
        return [
          'Approve on your device when it asks; nothing to paste here (a "done" makes the bridge check at once).',
        ];
      const code = shownUserCode(msg);
      return code
        ? say`Open the link, enter the code ${value(code, textLimits.id)} and approve, then reply "done" here.`
        : ['Open the link and approve, then reply "done" here.'];
    }
  }
}

/** "Agent X asks you to log in to HOST (calls itself …) with scopes a, b." */
export function describeRequest(msg: ApprovalRequestMessage): Sentence {
  const scopes = msg.scopes.length ? say` with scopes ${list(msg.scopes, textLimits.scope)}` : [];
  return say`Agent ${value(msg.agentId, textLimits.id)} asks you to log in to ${describeService(msg.serviceUrl, msg.serviceName)}${scopes}.`;
}

/** Where the link goes: "the link opens HOST", or why there is none in this copy. */
export function describeLink(msg: ApprovalRequestMessage): Sentence {
  if (msg.approvalUrl === undefined)
    return ['No link: the service asks the approver on their own phone or authenticator app.'];
  if (msg.linkSentPrivately) return ['The approval link was sent to the approver privately.'];
  const link = approvalLink(msg);
  return link
    ? say`The link opens ${value(link.host, textLimits.host)}.`
    : ['The service gave no web link the bridge will show.'];
}

/** The line that tells people how to aim a reply at this request; `how` ends it per platform. */
export function describeTag(
  msg: Pick<ApprovalRequestMessage, 'handoffTag'>,
  how = 'if other requests wait in this thread, start your reply with it.',
): Sentence {
  return say`Tag ${value(msg.handoffTag, textLimits.id)}: ${words(how)}`;
}

/** Every line of a notice, the first one first. */
export const noticeLines = (msg: NoticeMessage): readonly Sentence[] => [msg.text, ...(msg.lines ?? [])];

/** The link back to the handoff's thread a notice carries, checked again (http(s), short): its href. */
export const threadLinkOf = (msg: NoticeMessage): string | undefined => {
  const link = msg.threadLink && msg.threadLink.length <= 2_000 ? linkTarget(msg.threadLink) : undefined;
  return link?.href;
};

/** The label platforms give the link back to the handoff's thread. */
export const threadLinkLabel = 'Open the thread where it waits';

/** The shared plain-text rendering; adapters with richer formatting use their own. */
export function renderPlainText(msg: OutboundMessage): string {
  if (msg.kind === 'notice') return noticeLines(msg).map(plainSentence).join('\n');
  const link = msg.linkSentPrivately ? undefined : approvalLink(msg);
  const lines = [
    `🔐 ${plainSentence(describeRequest(msg))}`,
    // Email flows have no page to open here: the link is in the email.
    link
      ? `${msg.answer === 'email_code' ? 'Service' : 'Approve here'}: ${link.href} (${plainSentence(describeLink(msg))})`
      : plainSentence(describeLink(msg)),
    plainSentence(describeAnswer(msg)),
    ...(msg.notes ?? []).map(plainSentence),
    `Expires at ${formatUtc(msg.expiresAt)}. ${plainSentence(describeApprovers(msg.approvers))}`,
    `${plainSentence(describeTag(msg))} (handoff ${cleanText(msg.handoffId, textLimits.id)})`,
  ];
  return lines.join('\n');
}
