import { randomInt } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { z } from 'zod';
import { describeDuration, type Clock } from '../core/clock.js';
import type { CibaClient } from '../core/config-ciba.js';
import type { CibaLoginHint } from '../core/config-ciba-hints.js';
import { BadInputError } from '../core/errors.js';
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
import type { NetworkPolicy } from '../core/network-policy.js';
import { registerSecretShapes } from '../core/secret-patterns.js';
import { say, value, words } from '../core/sentence.js';
import {
  readAcknowledgement,
  tokenErrorOutcome,
  translateCibaError,
  upstream,
  type Acknowledgement,
} from './ciba-answers.js';
import { cibaClientAuth, clientSecretShapes, type CibaClientAuth } from './ciba-client-auth.js';
import type { CibaMetadata, ServiceDiscovery } from './discovered-service.js';
import { checkDiscoveredUrl } from './discovered-url.js';
import { oauthErrorIn, oauthFetch, revokeTokens } from './oauth-fetch.js';
import { identifyAccount } from './oidc-identity.js';
import { loginHintFor } from './ciba-login-hint.js';
import type { ProtocolModule } from './protocol-module.js';
import type { ServiceHttp } from './service-http.js';

/**
 * OpenID Connect Client-Initiated Backchannel Authentication, poll mode (CIBA Core 1.0;
 * docs/protocols.md, "CIBA"). The bridge asks the authorization server to authenticate the
 * approver it names by email (`login_hint`); the server asks them on their own device or
 * authenticator app, showing the short `binding_message` the thread shows too; the bridge polls
 * the token endpoint with the CIBA grant at `interval`, adding 5 s on `slow_down`. Nothing
 * comes back through the thread; a "done" there only makes it check at once. Ping and push
 * modes need a callback the server can reach, which a self-hosted bridge cannot promise: not spoken.
 */
export interface CibaProtocolDeps {
  readonly http: ServiceHttp;
  readonly discovery: ServiceDiscovery;
  readonly clock: Clock;
  readonly policy: NetworkPolicy;
  /** Client credentials per authorization-server origin (`HANDOFF_CIBA_CLIENTS`). */
  readonly clients: Readonly<Record<string, CibaClient>>;
  /** How each server (by origin) wants the approver named (`HANDOFF_CIBA_LOGIN_HINTS`); default the email. */
  readonly loginHints?: Readonly<Record<string, CibaLoginHint>>;
  /** The binding message's code (tests fix it); default 8 random letters and digits. */
  readonly bindingCode?: () => string;
}

