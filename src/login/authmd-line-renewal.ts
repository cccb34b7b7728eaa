import type { CallContext, IssuedCredential } from '../core/login-protocol.js';
import { readIdentityAnswer } from './authmd-answers.js';
import {
  credentialFrom,
  credentialStateShape,
  type AuthMdLinesDeps,
  type CredentialState,
} from './authmd-line-state.js';
import { rejected, upstream } from './service-answer-errors.js';
import { exchangeAssertion, revokeAccessToken } from './authmd-token.js';
import { checkDiscoveredUrl } from './discovered-url.js';

/**
 * Keeping a credential of auth.md's later lines alive, and ending it (AUTHMD-VERSIONS.md §3.4,
 * §4.4, §5.4), from what it carries in `protocolState`. While the identity assertion lives it
 * is exchanged again (jwt-bearer). After that, polling has nothing to renew with (a new login);
 * read-back spends its one-shot refresh token at `identity_endpoint` and keeps the rotated one
 * even when the exchange that follows fails. Revoke is RFC 7009. Every endpoint is checked
 * again against the network policy and the service's site before it is called.
 */
export function createLineRenewal(deps: Pick<AuthMdLinesDeps, 'http' | 'clock' | 'policy'>) {
  const { http, clock, policy } = deps;
  const endpoint = (s: CredentialState, url: string, what: string) =>
    checkDiscoveredUrl(url, [s.service, ...(s.authorizationServer ? [s.authorizationServer] : [])], policy, what);
  const exchange = (s: CredentialState, assertion: string, ctx: CallContext) =>
    exchangeAssertion(http, endpoint(s, s.tokenEndpoint, 'token endpoint'), assertion, clock.now(), ctx, s.resource);

  return {
    async refresh(credential: IssuedCredential, ctx: CallContext): Promise<IssuedCredential> {
      const state = credentialStateShape.parse(credential.protocolState);
      const now = clock.now();
      const assertionLive = state.assertion.expiresAt === undefined || state.assertion.expiresAt - now > 60_000;
      if (assertionLive) {
        const token = await exchange(state, state.assertion.value, ctx);
        const refresh =
          credential.refreshToken && state.line === '0.7'
            ? {
                value: credential.refreshToken,
                ...(credential.refreshExpiresAt !== undefined ? { expiresAt: credential.refreshExpiresAt } : {}),
              }
            : undefined;
        return credentialFrom(state, token, refresh, credential.scopes);
      }
      if (state.line === '0.6' || !credential.refreshToken)
        throw upstream(
          'The identity assertion expired and the polling line has no refresh: a new login is needed.',
          'assertion_expired',
        );
      const res = await http.request(endpoint(state, state.identityEndpoint, 'identity endpoint'), {
        ctx,
        json: { type: 'refresh', refresh_token: credential.refreshToken },
      });
      if (res.status < 200 || res.status >= 300) throw rejected(res, 'refresh', 'refresh_rejected');
      const identity = readIdentityAnswer(res);
      const next: CredentialState = { ...state, assertion: identity.assertion };
      try {
        const token = await exchange(next, identity.assertion.value, ctx);
        return credentialFrom(next, token, identity.refreshToken, credential.scopes);
      } catch {
        // The old refresh token is spent: keep the new one (and the new assertion) with the old access token.
        return {
          ...credential,
          ...(identity.refreshToken ? { refreshToken: identity.refreshToken.value } : {}),
          ...(identity.refreshToken?.expiresAt !== undefined
            ? { refreshExpiresAt: identity.refreshToken.expiresAt }
            : {}),
          protocolState: next,
        };
      }
    },

    async revoke(credential: IssuedCredential, ctx: CallContext): Promise<void> {
      const state = credentialStateShape.parse(credential.protocolState);
      if (!state.revocationEndpoint) return;
      await revokeAccessToken(
        http,
        endpoint(state, state.revocationEndpoint, 'revocation endpoint'),
        credential.accessToken,
        ctx,
      );
    },
  };
}
