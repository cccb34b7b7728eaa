import { randomInt } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { z } from 'zod';
import { describeDuration, type Clock } from '../core/clock.js';
import type { CibaClient } from '../core/config-ciba.js';
import { BadInputError, HandoffError, UpstreamError } from '../core/errors.js';
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
import { cibaClientAuth, clientSecretShapes, type CibaClientAuth } from './ciba-client-auth.js';
import type { CibaMetadata, ServiceDiscovery } from './discovered-service.js';
import { checkDiscoveredUrl } from './discovered-url.js';
import { oauthFetch } from './oauth-fetch.js';
import { identifyAccount } from './oidc-identity.js';
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
  /** The binding message's code (tests fix it); default 8 random letters and digits. */
  readonly bindingCode?: () => string;
}

/** CIBA Core §7.3: the poll interval when the server names none, seconds. */
const defaultIntervalSeconds = 5;
/** The longest wait between polls the bridge accepts from a server (its interval, or slow_down after slow_down), ms. */
export const maxCibaIntervalMs = 5 * 60_000;
/** An `auth_req_id` the bridge keeps: visible ASCII, at most this long (it is sealed in the record and sent back). */
const authReqIdShape = /^[\x21-\x7e]{1,1024}$/;
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

/** The bc-authorize answer, read leniently (CIBA Core §7.3): numbers may come as strings. */
const acknowledgement = z.looseObject({
  auth_req_id: z.string(),
  expires_in: z.coerce.number().finite(),
  interval: z.coerce.number().finite().nullish(),
});

function upstream(message: string, code: string, status = 0, retry: 'never' | 'backoff' = 'never'): UpstreamError {
  return new UpstreamError(message, { code, upstreamStatus: status, retry });
}

/** oauth4webapi's errors can carry bodies (tokens, the service's text): only the status survives. */
function translate(err: unknown, what: string): HandoffError {
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

/** An OAuth error some servers send with HTTP 200: read it before oauth4webapi does. */
async function oauthErrorIn(response: Response): Promise<string | undefined> {
  if (response.status !== 200) return undefined;
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { error?: unknown; access_token?: unknown } | undefined;
  return typeof body?.error === 'string' && body.access_token === undefined ? body.error : undefined;
}

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
      throw translate(err, 'token request');
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
        if (!(err instanceof oauth.ResponseBodyError)) throw translate(err, 'token');
        error = err.error;
      }
    }
    switch (error) {
      case 'authorization_pending':
        return { kind: 'pending', nextPollMs: s.intervalMs };
      case 'slow_down': {
        // CIBA Core §11 (RFC 8628 §3.5): 5 s more for this and every later request; bounded.
        const intervalMs = Math.min(s.intervalMs + 5_000, maxCibaIntervalMs);
        return { kind: 'pending', nextPollMs: intervalMs, secret: { ...s, intervalMs } };
      }
      case 'access_denied':
        return { kind: 'fatal', code: 'login_denied', message: 'The approver denied the request on their device.' };
      case 'expired_token':
        return {
          kind: 'fatal',
          code: 'login_expired',
          message: 'The request expired before the approver answered it.',
        };
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
      const as = authorizationServer(ciba);
      const bindingMessage = `Handoff ${bindingCode()}`;
      let ack: z.infer<typeof acknowledgement>;
      try {
        const response = await oauth.backchannelAuthenticationRequest(
          as,
          client,
          auth,
          {
            // CIBA Core §7.1: scope must contain openid.
            scope: ['openid', ...req.scopes.filter((s) => s !== 'openid')].join(' '),
            login_hint: email,
            binding_message: bindingMessage,
          },
          options(req),
        );
        // Errors through oauth4webapi (it reads the OAuth error body); a success read leniently here.
        if (response.status !== 200) await oauth.processBackchannelAuthenticationResponse(as, client, response);
        const parsed = acknowledgement.safeParse(await response.json().catch(() => undefined));
        if (!parsed.success) throw new Error('unreadable');
        ack = parsed.data;
      } catch (err) {
        throw translate(err, 'backchannel authentication request');
      }
      if (!authReqIdShape.test(ack.auth_req_id)) {
        throw upstream(
          'The service gave an auth_req_id the bridge will not keep: it must be 1 to 1024 visible ASCII characters.',
          'ciba_invalid_auth_req_id',
        );
      }
      // An interval of 0 or less (or none) is the default's 5 s, never a busy loop; a huge one is bounded.
      const seconds = ack.interval != null && ack.interval > 0 ? ack.interval : defaultIntervalSeconds;
      const intervalMs = Math.min(Math.max(1, Math.round(seconds)) * 1000, maxCibaIntervalMs);
      const lifetimeMs = Math.max(1, ack.expires_in) * 1000;
      const secret: CibaSecret = {
        authReqId: ack.auth_req_id,
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
        throw translate(err, 'refresh');
      }
    },

    async revoke(credential: IssuedCredential, service: string, ctx: CallContext): Promise<void> {
      const { ciba, clientOrigin } = await discovered(service, ctx);
      if (!ciba.revocationEndpoint) return; // no RFC 7009 endpoint: nothing to call
      const as = authorizationServer(ciba);
      const { client, auth }: CibaClientAuth = await cibaClientAuth(deps.clients, clientOrigin, ciba);
      try {
        for (const token of [credential.refreshToken, credential.accessToken]) {
          if (!token) continue;
          await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, token, options(ctx)));
        }
      } catch (err) {
        throw translate(err, 'revoke');
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
    });
  },
};
