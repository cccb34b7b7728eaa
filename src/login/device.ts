import * as oauth from 'oauth4webapi';
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
import { deviceTokenOutcome, translateDeviceError } from './device-answers.js';
import { upstream } from './service-answer-errors.js';
import { authorizationServer, deviceEndpoints, publicClient, type DeviceEndpointDeps } from './device-endpoints.js';
import { deviceSecretShape, type DeviceSecret } from './device-secret.js';
import { startDeviceLogin, type DeviceStartDeps } from './device-start.js';
import { oauthErrorIn, revokeTokens } from './oauth-fetch.js';
import type { ProtocolModule } from './protocol-module.js';
import { identifyAccount } from './oidc-identity.js';

/**
 * OAuth 2.0 Device Authorization Grant (RFC 8628; docs/protocols.md, "Device flow"). The approver opens the
 * verification URI and approves (the start: device-start.ts); nothing comes back through the thread, so the bridge polls
 * the token endpoint at the server's interval (a delayed job per poll, driven by the engine),
 * adds 5 s on every `slow_down`, and stops on `access_denied` or `expired_token` (device-answers.ts). oauth4webapi
 * encodes and checks the wire format; the service HTTP client carries it, to endpoints checked by device-endpoints.ts.
 */
export interface DeviceProtocolDeps extends DeviceEndpointDeps, DeviceStartDeps {}

export function createDeviceProtocol(deps: DeviceProtocolDeps): LoginProtocol {
  const { clock } = deps;
  const endpoints = deviceEndpoints(deps);
  const { options } = endpoints;

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

  /** One poll of the token endpoint, as a Completion or `pending`. */
  async function pollOnce(s: DeviceSecret, ctx: CallContext): Promise<PollResult> {
    const as = endpoints.serverOf(s);
    const client = publicClient(s.clientId);
    let response: Response;
    try {
      response = await oauth.deviceCodeGrantRequest(as, client, oauth.None(), s.deviceCode, options(ctx));
    } catch (err) {
      throw translateDeviceError(err, 'device token request');
    }
    let error = await oauthErrorIn(response);
    if (!error) {
      try {
        const token = await oauth.processDeviceCodeResponse(as, client, response);
        // Who approved: the engine completes only when it is an approver (or one says so).
        const approvedBy = await identifyAccount({ as, client, token, options: options(ctx) });
        return { kind: 'credential', credential: toCredential(token), ...(approvedBy ? { approvedBy } : {}) };
      } catch (err) {
        if (!(err instanceof oauth.ResponseBodyError)) throw translateDeviceError(err, 'device token');
        error = err.error;
      }
    }
    return deviceTokenOutcome(error, s);
  }

  return {
    name: 'device',

    start: (req: LoginRequest): Promise<Started> => startDeviceLogin(deps, endpoints, req),

    async complete(secret: ProtocolSecret, code: string, ctx: CallContext): Promise<Completion> {
      // The person's "done" is only a hint: the token endpoint is the truth.
      const result = await pollOnce(deviceSecretShape.parse(secret), ctx);
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

    poll: (secret, ctx) => pollOnce(deviceSecretShape.parse(secret), ctx),

    async refresh(credential: IssuedCredential, service: string, ctx: CallContext): Promise<IssuedCredential> {
      if (!credential.refreshToken) throw upstream('This credential has no refresh token.', 'refresh_unavailable');
      const m = await endpoints.discovered(service, ctx);
      const as = authorizationServer(m);
      const c = publicClient(deps.clientId(service));
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
        throw translateDeviceError(err, 'refresh');
      }
    },

    async revoke(credential: IssuedCredential, service: string, ctx: CallContext): Promise<void> {
      const m = await endpoints.discovered(service, ctx);
      if (!m.revocationEndpoint) return; // the service offers no RFC 7009 endpoint: nothing to call
      const as = authorizationServer(m);
      const c = publicClient(deps.clientId(service));
      try {
        await revokeTokens(as, c, oauth.None(), credential, options(ctx));
      } catch (err) {
        throw translateDeviceError(err, 'revoke');
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
