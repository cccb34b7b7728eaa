import * as oauth from 'oauth4webapi';
import { z } from 'zod';
import { HandoffError } from '../core/errors.js';
import type { PollResult, ProtocolSecret } from '../core/login-protocol.js';
import { upstream } from './service-answer-errors.js';

/**
 * Reading a CIBA server's answers (src/login/ciba.ts): the backchannel acknowledgement,
 * leniently but bounded; the token endpoint's OAuth errors as poll outcomes; oauth4webapi's
 * errors as ours. The server's own text (`error_description`, bodies) never reaches a message.
 */

/** CIBA Core §7.3: the poll interval when the server names none, seconds. */
const defaultIntervalSeconds = 5;
/** The longest wait between polls the bridge accepts from a server (its interval, or slow_down after slow_down), ms. */
export const maxCibaIntervalMs = 5 * 60_000;
/** An `auth_req_id` the bridge keeps: visible ASCII, at most this long (it is sealed in the record and sent back). */
const authReqIdShape = /^[\x21-\x7e]{1,1024}$/;

/** The bc-authorize answer, read leniently (CIBA Core §7.3): numbers may come as strings. */
const acknowledgement = z.looseObject({
  auth_req_id: z.string(),
  expires_in: z.coerce.number().finite(),
  interval: z.coerce.number().finite().nullish(),
});

export interface Acknowledgement {
  readonly authReqId: string;
  /** Never 0 (the default 5 s instead), at most `maxCibaIntervalMs`. */
  readonly intervalMs: number;
  readonly lifetimeMs: number;
}

/** Throws `service_malformed_response` (retried) for an unreadable answer, `ciba_invalid_auth_req_id` for an id the bridge will not keep. */
export function readAcknowledgement(body: unknown): Acknowledgement {
  const parsed = acknowledgement.safeParse(body);
  if (!parsed.success)
    throw upstream(
      'The service sent a backchannel authentication answer the bridge cannot read.',
      'service_malformed_response',
      0,
      'backoff',
    );
  const ack = parsed.data;
  if (!authReqIdShape.test(ack.auth_req_id)) {
    throw upstream(
      'The service gave an auth_req_id the bridge will not keep: it must be 1 to 1024 visible ASCII characters.',
      'ciba_invalid_auth_req_id',
    );
  }
  // An interval of 0 or less (or none) is the default's 5 s, never a busy loop; a huge one is bounded.
  const seconds = ack.interval != null && ack.interval > 0 ? ack.interval : defaultIntervalSeconds;
  return {
    authReqId: ack.auth_req_id,
    intervalMs: Math.min(Math.max(1, Math.round(seconds)) * 1000, maxCibaIntervalMs),
    lifetimeMs: Math.max(1, ack.expires_in) * 1000,
  };
}

/** What an OAuth error from the token endpoint means for a CIBA login polled with `secret`. */
export function tokenErrorOutcome(error: string, secret: ProtocolSecret & { readonly intervalMs: number }): PollResult {
  switch (error) {
    case 'authorization_pending':
      return { kind: 'pending', nextPollMs: secret.intervalMs };
    case 'slow_down': {
      // CIBA Core §11 (RFC 8628 §3.5): 5 s more for this and every later request; bounded.
      const intervalMs = Math.min(secret.intervalMs + 5_000, maxCibaIntervalMs);
      return { kind: 'pending', nextPollMs: intervalMs, secret: { ...secret, intervalMs } };
    }
    case 'access_denied':
      return { kind: 'fatal', code: 'login_denied', message: 'The approver denied the request on their device.' };
    case 'expired_token':
      return { kind: 'fatal', code: 'login_expired', message: 'The request expired before the approver answered it.' };
    case 'invalid_grant':
      // Already used (by our own earlier poll whose answer was lost) or unknown.
      return { kind: 'already_exchanged' };
    case 'invalid_client':
    case 'unauthorized_client':
      return {
        kind: 'fatal',
        code: 'ciba_client_rejected',
        message: 'The service refused the bridge’s CIBA client: check its entry in HANDOFF_CIBA_CLIENTS.',
      };
    default:
      return { kind: 'fatal', code: 'ciba_token_rejected', message: 'The service rejected the CIBA request.' };
  }
}

/** oauth4webapi's errors can carry bodies (tokens, the service's text): only the status and the OAuth code survive. */
export function translateCibaError(err: unknown, what: string): HandoffError {
  if (err instanceof HandoffError) return err;
  if (err instanceof oauth.ResponseBodyError) {
    if (err.error === 'invalid_client' || err.error === 'unauthorized_client')
      return upstream(
        `The service refused the bridge's CIBA client at the ${what} (HTTP ${err.status}): check its entry in HANDOFF_CIBA_CLIENTS.`,
        'ciba_client_rejected',
        err.status,
      );
    if (err.error === 'unknown_user_id')
      return upstream(
        `The service knows no account for the approver's email, so it cannot ask them (HTTP ${err.status}).`,
        'ciba_unknown_user',
        err.status,
      );
    if (err.error === 'access_denied')
      return upstream('The service refused to ask the approver (access_denied).', 'login_denied', err.status);
    return upstream(
      `The service rejected the ${what} (HTTP ${err.status}).`,
      `ciba_${what.replace(/\W+/g, '_')}_rejected`,
      err.status,
    );
  }
  if (err instanceof oauth.OperationProcessingError && err.code === oauth.RESPONSE_IS_NOT_CONFORM)
    return upstream(`The service answered the ${what} with an unexpected HTTP status.`, 'service_unexpected_status');
  return upstream(
    `The service sent a ${what} answer the bridge cannot read.`,
    'service_malformed_response',
    0,
    'backoff',
  );
}
