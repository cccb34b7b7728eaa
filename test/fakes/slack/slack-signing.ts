import { createHmac, randomBytes } from 'node:crypto';

/**
 * Requests signed exactly as Slack signs them: `x-slack-signature: v0=<hex HMAC-SHA256 of
 * "v0:<timestamp>:<raw body>">` with the app's signing secret, and the timestamp (Unix
 * seconds) in `x-slack-request-timestamp`. Retries add `x-slack-retry-num` and
 * `x-slack-retry-reason`.
 */
export const newSigningSecret = (): string => randomBytes(16).toString('hex');

export function slackSignatureHeaders(
  secret: string,
  rawBody: string,
  timestampSec = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`v0:${timestampSec}:${rawBody}`).digest('hex');
  return { 'x-slack-signature': `v0=${signature}`, 'x-slack-request-timestamp': String(timestampSec) };
}

export interface SignedPostOptions {
  /** Default: now. */
  readonly timestampSec?: number;
  /** Sign with this secret instead (a wrong one, for tests of rejection). */
  readonly signWith?: string;
  /** Slack's retry headers. */
  readonly retryNum?: number;
  readonly headers?: Record<string, string>;
}

async function post(
  url: string,
  secret: string,
  rawBody: string,
  contentType: string,
  options: SignedPostOptions,
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...slackSignatureHeaders(options.signWith ?? secret, rawBody, options.timestampSec),
      ...(options.retryNum
        ? { 'x-slack-retry-num': String(options.retryNum), 'x-slack-retry-reason': 'http_timeout' }
        : {}),
      ...options.headers,
    },
    body: rawBody,
  });
}

/** POSTs an Events API body (JSON) to `<bridge>/slack/events`. */
export function postSignedEvent(
  url: string,
  secret: string,
  body: unknown,
  options: SignedPostOptions = {},
): Promise<Response> {
  return post(url, secret, typeof body === 'string' ? body : JSON.stringify(body), 'application/json', options);
}

/** POSTs an interaction payload as Slack does: form-encoded, one field `payload` holding JSON. */
export function postSignedInteraction(
  url: string,
  secret: string,
  payload: unknown,
  options: SignedPostOptions = {},
): Promise<Response> {
  const rawBody = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return post(url, secret, rawBody, 'application/x-www-form-urlencoded', options);
}
