import { z } from 'zod';
import { HandoffError, UpstreamError } from '../core/errors.js';
import { secretLike } from '../core/secret-patterns.js';
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
import { approvedByFrom } from './approved-by.js';
import { servicePath } from './discovered-url.js';
import type { MetadataFetcher } from './metadata-fetch.js';
import { createHexPkce } from './pkce.js';
import type { ProbeAnswer, ProtocolModule } from './protocol-module.js';
import { readServiceError, type ServiceHttp, type ServiceResponse } from './service-http.js';

/**
 * Agent sessions, detached mode (docs/protocols.md, "Agent sessions"). Start with a hex PKCE challenge; finish by
 * exchanging the finish code (which *is* the exchange code) with the verifier; poll slowly in
 * the background in case the human approved but never pasted the code.
 */

/** Default scopes of the reference CLI, used when a request names none. */
export const defaultAgentSessionScopes = [
  'account:read',
  'projects:read',
  'projects:write',
  'analytics:read',
  'experiments:write',
  'feedback:write',
  'live:read',
] as const;

const epochMs = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).transform((n) =>
  // Lenient: a value that can only be seconds is taken as seconds.
  n < 100_000_000_000 ? n * 1000 : n,
);

const startResponse = z.looseObject({
  auth_request_id: z.string().min(1),
  // Any text here: the engine judges the link (https, same site) and fails the handoff
  // `unsafe_approval_url` for a javascript:, data: or foreign one, rather than retrying.
  authorize_url: z.string().min(1).max(4096),
  poll_token: z.string().min(1),
  expires_at: epochMs,
  scopes: z.array(z.string()).nullish(),
  interval: z.number().positive().nullish(),
  poll_interval_ms: z.number().positive().nullish(),
  service_name: z.string().nullish(),
});

const sessionShape = z.looseObject({
  id: z.string().nullish(),
  session_id: z.string().nullish(),
  access_token: z.string().min(1),
  refresh_token: z.string().nullish(),
  access_expires_at: epochMs.nullish(),
  refresh_expires_at: epochMs.nullish(),
  scopes: z.array(z.string()).nullish(),
});

const exchangeResponse = z.looseObject({
  agent_session: sessionShape,
  account: z.looseObject({ id: z.unknown().optional(), email: z.unknown().optional() }).nullish().catch(undefined),
});

// `approved_email` and `account_id` say who approved (docs/protocols.md, "Agent sessions"); read leniently.
const pollResponse = z.looseObject({
  status: z.enum(['pending', 'approved', 'exchanged', 'revoked', 'expired']),
  exchange_code: z.string().nullish(),
  approved_email: z.unknown().optional(),
  account_id: z.unknown().optional(),
});

const secretShape = z.object({
  authRequestId: z.string(),
  pollToken: z.string(),
  codeVerifier: z.string(),
  service: z.string(),
});
type AgentSessionSecret = z.infer<typeof secretShape>;

function endpoint(service: string, path: string): string {
  return servicePath(service, 'agent-sessions', path);
}

function malformed(what: string, res: ServiceResponse): UpstreamError {
  return new UpstreamError(`${new URL(res.url).origin} sent a ${what} answer the bridge cannot read.`, {
    code: 'service_malformed_response',
    upstreamStatus: res.status,
    retry: 'backoff',
  });
}

/** The origin and the status, never what the service wrote (its code is kept for logs only). */
function rejected(what: string, res: ServiceResponse, code: string): UpstreamError {
  const err = readServiceError(res.body);
  return new UpstreamError(`${new URL(res.url).origin} rejected the ${what} (HTTP ${res.status}).`, {
    code,
    upstreamStatus: res.status,
    ...(err.code ? { upstreamCode: err.code.slice(0, 100) } : {}),
    retry: 'never',
  });
}

function toCredential(
  session: z.infer<typeof sessionShape>,
  account?: { id?: unknown; email?: unknown } | null,
  fallback?: IssuedCredential,
): IssuedCredential {
  const sessionId = session.id ?? session.session_id ?? fallback?.sessionId;
  const refreshToken = session.refresh_token ?? fallback?.refreshToken;
  const refreshExpiresAt = session.refresh_expires_at ?? fallback?.refreshExpiresAt;
  const read = account ? approvedByFrom({ email: account.email, subject: account.id }, 'exchange') : undefined;
  const acct = read
    ? { ...(read.subject ? { id: read.subject } : {}), ...(read.email ? { email: read.email } : {}) }
    : fallback?.account;
  return {
    accessToken: session.access_token,
    tokenType: 'Bearer',
    scopes: session.scopes ?? fallback?.scopes ?? [],
    ...(refreshToken ? { refreshToken } : {}),
    ...(session.access_expires_at != null ? { expiresAt: session.access_expires_at } : {}),
    ...(refreshExpiresAt !== undefined ? { refreshExpiresAt } : {}),
    ...(sessionId ? { sessionId } : {}),
    ...(acct ? { account: { ...(acct.id ? { id: acct.id } : {}), ...(acct.email ? { email: acct.email } : {}) } } : {}),
  };
}

