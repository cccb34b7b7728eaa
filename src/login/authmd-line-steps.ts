import type { ApprovedBy, CallContext, IssuedCredential } from '../core/login-protocol.js';
import { credentialFrom, type AuthMdLinesDeps, type CredentialState, type LineSecret } from './authmd-line-state.js';
import { exchangeAssertion } from './authmd-token.js';
import { checkDiscoveredUrl } from './discovered-url.js';

/**
 * What every step of auth.md's later lines shares (authmd-lines.ts): endpoints checked against
 * the network policy and the service's site before each call, the jwt-bearer exchange, the
 * credential built from a secret, and whom the service bound the ceremony to.
 */
export function createLineSteps(deps: AuthMdLinesDeps) {
  const { http, clock, policy } = deps;
  const anchorsOf = (s: { service: string; authorizationServer?: string | undefined }) => [
    s.service,
    ...(s.authorizationServer ? [s.authorizationServer] : []),
  ];
  const endpoint = (s: { service: string; authorizationServer?: string | undefined }, url: string, what: string) =>
    checkDiscoveredUrl(url, anchorsOf(s), policy, what);

  const approvedByOf = (s: LineSecret): ApprovedBy | undefined =>
    // The service bound the ceremony to this account (login_hint, or the claim's email).
    s.email && s.plan !== 'identity_assertion' ? { source: 'login_hint', email: s.email.toLowerCase() } : undefined;

  function credentialOf(
    s: LineSecret,
    token: { accessToken: string; expiresAt?: number; scopes?: readonly string[] },
    assertion: { value: string; expiresAt?: number },
    refresh?: { value: string; expiresAt?: number },
  ): IssuedCredential {
    const state: CredentialState = {
      line: s.line,
      service: s.service,
      ...(s.authorizationServer ? { authorizationServer: s.authorizationServer } : {}),
      ...(s.resource ? { resource: s.resource } : {}),
      identityEndpoint: s.identityEndpoint,
      tokenEndpoint: s.tokenEndpoint,
      ...(s.revocationEndpoint ? { revocationEndpoint: s.revocationEndpoint } : {}),
      assertion,
    };
    return credentialFrom(state, token, refresh);
  }

  const exchange = (s: LineSecret, assertion: string, ctx: CallContext) =>
    exchangeAssertion(http, endpoint(s, s.tokenEndpoint, 'token endpoint'), assertion, clock.now(), ctx, s.resource);

  return { endpoint, approvedByOf, credentialOf, exchange };
}

export type LineSteps = ReturnType<typeof createLineSteps>;
