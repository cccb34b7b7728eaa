import * as oauth from 'oauth4webapi';
import { z } from 'zod';
import { describeDuration, type Clock } from '../core/clock.js';
import { HandoffError, UpstreamError } from '../core/errors.js';
import type {
  CallContext,
  Completion,
  IssuedCredential,
  LoginProtocol,
  LoginRequest,
  PollResult,
  ProtocolSecret,
  Started,
} from '../core/login-protocol.js';
import { say, value, words } from '../core/sentence.js';
import { isUserCode, maxUserCodeLength } from '../core/untrusted-text.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import type { DeviceMetadata, ServiceDiscovery } from './discovered-service.js';
import { checkDiscoveredUrl } from './discovered-url.js';
import { oauthErrorIn, oauthFetch, revokeTokens } from './oauth-fetch.js';
import type { ProtocolModule } from './protocol-module.js';
import { identifyAccount } from './oidc-identity.js';
import type { ServiceHttp } from './service-http.js';

/**
 * OAuth 2.0 Device Authorization Grant (RFC 8628; docs/protocols.md, "Device flow"). The approver opens the
 * verification URI and approves; nothing comes back through the thread, so the bridge polls
 * the token endpoint at the server's interval (a delayed job per poll, driven by the engine),
 * adds 5 s on every `slow_down`, and stops on `access_denied` or `expired_token`. oauth4webapi
 * encodes and checks the wire format; the service HTTP client carries it.
 */
export interface DeviceProtocolDeps {
  readonly http: ServiceHttp;
  readonly discovery: ServiceDiscovery;
  readonly clock: Clock;
  /** The OAuth client id to present at a service (public client, no secret). */
  readonly clientId: (service: string) => string;
  /** Every endpoint must pass it and be same-site as the service or its authorization server. */
  readonly policy: NetworkPolicy;
}

/** RFC 8628 §3.2: the poll interval when the server names none, seconds. */
const defaultIntervalSeconds = 5;

const secretShape = z.object({
  deviceCode: z.string(),
  clientId: z.string(),
  intervalMs: z.number().int().positive(),
  issuer: z.string(),
  tokenEndpoint: z.string(),
  deviceAuthorizationEndpoint: z.string(),
  revocationEndpoint: z.string().optional(),
  userinfoEndpoint: z.string().optional(),
  /** The service and the authorization server the endpoints were checked against (absent in secrets sealed before they were kept). */
  service: z.string().optional(),
  authorizationServer: z.string().optional(),
});
type DeviceSecret = z.infer<typeof secretShape>;

function authorizationServer(
  m: Pick<
    DeviceMetadata,
    'issuer' | 'tokenEndpoint' | 'deviceAuthorizationEndpoint' | 'revocationEndpoint' | 'userinfoEndpoint'
  >,
): oauth.AuthorizationServer {
  return {
    issuer: m.issuer,
    token_endpoint: m.tokenEndpoint,
    device_authorization_endpoint: m.deviceAuthorizationEndpoint,
    ...(m.revocationEndpoint ? { revocation_endpoint: m.revocationEndpoint } : {}),
    ...(m.userinfoEndpoint ? { userinfo_endpoint: m.userinfoEndpoint } : {}),
  };
}

function upstream(message: string, code: string, status = 0, retry: 'never' | 'backoff' = 'never'): UpstreamError {
  return new UpstreamError(message, { code, upstreamStatus: status, retry });
}

/**
 * Turns whatever oauth4webapi threw into our error, without its cause: its errors can carry
 * the response body, and a success body holds tokens.
 */
