import { defaultAuthMdScopes, preClaimScopes } from './authmd-state.js';
import type { AuthMdLinesState, ClaimAttemptState, LineRegistrationState } from './authmd-lines-state.js';

/**
 * What the sandbox's auth.md later lines answer, in each line's own shape (AUTHMD-VERSIONS.md
 * §3–§5): the polling line's flat fields (`registration_id`, `claim_url`, `claim: {user_code,
 * interval…}`) or the read-back line's nested ones (`id`, `claim: {token, url, attempt}`,
 * `identity: {assertion, refresh_token}`). The routes (authmd-lines-routes.ts) pick the answer.
 */
export const iso = (ms: number) => new Date(ms).toISOString();

type Expiring = { readonly value: string; readonly expiresAt: number };

export function lineAnswers(state: AuthMdLinesState, base: string) {
  const polling = state.line === '0.6';
  const verifyUrl = (origin: string, a: ClaimAttemptState) => `${origin}${base}/claim/verify/${a.id}`;
  const pollingAttempt = (origin: string, a: ClaimAttemptState) => ({
    user_code: a.userCode,
    expires_in: Math.round((a.expiresAt - state.now()) / 1000),
    verification_uri: verifyUrl(origin, a),
    interval: state.intervalSeconds,
  });
  const readBackAttempt = (origin: string, a: ClaimAttemptState) => ({
    verification_uri: verifyUrl(origin, a),
    expires_at: iso(a.expiresAt),
  });

  return {
    /** An anonymous or service_auth registration: the claim token, a pre-claim assertion, a started attempt. */
    registration(
      origin: string,
      r: LineRegistrationState,
      claimToken: string,
      preClaim: Expiring | undefined,
      attempt: ClaimAttemptState | undefined,
    ) {
      const claimUrl = `${origin}${base}/agent/identity/claim`;
      if (polling) {
        return {
          registration_id: r.id,
          registration_type: r.type,
          claim_url: claimUrl,
          claim_token: claimToken,
          claim_token_expires: iso(r.claimExpiresAt),
          post_claim_scopes: [...defaultAuthMdScopes],
          ...(preClaim
            ? {
                identity_assertion: preClaim.value,
                assertion_expires: iso(preClaim.expiresAt),
                pre_claim_scopes: [...preClaimScopes],
              }
            : {}),
          ...(attempt ? { claim: pollingAttempt(origin, attempt) } : {}),
        };
      }
      return {
        id: r.id,
        type: r.type,
        ...(preClaim ? { identity: { assertion: preClaim.value, expires_at: iso(preClaim.expiresAt) } } : {}),
        scopes: { ...(preClaim ? { pre_claim: [...preClaimScopes] } : {}), post_claim: [...defaultAuthMdScopes] },
        claim: {
          token: claimToken,
          expires_at: iso(r.claimExpiresAt),
          url: claimUrl,
          ...(attempt ? { attempt: readBackAttempt(origin, attempt) } : {}),
        },
      };
    },

    /** A registration by ID-JAG: the service's own assertion at once. */
    assertionRegistration(r: LineRegistrationState, assertion: Expiring) {
      return polling
        ? {
            registration_id: r.id,
            registration_type: 'identity_assertion',
            identity_assertion: assertion.value,
            assertion_expires: iso(assertion.expiresAt),
            scopes: [...defaultAuthMdScopes],
          }
        : {
            id: r.id,
            type: 'identity_assertion',
            identity: { assertion: assertion.value, expires_at: iso(assertion.expiresAt) },
            scopes: [...defaultAuthMdScopes],
          };
    },

    /** A claim started for an email: where the person confirms it. */
    claimStarted(origin: string, r: LineRegistrationState, attempt: ClaimAttemptState) {
      return polling
        ? {
            registration_id: r.id,
            claim_attempt_id: attempt.id,
            status: 'initiated',
            expires_at: iso(attempt.expiresAt),
            claim_attempt: pollingAttempt(origin, attempt),
          }
        : { id: r.id, type: 'service_auth', attempt: readBackAttempt(origin, attempt) };
    },

    /** The read-back line's identity: the assertion and the (rotating) refresh token. */
    identity: (assertion: Expiring, refresh: Expiring) => ({
      assertion: assertion.value,
      expires_at: iso(assertion.expiresAt),
      refresh_token: { value: refresh.value, expires_at: iso(refresh.expiresAt) },
    }),
  };
}
