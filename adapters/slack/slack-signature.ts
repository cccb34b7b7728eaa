import { verifySlackRequest } from '@slack/bolt';
import { HandoffError } from '../../src/core/errors.js';

/**
 * Slack's request signing: `x-slack-signature` is `v0=` + hex HMAC-SHA256 of
 * `v0:<x-slack-request-timestamp>:<raw body>` under the app's signing secret. The HMAC check
 * is Bolt's `verifySlackRequest` (constant-time compare); Bolt rejects timestamps older than
 * five minutes but not ones from the future, so the window is enforced here both ways: a
 * captured request cannot be replayed later, nor pre-signed for later.
 */
export const slackTimestampWindowMs = 5 * 60_000;

function rejected(code: string, message: string): HandoffError {
  return new HandoffError(message, { code, status: 401 });
}

export function verifySlackSignature(input: {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly rawBody: Buffer;
  readonly signingSecret: string;
  /** The bridge's clock, epoch ms. */
  readonly nowMs: number;
}): void {
  const signature = input.headers['x-slack-signature'];
  const timestamp = input.headers['x-slack-request-timestamp'];
  if (!signature || !timestamp) {
    throw rejected(
      'missing_slack_signature',
      'Slack requests must carry x-slack-signature and x-slack-request-timestamp.',
    );
  }
  if (!/^\d{1,12}$/.test(timestamp))
    throw rejected('invalid_slack_signature', 'x-slack-request-timestamp is not a Unix time in seconds.');
  const skewMs = input.nowMs - Number(timestamp) * 1000;
  if (Math.abs(skewMs) > slackTimestampWindowMs) {
    throw rejected(
      'stale_slack_request',
      `x-slack-request-timestamp is ${Math.round(Math.abs(skewMs) / 1000)} s ${skewMs > 0 ? 'in the past' : 'in the future'}; Slack requests are accepted within 5 minutes of the bridge's clock.`,
    );
  }
  try {
    verifySlackRequest({
      signingSecret: input.signingSecret,
      body: input.rawBody.toString('utf8'),
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': Number(timestamp) },
      nowMilliseconds: input.nowMs,
    });
  } catch {
    throw rejected(
      'invalid_slack_signature',
      'The x-slack-signature does not match this request; check SLACK_SIGNING_SECRET.',
    );
  }
}
