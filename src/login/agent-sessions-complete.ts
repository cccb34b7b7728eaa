import { z } from 'zod';
import type { CallContext, Completion } from '../core/login-protocol.js';
import { approvedByFrom } from './approved-by.js';
import { sessionShape, toCredential } from './agent-sessions-credential.js';
import { endpoint } from './agent-sessions-endpoints.js';
import { malformed } from './service-answer-errors.js';
import type { AgentSessionSecret } from './agent-sessions-secret.js';
import { readServiceError, type ServiceHttp } from './service-http.js';

/**
 * An agent-sessions login's completion (docs/protocols.md, "Agent sessions"): the finish code the
 * approver pasted (or the poll found) *is* the exchange code, sent with the PKCE verifier to
 * `<service>/agent-sessions/exchange`; the service's answer becomes the credential and who
 * approved, or a verdict the engine acts on (wrong code, not approved yet, expired, already used).
 */

/** The exchange answer: the session and, read leniently, the account that approved it. */
const exchangeResponse = z.looseObject({
  agent_session: sessionShape,
  account: z.looseObject({ id: z.unknown().optional(), email: z.unknown().optional() }).nullish().catch(undefined),
});

export async function completeAgentSession(
  http: ServiceHttp,
  s: AgentSessionSecret,
  code: string,
  ctx: CallContext,
): Promise<Completion> {
  const res = await http.request(endpoint(s.service, 'exchange'), {
    ctx,
    json: { auth_request_id: s.authRequestId, exchange_code: code, code_verifier: s.codeVerifier },
  });
  if (res.status === 200 || res.status === 201) {
    const parsed = exchangeResponse.safeParse(res.body);
    if (!parsed.success) throw malformed(res, 'exchange');
    const account = parsed.data.account;
    const approvedBy = account ? approvedByFrom({ email: account.email, subject: account.id }, 'exchange') : undefined;
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
}
