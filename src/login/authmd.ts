import type { Clock } from '../core/clock.js';
import { UpstreamError } from '../core/errors.js';
import type { CallContext, IssuedCredential, LoginProtocol } from '../core/login-protocol.js';
import { secretLike } from '../core/secret-patterns.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import { createClaimComplete } from './authmd-claim-complete.js';
import { createClaimStart } from './authmd-claim-start.js';
import { completionUrl } from './authmd-claim-state.js';
import { checkedAgentAuth } from './authmd-endpoints.js';
import type { DiscoveredService, ServiceDiscovery } from './discovered-service.js';
import type { ProtocolModule } from './protocol-module.js';
import { maskedEmail } from './authmd-token.js';
import { createAuthMdLines } from './authmd-lines.js';
import { isLineCredential, isLineSecret, type AssertionProvider } from './authmd-line-state.js';
import { createIdJagIssuer } from './id-jag-issuer.js';
import { rejected } from './service-answer-errors.js';
import type { ServiceHttp } from './service-http.js';

/**
 * auth.md agentic registration (docs/protocols.md, "auth.md"): the protocol's entry. It finds the
 * service's checked `agent_auth` block (authmd-endpoints.ts) and speaks either v0.1's claim —
 * register, then complete with `{claim_token, otp}` once the approver replies
 * (authmd-claim-start.ts, authmd-claim-complete.ts) — or the later polling and read-back lines
 * (authmd-lines.ts).
 */
export interface AuthMdProtocolDeps {
  readonly http: ServiceHttp;
  readonly discovery: ServiceDiscovery;
  readonly clock: Clock;
  /** Every endpoint must pass it and be same-site as the service or its authorization server. */
  readonly policy: NetworkPolicy;
  readonly clientName?: string;
  /** Issues ID-JAGs for the `identity_assertion` registration of the later shapes; absent: not used. */
  readonly assertionProvider?: AssertionProvider;
}

/** Kept here for the protocol's callers; defined with the claim state. */
export { completionUrl };

/** "ana@example.com" → "a***@example.com": enough for the approver to recognise, no more. */
export const maskEmail = maskedEmail;

export function createAuthMdProtocol(deps: AuthMdProtocolDeps): LoginProtocol {
  const { http, clock } = deps;
  // The polling (0.6) and read-back (0.7) lines; the claim files speak 0.1 (and 0.2/0.3, its emailed-code kin).
  const lines = createAuthMdLines({
    http,
    clock,
    policy: deps.policy,
    ...(deps.assertionProvider ? { assertionProvider: deps.assertionProvider } : {}),
  });
  const claimDeps = {
    http,
    clock,
    discovery: deps.discovery,
    policy: deps.policy,
    clientName: deps.clientName ?? 'handoff',
  };
  const claimStart = createClaimStart(claimDeps);
  const completeClaim = createClaimComplete(claimDeps, claimStart);

  return {
    name: 'authmd',
    sendsApproverEmail: true,

    async start(req) {
      const { found, agentAuth } = await checkedAgentAuth(deps, req.service, req);
      if (agentAuth.line === '0.6' || agentAuth.line === '0.7') return lines.start(found, agentAuth, req);
      return claimStart.register(req, req);
    },

    // Only the polling line polls; a 0.1 or read-back login is never scheduled for it (`polls: false`).
    poll: async (secret, ctx) => (isLineSecret(secret) ? lines.poll(secret, ctx) : { kind: 'pending' }),

    async refresh(credential: IssuedCredential, _service: string, ctx: CallContext): Promise<IssuedCredential> {
      if (!isLineCredential(credential))
        throw new UpstreamError('auth.md v0.1 credentials cannot be refreshed.', {
          code: 'refresh_unavailable',
          upstreamStatus: 0,
          retry: 'never',
        });
      return lines.refresh(credential, ctx);
    },

    complete: (secret, code, ctx) =>
      isLineSecret(secret) ? lines.complete(secret, code, ctx) : completeClaim(secret, code, ctx),

    async revoke(credential: IssuedCredential, service: string, ctx: CallContext): Promise<void> {
      if (isLineCredential(credential)) return lines.revoke(credential, ctx);
      const { agentAuth } = await checkedAgentAuth(deps, service, ctx);
      if (!agentAuth.revocationUri) return;
      // RFC 7009 form, as auth.md's revocation section describes.
      const res = await http.request(agentAuth.revocationUri, {
        ctx,
        form: { token: credential.accessToken, token_type_hint: 'access_token' },
      });
      if (res.status !== 200 && res.status !== 204) throw rejected(res, 'revoke', 'revoke_rejected');
    },
  };
}

/** The registration types this protocol can use (ID-JAG needs an identity provider). */
export function usableAgentAuth(found: DiscoveredService): boolean {
  const a = found.agentAuth;
  if (!a) return false;
  // The later shapes: service_auth or anonymous (partial metadata may list no types at all).
  if (a.line === '0.6' || a.line === '0.7')
    return a.types.length === 0 || a.types.includes('service_auth') || a.types.includes('anonymous');
  const email =
    (a.types.includes('identity_assertion') && a.assertionTypes.includes('verified_email')) ||
    a.types.includes('verified_email');
  return email || a.types.includes('user_claimed') || a.types.includes('anonymous');
}

/** auth.md as the registry sees it. */
export const authMdProtocol: ProtocolModule = {
  name: 'authmd',
  rank: 10,
  recognises: usableAgentAuth,
  secretShapes: [
    // claim tokens
    secretLike(String.raw`clm_[A-Za-z0-9_-]{8,}`),
    // the sandbox's claim finish codes (browser claims)
    secretLike(String.raw`acf_[A-Za-z0-9]{16,}`),
    // read-back refresh tokens (the reference's `art_`), and the sandbox's identity assertions
    secretLike(String.raw`art_[A-Za-z0-9_-]{16,}`),
    secretLike(String.raw`asr_[A-Za-z0-9]{16,}`),
  ],
  sandbox: [
    { base: '/sandbox/authmd', serviceName: 'Sandbox Notes', label: 'auth.md v0.1; mail at /sandbox/authmd/mailbox' },
    { base: '/sandbox/authmd-polling', serviceName: 'Sandbox Tasks', label: 'auth.md v0.6, polling', variant: '0.6' },
    { base: '/sandbox/authmd-readback', serviceName: 'Sandbox Docs', label: 'auth.md v0.7, read-back', variant: '0.7' },
  ],
  create: (context) =>
    createAuthMdProtocol({
      http: context.http,
      discovery: context.discovery,
      clock: context.clock,
      policy: context.policy,
      ...(context.login.idJag ? { assertionProvider: createIdJagIssuer(context.login.idJag, context.clock) } : {}),
    }),
};
