import type { CallContext, Completion } from '../core/login-protocol.js';
import { readIdentityAnswer } from './authmd-answers.js';
import { malformed, rejected, upstream } from './service-answer-errors.js';
import type { AuthMdLinesDeps, LineSecret } from './authmd-line-state.js';
import { type LineSteps } from './authmd-line-steps.js';
import { type LineStart } from './authmd-line-start.js';
import { readServiceError } from './service-http.js';

/**
 * The read-back line's completion (AUTHMD-VERSIONS.md §5.3): the person's code sent with the
 * claim token to `<claim_endpoint>/complete`; `claim_not_confirmed` is a hint, not an attempt;
 * re-mint only on `user_code_expired`.
 */
export function createLineReadBack(deps: AuthMdLinesDeps, steps: LineSteps, remint: LineStart['remint']) {
  const { http } = deps;
  const { endpoint, approvedByOf, credentialOf, exchange } = steps;

  /** Read-back: `{claim_token, user_code}` at `<claim_endpoint>/complete`. */
  async function completeReadBack(s: LineSecret, code: string, ctx: CallContext): Promise<Completion> {
    if (!s.claimEndpoint || !s.claimToken)
      throw upstream('The service names no claim_endpoint.', 'authmd_no_claim_uri');
    const userCode = code.replace(/[\s-]/g, '');
    if (!/^\d{4,12}$|^[A-Za-z0-9]{4,16}$/.test(userCode))
      return {
        kind: 'wrong_code',
        code: 'invalid_user_code',
        message: 'that is not a code of the shape the page shows',
      };
    const url = new URL(endpoint(s, s.claimEndpoint, 'claim endpoint'));
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/complete`;
    const res = await http.request(endpoint(s, url.toString(), 'claim completion endpoint'), {
      ctx,
      json: { claim_token: s.claimToken, user_code: userCode },
    });
    if (res.status >= 200 && res.status < 300) {
      const identity = readIdentityAnswer(res);
      // The refresh token is one-shot and is in this answer only: it goes into the credential
      // returned here, which the engine seals at once.
      const token = await exchange(s, identity.assertion.value, ctx);
      const approvedBy = approvedByOf(s);
      return {
        kind: 'credential',
        credential: credentialOf(
          s,
          { ...token, scopes: token.scopes ?? s.postClaimScopes ?? s.scopes },
          identity.assertion,
          identity.refreshToken,
        ),
        ...(approvedBy ? { approvedBy } : {}),
      };
    }
    const { code: error } = readServiceError(res.body);
    switch (error) {
      case 'claim_not_confirmed':
        return {
          kind: 'wrong_code',
          code: 'claim_not_confirmed',
          counts: false,
          message:
            'the service says nobody pressed Authorize on its page yet. Open the link, sign in and press Authorize first.',
        };
      case 'invalid_user_code':
        return {
          kind: 'wrong_code',
          code: 'invalid_user_code',
          message: 'the service says the code is wrong; re-read it on the page',
        };
      case 'user_code_expired':
        return remint(s, ctx, ['The code expired; here is a new link (press Authorize again there).']);
      case 'claim_expired':
      case 'invalid_claim':
      case 'invalid_claim_token':
        return remint(s, ctx, ['The service no longer accepts the previous link; here is a fresh one.'], true);
      case 'already_claimed':
        return { kind: 'already_exchanged' };
      case 'claim_denied':
      case 'access_denied':
        return { kind: 'fatal', code: 'login_denied', message: 'The approver declined on the service’s page.' };
      default:
        if (res.status >= 400 && res.status < 500) {
          const e = rejected(res, 'claim completion', 'claim_rejected');
          return { kind: 'fatal', code: e.code, message: e.message };
        }
        throw malformed(res, 'claim completion');
    }
  }

  return completeReadBack;
}
