import * as oauth from 'oauth4webapi';
import { HandoffError } from '../core/errors.js';
import type { PollResult } from '../core/login-protocol.js';
import type { DeviceSecret } from './device-secret.js';
import { upstream } from './service-answer-errors.js';

/**
 * Reading a device-flow server's answers (src/login/device.ts): the token endpoint's OAuth errors
 * as poll outcomes (RFC 8628 §3.5), oauth4webapi's errors as ours. The server's own text
 * (`error_description`, bodies) never reaches a message.
 */

/**
 * Turns whatever oauth4webapi threw into our error, without its cause: its errors can carry
 * the response body, and a success body holds tokens.
 */
export function translateDeviceError(err: unknown, what: string): HandoffError {
  if (err instanceof HandoffError) return err;
  if (err instanceof oauth.ResponseBodyError) {
    // The OAuth error code is the service's text: the status says enough.
    return upstream(
      `The service rejected the ${what} (HTTP ${err.status}).`,
      `${what.replace(/\W+/g, '_')}_rejected`,
      err.status,
    );
  }
  if (err instanceof oauth.OperationProcessingError && err.code === oauth.RESPONSE_IS_NOT_CONFORM) {
    return upstream(`The service answered the ${what} with an unexpected HTTP status.`, 'service_unexpected_status');
  }
  return upstream(
    `The service sent a ${what} answer the bridge cannot read.`,
    'service_malformed_response',
    0,
    'backoff',
  );
}

/** What an OAuth error from the token endpoint means for a device-flow login polled with `s`. */
export function deviceTokenOutcome(error: string, s: DeviceSecret): PollResult {
  switch (error) {
    case 'authorization_pending':
      return { kind: 'pending', nextPollMs: s.intervalMs };
    case 'slow_down': {
      // RFC 8628 §3.5: the interval grows by 5 s for this and every later request.
      const intervalMs = s.intervalMs + 5_000;
      return { kind: 'pending', nextPollMs: intervalMs, secret: { ...s, intervalMs } };
    }
    case 'access_denied':
      return {
        kind: 'fatal',
        code: 'login_denied',
        message: 'The approver denied the request on the service’s page.',
      };
    case 'expired_token':
      return { kind: 'fatal', code: 'login_expired', message: 'The device code expired before anyone approved it.' };
    case 'invalid_grant':
      // Already used (by our own earlier poll whose answer was lost) or unknown.
      return { kind: 'already_exchanged' };
    default:
      return { kind: 'fatal', code: 'device_token_rejected', message: 'The service rejected the device code.' };
  }
}
