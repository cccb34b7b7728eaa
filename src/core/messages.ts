/**
 * What the engine wants said in a thread. The engine states intent; each adapter renders it
 * in its platform's idiom (Block Kit, markdown, plain text) and `renderPlainText` is the
 * shared fallback. No message ever carries a secret: approval URLs and user codes are the
 * only credentials-adjacent values, and they are meant for the approver's eyes.
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
  /** Human name of the service, e.g. "Agent Analytics", else its host. */
  readonly serviceName: string;
  readonly serviceUrl: string;
  /** URL of a logo to show where the platform shows images. */
  readonly serviceLogoUrl?: string;
  readonly agentId: string;
  readonly scopes: readonly string[];
  /** The URL the approver opens. */
  readonly approvalUrl: string;
  /** For device-style logins: the code to type on the approval page. */
  readonly userCode?: string;
  /** What the approver sends back: a finish code, an emailed one-time code, or just "done". */
  readonly answer: 'finish_code' | 'email_code' | 'done';
  /** When the request stops working, epoch ms. */
  readonly expiresAt: number;
  /** Platform ids of the people who may answer; empty means anyone in the thread. */
  readonly approvers: readonly string[];
  /** True when the link was sent privately and this thread copy must not contain it. */
  readonly linkSentPrivately?: boolean;
  /** Extra line, e.g. "The service has emailed ana@example.com a code." */
  readonly note?: string;
}

/** Everything else the bridge says: outcomes, refusals, hints. */
export interface NoticeMessage {
  readonly kind: 'notice';
  readonly handoffId: string;
  readonly event: NoticeEvent;
  readonly text: string;
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
  | 'info';

export type OutboundMessage = ApprovalRequestMessage | NoticeMessage;

/**
 * The service's logo as a URL safe to put in a platform's markup: http(s) only, in the
 * parsed (percent-encoded) form, which has no quote, bracket or space left to break out of
 * an attribute or a link. Undefined when there is none or it is not usable.
 */
export function safeLogoUrl(msg: Pick<ApprovalRequestMessage, 'serviceLogoUrl'>): string | undefined {
  if (!msg.serviceLogoUrl || msg.serviceLogoUrl.length > 2_000) return undefined;
  try {
    const url = new URL(msg.serviceLogoUrl);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function describeApprovers(approvers: readonly string[]): string {
  return approvers.length === 0
    ? 'Anyone in this thread may answer.'
    : `Only ${approvers.join(', ')} may answer.`;
}

export function describeAnswer(msg: ApprovalRequestMessage): string {
  switch (msg.answer) {
    case 'finish_code':
      return 'Open the link, sign in and approve, then paste the finish code here.';
    case 'email_code':
      return 'Reply here with the one-time code from the email.';
    case 'done':
      return msg.userCode
        ? `Open the link, enter the code ${msg.userCode} and approve, then reply "done" here.`
        : 'Open the link and approve, then reply "done" here.';
  }
}

/** The line that tells people how to aim a reply at this request. */
export function describeTag(msg: Pick<ApprovalRequestMessage, 'handoffTag'>): string {
  return `Tag ${msg.handoffTag}: if other requests wait in this thread, start your reply with it.`;
}

/** The shared plain-text rendering; adapters with richer formatting use their own. */
export function renderPlainText(msg: OutboundMessage): string {
  if (msg.kind === 'notice') return msg.text;
  const lines = [
    `🔐 Agent ${msg.agentId} asks you to log in to ${msg.serviceName}` +
      (msg.scopes.length ? ` with scopes ${msg.scopes.join(', ')}.` : '.'),
    msg.linkSentPrivately
      ? 'The approval link was sent to the approver privately.'
      : // Email flows have no page to open here: the link is in the email.
        `${msg.answer === 'email_code' ? 'Service' : 'Approve here'}: ${msg.approvalUrl}`,
    describeAnswer(msg),
    ...(msg.note ? [msg.note] : []),
    `Expires at ${formatUtc(msg.expiresAt)}. ${describeApprovers(msg.approvers)}`,
    `${describeTag(msg)} (handoff ${msg.handoffId})`,
  ];
  return lines.join('\n');
}