function translate(err: unknown, what: string): HandoffError {
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

export function createDeviceProtocol(deps: DeviceProtocolDeps): LoginProtocol {
  const { http, clock } = deps;
  // Every endpoint is checked against the network policy and the service's site before it is
  // used (and the HTTP client checks again), so oauth4webapi's own https-only check can be relaxed.
  const options = (ctx: CallContext) => ({
    [oauth.customFetch]: oauthFetch(http, ctx),
    [oauth.allowInsecureRequests]: true,
  });
  const checked = <T extends Partial<DeviceMetadata>>(m: T, anchors: readonly string[]): T => {
    for (const url of [m.deviceAuthorizationEndpoint, m.tokenEndpoint, m.revocationEndpoint, m.userinfoEndpoint]) {
      if (!url) continue;
      // Secrets sealed before the anchors were kept: the policy alone.
      checkDiscoveredUrl(url, anchors.length ? anchors : [url], deps.policy, 'device-flow endpoint');
    }
    return m;
  };
  const anchorsOf = (service: string | undefined, authorizationServer: string | undefined) => [
    ...(service ? [service] : []),
    ...(authorizationServer ? [authorizationServer] : []),
  ];
  const client = (clientId: string): oauth.Client => ({ client_id: clientId, token_endpoint_auth_method: 'none' });

  function toCredential(token: oauth.TokenEndpointResponse, previous?: IssuedCredential): IssuedCredential {
    const scopes = typeof token.scope === 'string' ? token.scope.split(' ').filter(Boolean) : (previous?.scopes ?? []);
    const refreshToken = token.refresh_token ?? previous?.refreshToken;
    return {
      accessToken: token.access_token,
      tokenType: 'Bearer',
      scopes,
      ...(refreshToken ? { refreshToken } : {}),
      ...(typeof token.expires_in === 'number' ? { expiresAt: clock.now() + token.expires_in * 1000 } : {}),
    };
  }

  async function metadataFor(
    service: string,
    ctx: CallContext,
  ): Promise<DeviceMetadata & { authorizationServer?: string }> {
    const found = await deps.discovery.discover(service, ctx);
    if (!found.device) {
      throw upstream(
        `${service} does not advertise an RFC 8628 device_authorization_endpoint.`,
        'device_flow_unavailable',
      );
    }
    return {
      ...checked(found.device, anchorsOf(found.service, found.authorizationServer)),
      ...(found.authorizationServer ? { authorizationServer: found.authorizationServer } : {}),
    };
  }

  /** One poll of the token endpoint, as a Completion or `pending`. */
  async function pollOnce(s: DeviceSecret, ctx: CallContext): Promise<PollResult> {
    const as = authorizationServer(checked(s, anchorsOf(s.service, s.authorizationServer)));
    let response: Response;
    try {
      response = await oauth.deviceCodeGrantRequest(as, client(s.clientId), oauth.None(), s.deviceCode, options(ctx));
    } catch (err) {
      throw translate(err, 'device token request');
    }
    let error = await oauthErrorIn(response);
    if (!error) {
      try {
        const token = await oauth.processDeviceCodeResponse(as, client(s.clientId), response);
        // Who approved: the engine completes only when it is an approver (or one says so).
        const approvedBy = await identifyAccount({ as, client: client(s.clientId), token, options: options(ctx) });
        return { kind: 'credential', credential: toCredential(token), ...(approvedBy ? { approvedBy } : {}) };
      } catch (err) {
        if (!(err instanceof oauth.ResponseBodyError)) throw translate(err, 'device token');
        error = err.error;
      }
    }
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

  return {
    name: 'device',

    async start(req: LoginRequest): Promise<Started> {
      const m = await metadataFor(req.service, req);
      const clientId = deps.clientId(req.service);
      const as = authorizationServer(m);
      let answer: oauth.DeviceAuthorizationResponse;
      try {
        const response = await oauth.deviceAuthorizationRequest(
          as,
          client(clientId),
          oauth.None(),
          req.scopes.length ? { scope: req.scopes.join(' ') } : {},
          options(req),
        );
        answer = await oauth.processDeviceAuthorizationResponse(as, client(clientId), response);
      } catch (err) {
        throw translate(err, 'device authorization');
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
        expiresAt: clock.now() + lifetimeMs,
        answer: 'done',
        secret,
        pollIntervalMs: intervalMs,
        ...(m.authorizationServer ? { authorizationServer: m.authorizationServer } : {}),
        note: say`${complete ? say`The page should show the code ${value(answer.user_code, maxUserCodeLength)}. ` : []}The code works for ${words(describeDuration(lifetimeMs))}; the bridge checks with the service every ${words(describeDuration(intervalMs))}.`,
      };
    },

    async complete(secret: ProtocolSecret, code: string, ctx: CallContext): Promise<Completion> {
      // The person's "done" is only a hint: the token endpoint is the truth.
      const result = await pollOnce(secretShape.parse(secret), ctx);
      if (result.kind === 'pending') {
        return {
          kind: 'wrong_code',
          code: 'not_approved_yet',
          message:
            code === 'done'
              ? 'The service says nobody has approved on its page yet.'
              : 'Reply "done" once you have approved on the page.',
        };
      }
      return result.kind === 'approved'
        ? { kind: 'fatal', code: 'internal_error', message: 'Unexpected poll result.' }
        : result;
    },

    poll: (secret, ctx) => pollOnce(secretShape.parse(secret), ctx),

    async refresh(credential: IssuedCredential, service: string, ctx: CallContext): Promise<IssuedCredential> {
      if (!credential.refreshToken) throw upstream('This credential has no refresh token.', 'refresh_unavailable');
      const m = await metadataFor(service, ctx);
      const as = authorizationServer(m);
      const c = client(deps.clientId(service));
      try {
        const response = await oauth.refreshTokenGrantRequest(
          as,
          c,
          oauth.None(),
          credential.refreshToken,
          options(ctx),
        );
        return toCredential(await oauth.processRefreshTokenResponse(as, c, response), credential);
      } catch (err) {
        throw translate(err, 'refresh');
      }
    },

    async revoke(credential: IssuedCredential, service: string, ctx: CallContext): Promise<void> {
      const m = await metadataFor(service, ctx);
      if (!m.revocationEndpoint) return; // the service offers no RFC 7009 endpoint: nothing to call
      const as = authorizationServer(m);
      const c = client(deps.clientId(service));
      try {
        await revokeTokens(as, c, oauth.None(), credential, options(ctx));
      } catch (err) {
        throw translate(err, 'revoke');
      }
    },
  };
}

/** The device flow as the registry sees it. */
export const deviceProtocol: ProtocolModule = {
  name: 'device',
  rank: 20,
  recognises: (found) => found.device !== undefined,
  // Device codes and tokens are the service's own, in no shape of ours; PKCE-style hex and
  // JWTs (id_token) are masked by the shared shapes.
  secretShapes: [],
  sandbox: { base: '/sandbox/device', serviceName: 'Sandbox Files', label: 'device flow' },
  create: (context) =>
    createDeviceProtocol({
      http: context.http,
      discovery: context.discovery,
      clock: context.clock,
      policy: context.policy,
      clientId: (service) => context.login.deviceClientIds[new URL(service).origin] ?? context.login.deviceClientId,
    }),
};