/** Letters and digits that read unambiguously on a phone (no 0/O, 1/I/L). */
const bindingAlphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function randomBindingCode(): string {
  let code = '';
  for (let i = 0; i < 8; i++) code += bindingAlphabet[randomInt(0, bindingAlphabet.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** An email the bridge will send as `login_hint`: one address, no spaces or control characters, RFC 5321's length. */
// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const plainEmail = /^[^\s@<>()[\]\\,;:"\x00-\x1f\x7f]{1,64}@[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/i;

const secretShape = z.object({
  authReqId: z.string(),
  intervalMs: z.number().int().positive(),
  issuer: z.string(),
  backchannelAuthenticationEndpoint: z.string(),
  tokenEndpoint: z.string(),
  authMethods: z.array(z.string()),
  signingAlgs: z.array(z.string()),
  revocationEndpoint: z.string().optional(),
  userinfoEndpoint: z.string().optional(),
  /** The origin whose configured client started this login (its credentials are looked up, never sealed here). */
  clientOrigin: z.string(),
  loginHint: z.string(),
  service: z.string(),
  authorizationServer: z.string().optional(),
});
type CibaSecret = z.infer<typeof secretShape>;

function authorizationServer(m: Omit<CibaMetadata, 'authMethods' | 'signingAlgs'>): oauth.AuthorizationServer {
  return {
    issuer: m.issuer,
    token_endpoint: m.tokenEndpoint,
    backchannel_authentication_endpoint: m.backchannelAuthenticationEndpoint,
    ...(m.revocationEndpoint ? { revocation_endpoint: m.revocationEndpoint } : {}),
    ...(m.userinfoEndpoint ? { userinfo_endpoint: m.userinfoEndpoint } : {}),
  };
}

export function createCibaProtocol(deps: CibaProtocolDeps): LoginProtocol {
  const { http, clock } = deps;
  const bindingCode = deps.bindingCode ?? randomBindingCode;
  // Endpoints pass the network policy and the service's site here and again in the HTTP client.
  const options = (ctx: CallContext) => ({
    [oauth.customFetch]: oauthFetch(http, ctx),
    [oauth.allowInsecureRequests]: true,
  });
  const checked = <T extends Partial<CibaMetadata>>(m: T, anchors: readonly string[]): T => {
    for (const url of [m.backchannelAuthenticationEndpoint, m.tokenEndpoint, m.revocationEndpoint, m.userinfoEndpoint])
      if (url) checkDiscoveredUrl(url, anchors, deps.policy, 'CIBA endpoint');
    return m;
  };
  const anchorsOf = (s: Pick<CibaSecret, 'service' | 'authorizationServer'>) => [
    s.service,
    ...(s.authorizationServer ? [s.authorizationServer] : []),
  ];
  const authFor = (s: Pick<CibaSecret, 'clientOrigin' | 'authMethods' | 'signingAlgs'>) =>
    cibaClientAuth(deps.clients, s.clientOrigin, s);

  async function discovered(service: string, ctx: CallContext) {
    const found = await deps.discovery.discover(service, ctx);
    if (!found.ciba)
      throw upstream(`${service} does not advertise an OpenID CIBA endpoint with poll mode.`, 'ciba_unavailable');
    const anchors = [found.service, ...(found.authorizationServer ? [found.authorizationServer] : [])];
    return {
      ciba: checked(found.ciba, anchors),
      clientOrigin: new URL(found.authorizationServer ?? found.service).origin,
      ...(found.authorizationServer ? { authorizationServer: found.authorizationServer } : {}),
    };
  }

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
    const as = authorizationServer(checked(s, anchorsOf(s)));
    const { client, auth } = await authFor(s);
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

    async start(req: LoginRequest): Promise<Started> {
      const email = req.approverEmail?.trim();
      if (!email) {
        throw new BadInputError(
          'This service asks the approver on their own device and needs to know who they are: pass approverEmail. (An approver’s email from the platform directory is sent only to services the operator lists in HANDOFF_APPROVER_EMAIL_SERVICES.)',
          { code: 'approver_email_required', details: { field: 'approverEmail' } },
        );
      }
      if (!plainEmail.test(email)) {
        throw new BadInputError('approverEmail must be one plain email address to send to the service as login_hint.', {
          code: 'invalid_approver_email',
          details: { field: 'approverEmail' },
        });
      }
      const { ciba, clientOrigin, authorizationServer: asBase } = await discovered(req.service, req);
      const { client, auth } = await cibaClientAuth(deps.clients, clientOrigin, ciba);
      const loginHint = loginHintFor(deps.loginHints ?? {}, clientOrigin, ciba.issuer, email);
      const as = authorizationServer(ciba);
      const bindingMessage = `Handoff ${bindingCode()}`;
      let ack: Acknowledgement;
      try {
        const response = await oauth.backchannelAuthenticationRequest(
          as,
          client,
          auth,
          {
            // CIBA Core §7.1: scope must contain openid.
            scope: ['openid', ...req.scopes.filter((s) => s !== 'openid')].join(' '),
            login_hint: loginHint,
            binding_message: bindingMessage,
          },
          options(req),
        );
        // Errors through oauth4webapi (it reads the OAuth error body); a success read leniently here.
        if (response.status !== 200) await oauth.processBackchannelAuthenticationResponse(as, client, response);
        ack = readAcknowledgement(await response.json().catch(() => undefined));
      } catch (err) {
        throw translateCibaError(err, 'backchannel authentication request');
      }
      const { authReqId, intervalMs, lifetimeMs } = ack;
      const secret: CibaSecret = {
        authReqId,
        intervalMs,
        issuer: ciba.issuer,
        backchannelAuthenticationEndpoint: ciba.backchannelAuthenticationEndpoint,
        tokenEndpoint: ciba.tokenEndpoint,
        authMethods: [...ciba.authMethods],
        signingAlgs: [...ciba.signingAlgs],
        ...(ciba.revocationEndpoint ? { revocationEndpoint: ciba.revocationEndpoint } : {}),
        ...(ciba.userinfoEndpoint ? { userinfoEndpoint: ciba.userinfoEndpoint } : {}),
        clientOrigin,
        loginHint: email.toLowerCase(),
        service: req.service,
        ...(asBase ? { authorizationServer: asBase } : {}),
      };
      return {
        expiresAt: clock.now() + lifetimeMs,
        answer: 'done',
        secret,
        pollIntervalMs: intervalMs,
        ...(asBase ? { authorizationServer: asBase } : {}),
        // Our own binding message, never anything the service echoed back.
        note: say`The device should show ${value(bindingMessage)}: approve only if it does. The request works for ${words(describeDuration(lifetimeMs))}; the bridge checks with the service every ${words(describeDuration(intervalMs))}.`,
      };
    },

    async complete(secret: ProtocolSecret, _code: string, ctx: CallContext): Promise<Completion> {
      // A "done" is only a hint: the token endpoint is the truth.
      const result = await pollOnce(secretShape.parse(secret), ctx);
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

    poll: (secret, ctx) => pollOnce(secretShape.parse(secret), ctx),

    async refresh(credential: IssuedCredential, service: string, ctx: CallContext): Promise<IssuedCredential> {
      if (!credential.refreshToken) throw upstream('This credential has no refresh token.', 'refresh_unavailable');
      const { ciba, clientOrigin } = await discovered(service, ctx);
      const as = authorizationServer(ciba);
      const { client, auth } = await cibaClientAuth(deps.clients, clientOrigin, ciba);
      try {
        const response = await oauth.refreshTokenGrantRequest(as, client, auth, credential.refreshToken, options(ctx));
        return toCredential(await oauth.processRefreshTokenResponse(as, client, response), credential);
      } catch (err) {
        throw translateCibaError(err, 'refresh');
      }
    },

    async revoke(credential: IssuedCredential, service: string, ctx: CallContext): Promise<void> {
      const { ciba, clientOrigin } = await discovered(service, ctx);
      if (!ciba.revocationEndpoint) return; // no RFC 7009 endpoint: nothing to call
      const as = authorizationServer(ciba);
      const { client, auth }: CibaClientAuth = await cibaClientAuth(deps.clients, clientOrigin, ciba);
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
