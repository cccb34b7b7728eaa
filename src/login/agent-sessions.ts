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
import { completeAgentSession } from './agent-sessions-complete.js';
import { sessionShape, toCredential } from './agent-sessions-credential.js';
import { endpoint } from './agent-sessions-endpoints.js';
import { malformed, rejected } from './service-answer-errors.js';
import { agentSessionSecretShape } from './agent-sessions-secret.js';
import { defaultAgentSessionScopes, startAgentSession, type AgentSessionStartDeps } from './agent-sessions-start.js';
import type { MetadataFetcher } from './metadata-fetch.js';
import type { ProbeAnswer, ProtocolModule } from './protocol-module.js';

/**
 * Agent sessions, detached mode (docs/protocols.md, "Agent sessions"). Start with a hex PKCE challenge
 * (agent-sessions-start.ts); finish by exchanging the finish code (which *is* the exchange code) with
 * the verifier (agent-sessions-complete.ts); poll slowly in the background in case the human approved
 * but never pasted the code. Every call goes to a fixed path under the service (agent-sessions-endpoints.ts).
 */

/** Kept here for the protocol's callers; defined with the start. */
export { defaultAgentSessionScopes };

// `approved_email` and `account_id` say who approved (docs/protocols.md, "Agent sessions"); read leniently.
const pollResponse = z.looseObject({
  status: z.enum(['pending', 'approved', 'exchanged', 'revoked', 'expired']),
  exchange_code: z.string().nullish(),
  approved_email: z.unknown().optional(),
  account_id: z.unknown().optional(),
});

export function createAgentSessionsProtocol(deps: AgentSessionStartDeps): LoginProtocol {
  const { http } = deps;
  const readSecret = (secret: ProtocolSecret) => agentSessionSecretShape.parse(secret);

  return {
    name: 'agent-sessions',

    start: (req: LoginRequest): Promise<Started> => startAgentSession(deps, req),

    async complete(secret: ProtocolSecret, code: string, ctx: CallContext): Promise<Completion> {
      return completeAgentSession(http, readSecret(secret), code, ctx);
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
      if (res.status !== 200 && res.status !== 410) throw rejected(res, 'poll', 'poll_rejected');
      const parsed = pollResponse.safeParse(res.body);
      if (!parsed.success) {
        if (res.status === 410)
          return { kind: 'fatal', code: 'login_expired', message: 'The service says this login request has expired.' };
        throw malformed(res, 'poll');
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
      if (res.status !== 200) throw rejected(res, 'refresh', 'refresh_rejected');
      const parsed = z.looseObject({ agent_session: sessionShape }).safeParse(res.body);
      if (!parsed.success) throw malformed(res, 'refresh');
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
      if (res.status !== 200 && res.status !== 404) throw rejected(res, 'revoke', 'revoke_rejected');
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
