import { describe, expect, it } from 'vitest';
import { slackTimestampWindowMs, verifySlackSignature } from '../../adapters/slack/slack-signature.js';
import { HandoffError } from '../../src/core/errors.js';
import { slackSignatureHeaders } from '../fakes/slack/slack-signing.js';

const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const body = '{"token":"x","type":"event_callback","event_id":"Ev0FAKE00001"}';
const signedAt = 1_700_000_000;

/** The verifier's verdict with the bridge's clock at `nowMs`. */
function verdict(headers: Record<string, string | undefined>, nowMs: number, raw = body): string {
  try {
    verifySlackSignature({ headers, rawBody: Buffer.from(raw), signingSecret: secret, nowMs });
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(HandoffError);
    expect((err as HandoffError).status).toBe(401);
    return (err as HandoffError).code;
  }
}

describe('Slack request signatures (v0 HMAC-SHA256 and a 5-minute window, injected clock)', () => {
  const headers = slackSignatureHeaders(secret, body, signedAt);
  const at = signedAt * 1000;

  it('accepts a request signed as Slack signs it', () => {
    expect(verdict(headers, at)).toBe('ok');
    expect(headers['x-slack-signature']).toMatch(/^v0=[0-9a-f]{64}$/);
  });

  it('accepts the edges of the window, both ways', () => {
    expect(verdict(headers, at + slackTimestampWindowMs)).toBe('ok');
    expect(verdict(headers, at - slackTimestampWindowMs)).toBe('ok');
  });

  it('rejects a stale timestamp and a future one just past the window', () => {
    expect(verdict(headers, at + slackTimestampWindowMs + 1_000)).toBe('stale_slack_request');
    expect(verdict(headers, at - slackTimestampWindowMs - 1_000)).toBe('stale_slack_request');
  });

  it('rejects a wrong secret, a changed body, a changed timestamp and another signature version', () => {
    expect(verdict(slackSignatureHeaders('another-secret-0000000000000000', body, signedAt), at)).toBe(
      'invalid_slack_signature',
    );
    expect(verdict(headers, at, body.replace('Ev0FAKE00001', 'Ev0FAKE00002'))).toBe('invalid_slack_signature');
    expect(verdict({ ...headers, 'x-slack-request-timestamp': String(signedAt + 1) }, at)).toBe(
      'invalid_slack_signature',
    );
    expect(verdict({ ...headers, 'x-slack-signature': headers['x-slack-signature']!.replace('v0=', 'v1=') }, at)).toBe(
      'invalid_slack_signature',
    );
  });

  it('rejects missing or malformed headers', () => {
    expect(verdict({}, at)).toBe('missing_slack_signature');
    expect(verdict({ 'x-slack-signature': headers['x-slack-signature'] }, at)).toBe('missing_slack_signature');
    expect(verdict({ ...headers, 'x-slack-request-timestamp': '17e8' }, at)).toBe('invalid_slack_signature');
  });
});
