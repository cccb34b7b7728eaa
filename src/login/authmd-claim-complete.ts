import { UpstreamError } from '../core/errors.js';
import type { CallContext, Completion, ProtocolSecret } from '../core/login-protocol.js';
import { say, type Sentence } from '../core/sentence.js';
import type { ClaimStart } from './authmd-claim-start.js';
import { claimSecretShape, credentialFrom, type AuthMdClaimDeps, type ClaimSecret } from './authmd-claim-state.js';
import { anchorsOf } from './authmd-endpoints.js';
import { readClaimant, readClaimed } from './authmd-registration.js';
import { malformed, rejected } from './service-answer-errors.js';
import { maskedEmail } from './authmd-token.js';
import { checkDiscoveredUrl } from './discovered-url.js';
import { readServiceError } from './service-http.js';

/**
 * Completing auth.md v0.1's claim with `{claim_token, otp}` once the approver replies
 * (docs/protocols.md, "auth.md"). The service's verdicts map onto the engine's: `otp_invalid` is
 * a wrong code; `otp_expired` re-triggers the claim once; `claim_expired` and
 * `invalid_claim_token` restart registration with a fresh link; `previously_claimed` after our
 * own completion is success when we still hold the key.
 */
export function createClaimComplete(deps: AuthMdClaimDeps, start: ClaimStart) {
  const { http, clock } = deps;

  const restart = async (
    s: ClaimSecret,
    ctx: CallContext,
    reason: Sentence,
    retriggered = false,
  ): Promise<Completion> => ({
    kind: 'restarted',
    reason,
    started: await start.register(
      { service: s.service, scopes: s.scopes, ...(s.email ? { approverEmail: s.email } : {}) },
      ctx,
      retriggered,
    ),
  });

  return async function complete(secret: ProtocolSecret, code: string, ctx: CallContext): Promise<Completion> {
    const s = claimSecretShape.parse(secret);
    checkDiscoveredUrl(
      s.completeUri,
      anchorsOf(s.service, s.authorizationServer),
      deps.policy,
      'claim completion endpoint',
    );
    // auth.md: the code is sent as a string, always (a number loses leading zeros).
    const res = await http.request(s.completeUri, { ctx, json: { claim_token: s.claimToken, otp: String(code) } });
    if (res.status >= 200 && res.status < 300) {
      const credential = credentialFrom(s, readClaimed(res, clock.now()));
      if (!credential) {
        return {
          kind: 'fatal',
          code: 'authmd_no_credential',
          message: 'The service confirmed the claim but handed over no credential the bridge can use.',
        };
      }
      // An emailed code proves the inbox: the service bound this claim to `s.email` itself.
      const approvedBy = s.email ? { source: 'login_hint' as const, email: s.email.toLowerCase() } : readClaimant(res);
      return { kind: 'credential', credential, ...(approvedBy ? { approvedBy } : {}) };
    }
    const { code: error } = readServiceError(res.body);
    switch (error) {
      case 'otp_invalid':
        return {
          kind: 'wrong_code',
          code: 'otp_invalid',
          message: 'the service says the code is wrong; re-read it carefully, or open the link again for a fresh one',
        };
      case 'otp_expired':
        if (s.retriggered)
          return {
            kind: 'fatal',
            code: 'otp_expired',
            message: 'The code expired again; ask the agent to start a new login.',
          };
        if (s.email && s.claimUri) {
          await start.triggerClaim(s.claimUri, s.claimToken, s.email, anchorsOf(s.service, s.authorizationServer), ctx);
          return {
            kind: 'restarted',
            reason: say`The code had expired, so the service emailed ${maskedEmail(s.email)} a new link.`,
            started: start.resent({ ...s, retriggered: true }),
          };
        }
        return restart(s, ctx, ['The code had expired; here is a fresh link.'], true);
      case 'claim_expired':
      case 'invalid_claim_token':
        return restart(s, ctx, ['The service no longer accepts the previous link (it expired); here is a fresh one.']);
      case 'previously_claimed': {
        const held = s.plan === 'anonymous' ? credentialFrom(s, undefined) : undefined;
        return held ? { kind: 'already_exchanged', credential: held } : { kind: 'already_exchanged' };
      }
      case 'claim_denied':
      case 'access_denied':
        return { kind: 'fatal', code: 'login_denied', message: 'The approver declined on the service’s page.' };
      case 'claimed_or_in_flight':
        throw new UpstreamError('The service is still finishing another claim of this registration.', {
          code: 'claim_in_flight',
          upstreamStatus: res.status,
          retry: 'backoff',
        });
      default:
        if (res.status >= 400 && res.status < 500) {
          const e = rejected(res, 'claim completion', 'claim_rejected');
          return { kind: 'fatal', code: e.code, message: e.message };
        }
        throw malformed(res, 'claim completion');
    }
  };
}