export function createAgentSessionsProtocol(deps: { http: ServiceHttp; clientName?: string }): LoginProtocol {
  const { http } = deps;
  const clientName = deps.clientName ?? 'handoff';

  const readSecret = (secret: ProtocolSecret): AgentSessionSecret => secretShape.parse(secret);

  return {
    name: 'agent-sessions',

    async start(req: LoginRequest): Promise<Started> {
      const pkce = createHexPkce();
      const res = await http.request(endpoint(req.service, 'start'), {
        ctx: req,
        json: {
          mode: 'detached',
          client_type: 'handoff-bridge',
          client_name: clientName,
          client_instance_id: req.handoffId,
          label: req.label,
          scopes: req.scopes.length > 0 ? req.scopes : [...defaultAgentSessionScopes],
          code_challenge: pkce.challenge,
          metadata: { handoff_id: req.handoffId, agent_id: req.agentId, correlation_id: req.correlationId },
        },
      });
      if (res.status !== 200 && res.status !== 201) throw rejected('login start', res, 'login_start_rejected');
      const parsed = startResponse.safeParse(res.body);
      if (!parsed.success) throw malformed('start', res);
      const body = parsed.data;
      const pollIntervalMs = body.poll_interval_ms ?? (body.interval != null ? body.interval * 1000 : undefined);
      return {
        approvalUrl: body.authorize_url,
        expiresAt: body.expires_at,
        answer: 'finish_code',
        secret: {
          authRequestId: body.auth_request_id,
          pollToken: body.poll_token,
          codeVerifier: pkce.verifier,
          service: req.service,
        },
        ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
        ...(body.service_name ? { serviceName: body.service_name } : {}),
      };
    },

    async complete(secret: ProtocolSecret, code: string, ctx: CallContext): Promise<Completion> {
      const s = readSecret(secret);
      const res = await http.request(endpoint(s.service, 'exchange'), {
        ctx,
        json: { auth_request_id: s.authRequestId, exchange_code: code, code_verifier: s.codeVerifier },
      });
      if (res.status === 200 || res.status === 201) {
        const parsed = exchangeResponse.safeParse(res.body);
        if (!parsed.success) throw malformed('exchange', res);
        const account = parsed.data.account;
        const approvedBy = account
          ? approvedByFrom({ email: account.email, subject: account.id }, 'exchange')
          : undefined;
        return {
          kind: 'credential',
          credential: toCredential(parsed.data.agent_session, account),
          ...(approvedBy ? { approvedBy } : {}),
        };
      }
      const err = readServiceError(res.body);
      switch (res.status) {
        case 400:
          if (err.code === 'INVALID_STATE') {
            return {
              kind: 'wrong_code',
              code: 'not_approved_yet',
              message:
                'The service says this login is not approved yet: finish approving in the browser, then paste the code.',
            };
          }
          return { kind: 'fatal', code: 'exchange_rejected', message: 'The service rejected the exchange (HTTP 400).' };
        case 401:
        case 403:
          return { kind: 'wrong_code', code: 'invalid_code', message: 'That code was not accepted by the service.' };
        case 409:
          return { kind: 'already_exchanged' };
        case 404:
        case 410:
          return {
            kind: 'fatal',
            code: 'login_expired',
            message: 'The service says this login request has expired or no longer exists.',
          };
        default:
          return {
            kind: 'fatal',
            code: 'exchange_rejected',
            message: `The service rejected the exchange (HTTP ${res.status}).`,
          };
      }
    },

    async poll(secret: ProtocolSecret, ctx: CallContext): Promise<PollResult> {
      const s = readSecret(secret);
      const res = await http.request(endpoint(s.service, 'poll'), {
        ctx,
        json: { auth_request_id: s.authRequestId, poll_token: s.pollToken },
      });
      if (res.status === 401 || res.status === 403) {
        return { kind: 'fatal', code: 'poll_rejected', message: 'The service no longer accepts this login request.' };
      }
      if (res.status !== 200 && res.status !== 410) throw rejected('poll', res, 'poll_rejected');
      const parsed = pollResponse.safeParse(res.body);
      if (!parsed.success) {
        if (res.status === 410)
          return { kind: 'fatal', code: 'login_expired', message: 'The service says this login request has expired.' };
        throw malformed('poll', res);
      }
      switch (parsed.data.status) {
        case 'pending':
          return { kind: 'pending' };
        case 'approved': {
          if (!parsed.data.exchange_code) return { kind: 'pending' };
          const approvedBy = approvedByFrom(
            { email: parsed.data.approved_email, subject: parsed.data.account_id },
            'poll',
          );
          return { kind: 'approved', code: parsed.data.exchange_code, ...(approvedBy ? { approvedBy } : {}) };
        }
        case 'exchanged':
          return { kind: 'already_exchanged' };
        case 'revoked':
          return { kind: 'fatal', code: 'login_revoked', message: 'The login request was revoked at the service.' };
        case 'expired':
          return { kind: 'fatal', code: 'login_expired', message: 'The service says this login request has expired.' };
      }
    },

    async refresh(credential: IssuedCredential, service: string, ctx: CallContext): Promise<IssuedCredential> {
      if (!credential.refreshToken) {
        throw new UpstreamError('This credential has no refresh token.', {
          code: 'refresh_unavailable',
          upstreamStatus: 0,
          retry: 'never',
        });
      }
      const res = await http.request(endpoint(service, 'refresh'), {
        ctx,
        json: { refresh_token: credential.refreshToken },
      });
      if (res.status !== 200) throw rejected('refresh', res, 'refresh_rejected');
      const parsed = z.looseObject({ agent_session: sessionShape }).safeParse(res.body);
      if (!parsed.success) throw malformed('refresh', res);
      return toCredential(parsed.data.agent_session, undefined, credential);
    },

    async revoke(credential: IssuedCredential, service: string, ctx: CallContext): Promise<void> {
      if (!credential.sessionId) return;
      const res = await http.request(endpoint(service, 'revoke'), {
        ctx,
        json: { session_id: credential.sessionId },
        headers: { authorization: `Bearer ${credential.accessToken}` },
      });
      // 404: already gone at the service, which is what revoking wants.
      if (res.status !== 200 && res.status !== 404) throw rejected('revoke', res, 'revoke_rejected');
    },
  };
}

