import type { CallContext, Completion, LoginRequest, PollResult } from '../core/login-protocol.js';
import { lineSecretShape, type AuthMdLinesDeps } from './authmd-line-state.js';
import { createLineRenewal } from './authmd-line-renewal.js';
import { createLineSteps } from './authmd-line-steps.js';
import { createLineStart } from './authmd-line-start.js';
import { createLinePoll } from './authmd-line-poll.js';
import { createLineReadBack } from './authmd-line-readback.js';
import type { AgentAuthMetadata, DiscoveredService } from './discovered-service.js';

/**
 * auth.md's later shapes (AUTHMD-VERSIONS.md §3–§8): registration at `identity_endpoint`,
 * then either the polling line (v0.6: the thread shows the link and the `user_code`, the bridge
 * polls the token endpoint with the claim grant) or the read-back line (v0.7: the thread shows
 * the link only, the person pastes the code the page shows, the bridge completes with
 * `{claim_token, user_code}`). Both end with the identity assertion exchanged for an access
 * token (RFC 7523 jwt-bearer) and revoke with RFC 7009. Metadata suggests the shape; the
 * registration answer decides it. v0.1 stays in authmd-claim-*.ts.
 */
export function createAuthMdLines(deps: AuthMdLinesDeps) {
  const steps = createLineSteps(deps);
  const { start, remint } = createLineStart(deps, steps);
  const pollOnce = createLinePoll(deps, steps, remint);
  const completeReadBack = createLineReadBack(deps, steps, remint);

  return {
    start: (found: DiscoveredService, a: AgentAuthMetadata, req: LoginRequest) => start(found, a, req),

    async complete(secret: unknown, code: string, ctx: CallContext): Promise<Completion> {
      const s = lineSecretShape.parse(secret);
      if (s.line === '0.7' && !s.assertion) return completeReadBack(s, code, ctx);
      // Polling: the person's "done" is a cue to look now; the token endpoint is the truth.
      const result = await pollOnce(s, ctx);
      if (result.kind === 'pending')
        return {
          kind: 'wrong_code',
          code: 'not_approved_yet',
          message: 'The service says the code was not entered and confirmed on its page yet.',
        };
      return result.kind === 'approved'
        ? { kind: 'fatal', code: 'internal_error', message: 'Unexpected poll result.' }
        : result;
    },

    async poll(secret: unknown, ctx: CallContext): Promise<PollResult> {
      const s = lineSecretShape.parse(secret);
      // A clean ID-JAG registration (`polls: false`): only the approver's "done" in the thread lets the agent in.
      return s.assertion ? { kind: 'pending' } : pollOnce(s, ctx);
    },

    ...createLineRenewal(deps),
  };
}
