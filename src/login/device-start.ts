import * as oauth from 'oauth4webapi';
import { describeDuration, type Clock } from '../core/clock.js';
import { UpstreamError } from '../core/errors.js';
import type { LoginRequest, Started } from '../core/login-protocol.js';
import { say, value, words } from '../core/sentence.js';
import { isUserCode, maxUserCodeLength } from '../core/untrusted-text.js';
import { translateDeviceError } from './device-answers.js';
import { authorizationServer, publicClient, type DeviceEndpoints } from './device-endpoints.js';
import type { DeviceSecret } from './device-secret.js';

/**
 * A device-flow login's start (RFC 8628 §3.1–3.3): the device authorization request for the
 * service's checked endpoints, and its answer turned into the link (and the user code, only in
 * RFC 8628's shape) the thread shows, the sealed secret the polls use, and the note.
 */
export interface DeviceStartDeps {
  readonly clock: Clock;
  /** The OAuth client id to present at a service (public client, no secret). */
  readonly clientId: (service: string) => string;
}

/** RFC 8628 §3.2: the poll interval when the server names none, seconds. */
const defaultIntervalSeconds = 5;

export async function startDeviceLogin(
  deps: DeviceStartDeps,
  endpoints: DeviceEndpoints,
  req: LoginRequest,
): Promise<Started> {
  const m = await endpoints.discovered(req.service, req);
  const clientId = deps.clientId(req.service);
  const as = authorizationServer(m);
  let answer: oauth.DeviceAuthorizationResponse;
  try {
    const response = await oauth.deviceAuthorizationRequest(
      as,
      publicClient(clientId),
      oauth.None(),
      req.scopes.length ? { scope: req.scopes.join(' ') } : {},
      endpoints.options(req),
    );
    answer = await oauth.processDeviceAuthorizationResponse(as, publicClient(clientId), response);
  } catch (err) {
    throw translateDeviceError(err, 'device authorization');
  }
  // The code is shown to a person who types it: RFC 8628's shape (letters, digits, dashes) or nothing.
  if (!isUserCode(answer.user_code)) {
    throw new UpstreamError(
      `The service's device login gave a user code the bridge will not show: it must be letters and digits, optionally grouped by dashes or spaces, at most ${maxUserCodeLength} characters (RFC 8628 §6.1).`,
      { code: 'invalid_user_code', upstreamStatus: 0, retry: 'never' },
    );
  }
  const intervalMs = Math.max(1, answer.interval ?? defaultIntervalSeconds) * 1000;
  const lifetimeMs = Math.max(1, answer.expires_in) * 1000;
  const complete = answer.verification_uri_complete;
  const secret: DeviceSecret = {
    deviceCode: answer.device_code,
    clientId,
    intervalMs,
    issuer: m.issuer,
    tokenEndpoint: m.tokenEndpoint,
    deviceAuthorizationEndpoint: m.deviceAuthorizationEndpoint,
    ...(m.revocationEndpoint ? { revocationEndpoint: m.revocationEndpoint } : {}),
    ...(m.userinfoEndpoint ? { userinfoEndpoint: m.userinfoEndpoint } : {}),
    service: req.service,
    ...(m.authorizationServer ? { authorizationServer: m.authorizationServer } : {}),
  };
  return {
    approvalUrl: complete ?? answer.verification_uri,
    // With the complete URI the code is filled in; still show it so the person can check the page.
    ...(complete ? {} : { userCode: answer.user_code }),
    expiresAt: deps.clock.now() + lifetimeMs,
    answer: 'done',
    secret,
    pollIntervalMs: intervalMs,
    ...(m.authorizationServer ? { authorizationServer: m.authorizationServer } : {}),
    note: say`${complete ? say`The page should show the code ${value(answer.user_code, maxUserCodeLength)}. ` : []}The code works for ${words(describeDuration(lifetimeMs))}; the bridge checks with the service every ${words(describeDuration(intervalMs))}.`,
  };
}
