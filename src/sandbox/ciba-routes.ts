import { json, type Route, type RouteRequest, type RouteResponse } from '../core/http-route.js';
import type { CibaState } from './ciba-state.js';
import { formFields, isEmail, str } from './request-fields.js';
import type { SandboxState } from './sandbox-state.js';

/**
 * The sandbox's OpenID CIBA endpoints (poll mode): the backchannel authentication endpoint
 * (`/bc-authorize`) and a token endpoint for the CIBA grant and refresh tokens. Clients
 * authenticate with `client_secret_basic` or `client_secret_post`. Form-encoded in, JSON out, the
 * OAuth/CIBA error vocabulary, `Cache-Control: no-store` on token answers.
 */
export const cibaGrant = 'urn:openid:params:grant-type:ciba';

/** What a binding message may be (Auth0's documented rule, the strictest seen): short, plain characters. */
const bindingMessageShape = /^[A-Za-z0-9\s+\-_.,:#]{1,64}$/;

const oauthError = (status: number, error: string, description?: string): RouteResponse =>
  json(status, { error, ...(description ? { error_description: description } : {}) }, { 'cache-control': 'no-store' });

/** The client's id and secret from HTTP Basic (RFC 6749 §2.3.1: form-encoded inside) or the form. */
function clientCredentials(req: RouteRequest, form: URLSearchParams): { id?: string; secret?: string } {
  const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return {};
    const unform = (v: string) => decodeURIComponent(v.replace(/\+/g, ' '));
    try {
      return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
    } catch {
      return {};
    }
  }
  return { id: str(form.get('client_id')), secret: str(form.get('client_secret')) };
}

export function cibaRoutes(ciba: CibaState, sessions: SandboxState, base: string): Route[] {
  const now = () => sessions.options.clock.now();
  /** The authenticated client's id, or the 401 to answer. */
  const authenticate = (req: RouteRequest, form: URLSearchParams): string | RouteResponse => {
    const { id, secret } = clientCredentials(req, form);
    return ciba.authenticates(id, secret) ? id! : oauthError(401, 'invalid_client', 'Client authentication failed.');
  };
  return [
    {
      method: 'POST',
      path: `${base}/bc-authorize`,
      handler: async (req) => {
        const form = formFields(req);
        if (!form) return oauthError(400, 'invalid_request', 'Send application/x-www-form-urlencoded.');
        const clientId = authenticate(req, form);
        if (typeof clientId !== 'string') return clientId;
        const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        if (!scopes.includes('openid')) return oauthError(400, 'invalid_scope', 'scope must include openid.');
        const hint = (form.get('login_hint') ?? '').trim();
        if (!hint || form.has('id_token_hint') || form.has('login_hint_token'))
          return oauthError(400, 'invalid_request', 'Send exactly one hint: login_hint with the user’s email.');
        if (!isEmail(hint)) return oauthError(400, 'unknown_user_id', 'login_hint must be an email address.');
        const binding = form.get('binding_message') ?? undefined;
        if (binding !== undefined && !bindingMessageShape.test(binding))
          return oauthError(400, 'invalid_binding_message', 'At most 64 letters, digits, spaces and +-_.,:#');
        const { request, authReqId } = ciba.start(
          clientId,
          hint,
          binding,
          scopes.filter((s) => s !== 'openid').length ? scopes.filter((s) => s !== 'openid') : ['account:read'],
        );
        return json(
          200,
          { auth_req_id: authReqId, expires_in: Math.round(ciba.ttlMs / 1000), interval: request.interval },
          { 'cache-control': 'no-store' },
        );
      },
    },
    {
      method: 'POST',
      path: `${base}/oauth/ciba-token`,
      handler: async (req) => {
        const form = formFields(req);
        if (!form) return oauthError(400, 'invalid_request', 'Send application/x-www-form-urlencoded.');
        const clientId = authenticate(req, form);
        if (typeof clientId !== 'string') return clientId;
        switch (form.get('grant_type')) {
          case cibaGrant: {
            const authReqId = str(form.get('auth_req_id'));
            if (!authReqId) return oauthError(400, 'invalid_request', 'auth_req_id is required.');
            const result = ciba.poll(authReqId, clientId);
            if (!result.ok) return oauthError(result.error === 'invalid_client' ? 401 : 400, result.error);
            return tokenAnswer(result, now());
          }
          case 'refresh_token': {
            const refreshToken = str(form.get('refresh_token'));
            const result = refreshToken ? sessions.refresh(refreshToken) : undefined;
            if (!result) return oauthError(400, 'invalid_grant', 'The refresh token is not valid.');
            return tokenAnswer(result, now());
          }
          default:
            return oauthError(400, 'unsupported_grant_type');
        }
      },
    },
  ];
}

function tokenAnswer(
  r: { accessToken: string; refreshToken: string; session: { accessExpiresAt: number; scopes: readonly string[] } },
  now: number,
): RouteResponse {
  return json(
    200,
    {
      access_token: r.accessToken,
      token_type: 'Bearer',
      expires_in: Math.max(1, Math.round((r.session.accessExpiresAt - now) / 1000)),
      refresh_token: r.refreshToken,
      scope: r.session.scopes.join(' '),
    },
    { 'cache-control': 'no-store', pragma: 'no-cache' },
  );
}
