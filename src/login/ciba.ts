import * as oauth from 'oauth4webapi';
import type { Clock } from '../core/clock.js';
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
import { registerSecretShapes } from '../core/secret-patterns.js';
import { tokenErrorOutcome, translateCibaError } from './ciba-answers.js';
import { upstream } from './service-answer-errors.js';
import { clientSecretShapes } from './ciba-client-auth.js';
import { authorizationServer, cibaEndpoints, type CibaEndpointDeps } from './ciba-endpoints.js';
import { cibaSecretShape, type CibaSecret } from './ciba-secret.js';
import { startCibaLogin, type CibaStartDeps } from './ciba-start.js';
import { oauthErrorIn, revokeTokens } from './oauth-fetch.js';
import { identifyAccount } from './oidc-identity.js';
import type { ProtocolModule } from './protocol-module.js';

/**
 * OpenID Connect Client-Initiated Backchannel Authentication, poll mode (CIBA Core 1.0;
 * docs/protocols.md, "CIBA"). The bridge asks the authorization server to authenticate the
 * approver it names by email (`login_hint`); the server asks them on their own device or
 * authenticator app, showing the short `binding_message` the thread shows too (the start:
 * ciba-start.ts); the bridge polls the token endpoint with the CIBA grant at `interval`, adding
 * 5 s on `slow_down`. Nothing comes back through the thread; a "done" there only makes it check
 * at once. Ping and push modes need a callback the server can reach, which a self-hosted bridge
 * cannot promise: not spoken.
 */
export interface CibaProtocolDeps extends CibaEndpointDeps, CibaStartDeps {
  readonly clock: Clock;
}

export function createCibaProtocol(deps: CibaProtocolDeps): LoginProtocol {
  const { clock } = deps;
  const endpoints = cibaEndpoints(deps);
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

  async function pollOnce(s: CibaSecret, ctx: CallContext): Promise<PollResult> {
    const as = endpoints.serverOf(s);
    const { client, auth } = await endpoints.clientFor(s.clientOrigin, s);
    let response: Response;
    try {
      response = await oauth.backchannelAuthenticationGrantRequest(as, client, auth, s.authReqId, options(ctx));
    } catch (err) {
      throw translateCibaError(err, 'token request');
    }
    let error = await oauthErrorIn(response);
    if (!error) {
      try {
        const token = await oauth.processBackchannelAuthenticationGrantResponse(as, client, response);
        const identified = await identifyAccount({ as, client, token, options: options(ctx) });
        // The server authenticated the person the login_hint named: its word, when the token says no other.
        const approvedBy = identified?.email ? identified : { email: s.loginHint, source: 'login_hint' as const };
        return { kind: 'credential', credential: toCredential(token), approvedBy };
      } catch (err) {
        if (!(err instanceof oauth.ResponseBodyError)) throw translateCibaError(err, 'token');
        error = err.error;
      }
    }
    return tokenErrorOutcome(error, s);
  }

  return {
    name: 'ciba',
    sendsApproverEmail: true,

    start: (req: LoginRequest): Promise<Started> => startCibaLogin(deps, endpoints, req),

    async complete(secret: ProtocolSecret, _code: string, ctx: CallContext): Promise<Completion> {
      // A "done" is only a hint: the token endpoint is the truth.
      const result = await pollOnce(cibaSecretShape.parse(secret), ctx);
      if (result.kind === 'pending')
        return {
          kind: 'wrong_code',
          code: 'not_approved_yet',
          message: 'The service says nobody has approved on the device yet.',
        };
      return result.kind === 'approved'
        ? { kind: 'fatal', code: 'internal_error', message: 'Unexpected poll result.' }
        : result;
    },

    poll: (secret, ctx) => pollOnce(cibaSecretShape.parse(secret), ctx),

    async refresh(credential: IssuedCredential, service: string, ctx: CallContext): Promise<IssuedCredential> {
      if (!credential.refreshToken) throw upstream('This credential has no refresh token.', 'refresh_unavailable');
      const { ciba, clientOrigin } = await endpoints.discovered(service, ctx);
      const as = authorizationServer(ciba);
      const { client, auth } = await endpoints.clientFor(clientOrigin, ciba);
      try {
        const response = await oauth.refreshTokenGrantRequest(as, client, auth, credential.refreshToken, options(ctx));
        return toCredential(await oauth.processRefreshTokenResponse(as, client, response), credential);
      } catch (err) {
        throw translateCibaError(err, 'refresh');
      }
    },

    async revoke(credential: IssuedCredential, service: string, ctx: CallContext): Promise<void> {
      const { ciba, clientOrigin } = await endpoints.discovered(service, ctx);
      if (!ciba.revocationEndpoint) return; // no RFC 7009 endpoint: nothing to call
      const as = authorizationServer(ciba);
      const { client, auth } = await endpoints.clientFor(clientOrigin, ciba);
      try {
        await revokeTokens(as, client, auth, credential, options(ctx));
      } catch (err) {
        throw translateCibaError(err, 'revoke');
      }
    },
  };
}

/** OpenID CIBA (poll mode) as the registry sees it. */
export const cibaProtocol: ProtocolModule = {
  name: 'ciba',
  // Between the device flow (20) and agent sessions (30): a person's own authenticator, no link to phish.
  rank: 25,
  recognises: (found) => found.ciba !== undefined,
  // auth_req_ids and tokens are the server's own, in no shape of ours; the configured client
  // secrets are registered as literal shapes when the protocol is built.
  secretShapes: [],
  sandbox: { base: '/sandbox/ciba', serviceName: 'Sandbox Ledger', label: 'CIBA, approve on your device' },
  create: (context) => {
    registerSecretShapes(clientSecretShapes(context.login.cibaClients));
    return createCibaProtocol({
      http: context.http,
      discovery: context.discovery,
      clock: context.clock,
      policy: context.policy,
      clients: context.login.cibaClients,
      loginHints: context.login.cibaLoginHints,
    });
  },
};
