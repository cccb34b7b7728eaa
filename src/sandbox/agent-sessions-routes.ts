import {
  bodyJson,
  json,
  requestOrigin,
  type Route,
  type RouteRequest,
  type RouteResponse,
} from '../core/http-route.js';
import { sha256 as sha, type SandboxState } from './sandbox-state.js';

/**
 * The agent-sessions endpoints of the sandbox, shaped as docs/protocols.md describes them
 * ("Agent sessions"). Start and poll answer errors as `{error, message}`, exchange and
 * refresh as `{code, message}`: real servers differ, and the bridge must read both.
 */
type Fields = Record<string, unknown>;

function fields(req: RouteRequest): Fields | undefined {
  const body = bodyJson(req);
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Fields) : undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

export function agentSessionsRoutes(state: SandboxState, base: string): Route[] {
  const identifies = state.options.identifiesApprover ?? true;
  const missing = (names: string[]): RouteResponse =>
    json(400, { error: 'MISSING_FIELDS', message: `Missing or invalid: ${names.join(', ')}` });

  const start: Route = {
    method: 'POST',
    path: `${base}/agent-sessions/start`,
    handler: async (req) => {
      const body = fields(req);
      if (!body) return json(400, { error: 'MISSING_FIELDS', message: 'Send a JSON object.' });
      const bad = ['client_type'].filter((name) => !str(body[name]));
      const scopes = body.scopes === undefined ? ['account:read'] : body.scopes;
      if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) bad.push('scopes');
      if (body.code_challenge !== undefined && !/^[0-9a-f]{64}$/.test(String(body.code_challenge)))
        bad.push('code_challenge');
      if (bad.length) return missing(bad);
      const { req: created, pollToken } = state.startRequest({
        scopes: scopes as string[],
        clientName: str(body.client_name) ?? str(body.client_type)!,
        label: str(body.label) ?? '',
        codeChallenge: str(body.code_challenge),
      });
      const interval = state.options.pollIntervalSeconds;
      return json(201, {
        auth_request_id: created.id,
        authorize_url: `${requestOrigin(req)}${base}/authorize/${created.id}`,
        poll_token: pollToken,
        mode: str(body.mode) ?? 'interactive',
        expires_at: created.expiresAt,
        scopes: created.scopes,
        ...(interval !== undefined ? { interval } : {}),
      });
    },
  };

  const poll: Route = {
    method: 'POST',
    path: `${base}/agent-sessions/poll`,
    handler: async (req) => {
      const body = fields(req);
      const id = str(body?.auth_request_id);
      const token = str(body?.poll_token);
      if (!id || !token) return missing(['auth_request_id', 'poll_token']);
      const found = state.requests.get(id);
      if (!found || found.pollTokenHash !== sha(token))
        return json(401, { error: 'INVALID_POLL_TOKEN', message: 'Unknown request or poll token.' });
      const status = state.statusOf(found);
      if (status === 'expired' || status === 'revoked')
        return json(410, { status, exchange_code: null, account_id: null, approved_email: null });
      const tells = status === 'approved' && identifies;
      return json(200, {
        status,
        exchange_code: status === 'approved' ? (found.exchangeCode ?? null) : null,
        account_id: tells ? `acct_${sha(found.approvedEmail ?? '').slice(0, 12)}` : null,
        approved_email: tells ? (found.approvedEmail ?? null) : null,
      });
    },
  };

  const exchange: Route = {
    method: 'POST',
    path: `${base}/agent-sessions/exchange`,
    handler: async (req) => {
      const body = fields(req);
      const id = str(body?.auth_request_id);
      const code = str(body?.exchange_code);
      if (!id || !code)
        return json(400, { code: 'MISSING_FIELDS', message: 'auth_request_id and exchange_code are required.' });
      const result = state.exchange(id, code, str(body?.code_verifier));
      if (!result.ok) return json(result.status, { code: result.code, message: result.message });
      const { session, accessToken, refreshToken } = result;
      return json(200, {
        ok: true,
        agent_session: {
          id: session.id,
          access_token: accessToken,
          refresh_token: refreshToken,
          access_expires_at: session.accessExpiresAt,
          refresh_expires_at: session.refreshExpiresAt,
          scopes: session.scopes,
        },
        ...(identifies
          ? {
              account: {
                id: `acct_${sha(session.accountEmail).slice(0, 12)}`,
                email: session.accountEmail,
                github_login: null,
                google_name: null,
                tier: 'free',
              },
            }
          : {}),
      });
    },
  };

  const refresh: Route = {
    method: 'POST',
    path: `${base}/agent-sessions/refresh`,
    handler: async (req) => {
      const token = str(fields(req)?.refresh_token);
      if (!token) return json(400, { code: 'MISSING_FIELDS', message: 'refresh_token is required.' });
      const result = state.refresh(token);
      if (!result) return json(401, { code: 'INVALID_REFRESH_TOKEN', message: 'The refresh token is not valid.' });
      return json(200, {
        agent_session: {
          session_id: result.session.id,
          access_token: result.accessToken,
          refresh_token: result.refreshToken,
          access_expires_at: result.session.accessExpiresAt,
          refresh_expires_at: result.session.refreshExpiresAt,
          scopes: result.session.scopes,
        },
      });
    },
  };

  const revoke: Route = {
    method: 'POST',
    path: `${base}/agent-sessions/revoke`,
    handler: async (req) => {
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const session = bearer ? state.authenticate(bearer) : undefined;
      if (!session) return json(401, { error: 'UNAUTHORIZED', message: 'A live access token is required.' });
      const id = str(fields(req)?.session_id);
      const target = id ? state.sessions.get(id) : undefined;
      if (!target || target.id !== session.id)
        return json(404, { error: 'NOT_FOUND', message: 'No such session for this token.' });
      target.revoked = true;
      return json(200, { ok: true, session_id: target.id });
    },
  };

  return [start, poll, exchange, refresh, revoke];
}
