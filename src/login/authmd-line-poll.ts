import type { CallContext, PollResult } from '../core/login-protocol.js';
import { readTokenAnswer } from './authmd-answers.js';
import { malformed, rejected } from './service-answer-errors.js';
import { maxIntervalSeconds, type AuthMdLinesDeps, type LineSecret } from './authmd-line-state.js';
import { type LineSteps } from './authmd-line-steps.js';
import { type LineStart } from './authmd-line-start.js';
import { readServiceError } from './service-http.js';

/**
 * The polling line's completion (AUTHMD-VERSIONS.md §4.4): the token endpoint polled with the
 * claim grant, obeying `slow_down`, re-minting on `expired_token`; a clean ID-JAG registration's
 * assertion exchanged.
 */
export function createLinePoll(deps: AuthMdLinesDeps, steps: LineSteps, remint: LineStart['remint']) {
  const { http, clock } = deps;
  const { endpoint, approvedByOf, credentialOf, exchange } = steps;

  /** One poll of the polling line's token endpoint. */
  async function pollOnce(s: LineSecret, ctx: CallContext): Promise<PollResult> {
    if (s.assertion) {
      const token = await exchange(s, s.assertion.value, ctx);
      return {
        kind: 'credential',
        credential: credentialOf(s, { ...token, scopes: token.scopes ?? s.scopes }, s.assertion),
      };
    }
    if (s.line !== '0.6' || !s.claimToken || !s.claimGrant) return { kind: 'pending' };
    const res = await http.request(endpoint(s, s.tokenEndpoint, 'token endpoint'), {
      ctx,
      form: { grant_type: s.claimGrant, claim_token: s.claimToken },
    });
    if (res.status === 200) {
      const t = readTokenAnswer(res, clock.now());
      if (!t.assertion) throw malformed(res, 'claim token (no identity assertion)');
      // The answer usually carries the access token; without one, the assertion is exchanged for it.
      const token = t.accessToken ? { accessToken: t.accessToken, ...t } : await exchange(s, t.assertion.value, ctx);
      const approvedBy = approvedByOf(s);
      return {
        kind: 'credential',
        credential: credentialOf(s, { ...token, scopes: token.scopes ?? s.postClaimScopes ?? s.scopes }, t.assertion),
        ...(approvedBy ? { approvedBy } : {}),
      };
    }
    const { code } = readServiceError(res.body);
    switch (code) {
      case 'authorization_pending':
        return { kind: 'pending', nextPollMs: s.intervalMs };
      case 'slow_down': {
        const intervalMs = Math.min(maxIntervalSeconds * 1000, s.intervalMs + 5_000);
        return { kind: 'pending', nextPollMs: intervalMs, secret: { ...s, intervalMs } };
      }
      case 'expired_token':
        return remint(s, ctx, ['The code expired before anyone confirmed it; here is a new link and code.']);
      case 'access_denied':
        return { kind: 'fatal', code: 'login_denied', message: 'The approver declined on the service’s page.' };
      case 'invalid_grant':
        // Spent by our own earlier poll whose answer was lost (a second credential is never taken).
        return { kind: 'already_exchanged' };
      default:
        if (res.status >= 400 && res.status < 500) {
          const e = rejected(res, 'claim poll', 'claim_rejected');
          return { kind: 'fatal', code: e.code, message: e.message };
        }
        throw malformed(res, 'claim poll');
    }
  }

  return pollOnce;
}