/**
 * Does POST <service>/agent-sessions/start answer like agent sessions? Agent sessions publish
 * no metadata, so discovery asks this when nothing else was recognised. A real server refuses
 * the empty body with a 400 (or 422) JSON error; a 200 counts only when it is a real start
 * answer. A service that answers 200 to anything (no auth at all, a catch-all) does not speak it.
 */
export async function probeAgentSessions(service: string, fetcher: MetadataFetcher): Promise<ProbeAnswer> {
  const url = endpoint(service, 'start');
  const res = await fetcher.request(url, { json: {} }).catch((err: unknown) => {
    // Transient trouble is retried by the caller; a refusal (a redirect away…) means "no".
    if (err instanceof HandoffError && err.retry !== 'never') throw err;
    return undefined;
  });
  if (!res) return { speaks: false, finding: `POST ${url} failed` };
  const isJsonObject = typeof res.body === 'object' && res.body !== null && !Array.isArray(res.body);
  const b = (isJsonObject ? res.body : {}) as Record<string, unknown>;
  const startAnswer =
    typeof b.auth_request_id === 'string' && typeof b.authorize_url === 'string' && typeof b.poll_token === 'string';
  const speaks =
    isJsonObject &&
    (res.status === 400 || res.status === 422 || ((res.status === 200 || res.status === 201) && startAnswer));
  return {
    speaks,
    finding: speaks
      ? `POST ${url} answered like agent sessions`
      : `POST ${url} answered ${res.status}${isJsonObject ? '' : ' without JSON'}`,
  };
}

/** Agent sessions as the registry sees them. */
export const agentSessionsProtocol: ProtocolModule = {
  name: 'agent-sessions',
  rank: 30,
  // No metadata names agent sessions: discovery asks the probe instead.
  recognises: () => false,
  probe: probeAgentSessions,
  // Finish/exchange codes (aae_), access (aas_), refresh (aar_) and poll (aap_) tokens.
  secretShapes: [secretLike(String.raw`a(?:ae|as|ar|ap)_[A-Za-z0-9]{16,}`)],
  sandbox: { base: '/sandbox', serviceName: 'Sandbox Analytics', label: 'agent sessions' },
  create: (context) => createAgentSessionsProtocol({ http: context.http }),
};
