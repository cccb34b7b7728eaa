import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { UpstreamError } from '../core/errors.js';
import type {
  CallContext,
  Completion,
  IssuedCredential,
  LoginProtocol,
  LoginRequest,
  ProtocolSecret,
  Started,
} from '../core/login-protocol.js';
import { secretLike } from '../core/secret-patterns.js';
import { list, say, type Sentence } from '../core/sentence.js';
import { textLimits } from '../core/untrusted-text.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import {
  choosePlan,
  malformed,
  readClaimant,
  readClaimed,
  readRegistration,
  registrationBody,
  rejected,
  type RegistrationPlan,
} from './authmd-registration.js';
import type { DiscoveredService, ServiceDiscovery } from './discovered-service.js';
import { checkDiscoveredUrl } from './discovered-url.js';
import type { ProtocolModule } from './protocol-module.js';
import { maskedEmail } from './authmd-token.js';
import { createAuthMdLines } from './authmd-lines.js';
import { isLineCredential, isLineSecret, type AssertionProvider } from './authmd-line-state.js';
import { createIdJagIssuer } from './id-jag-issuer.js';
import { readServiceError, type ServiceHttp } from './service-http.js';

/**
 * auth.md agentic registration (docs/protocols.md, "auth.md"). Register (verified email, browser claim, or
 * anonymous + claim), post what the approver must do, and complete with `{claim_token, otp}`
 * once they reply. The service's verdicts map onto the engine's: `otp_invalid` is a wrong
 * code; `otp_expired` re-triggers the claim once; `claim_expired` and `invalid_claim_token`
 * restart registration with a fresh link; `previously_claimed` after our own completion is
 * success when we still hold the key.
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

/** When a server names no claim expiry: auth.md codes live about 10 minutes. */
const defaultClaimLifetimeMs = 10 * 60_000;

const secretShape = z.object({
  plan: z.enum(['email', 'user_claimed', 'anonymous']),
  service: z.string(),
  scopes: z.array(z.string()),
  claimToken: z.string(),
  completeUri: z.string(),
  claimUri: z.string().optional(),
  email: z.string().optional(),
  key: z.object({ value: z.string(), expiresAt: z.number().optional(), scopes: z.array(z.string()) }).optional(),
  postClaimScopes: z.array(z.string()).optional(),
  /** The claim was already re-triggered once after an `otp_expired`. */
  retriggered: z.boolean(),
  /** The authorization server the endpoints came from (absent in secrets sealed before it was kept). */
  authorizationServer: z.string().optional(),
});
type AuthMdSecret = z.infer<typeof secretShape>;

/** `<claim_uri>/complete`, keeping any query string where it belongs. */
export function completionUrl(claimUri: string): string {
  const url = new URL(claimUri);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/complete`;
  return url.toString();
}

/** "ana@example.com" → "a***@example.com": enough for the approver to recognise, no more. */
export const maskEmail = maskedEmail;

export function createAuthMdProtocol(deps: AuthMdProtocolDeps): LoginProtocol {
  const { http, clock } = deps;
  const clientName = deps.clientName ?? 'handoff';
  // The polling (0.6) and read-back (0.7) lines; this file speaks 0.1 (and 0.2/0.3, its emailed-code kin).
  const lines = createAuthMdLines({
    http,
    clock,
    policy: deps.policy,
    ...(deps.assertionProvider ? { assertionProvider: deps.assertionProvider } : {}),
  });

  async function agentAuthOf(
    service: string,
    ctx: CallContext,
  ): Promise<{ found: DiscoveredService; agentAuth: NonNullable<DiscoveredService['agentAuth']> }> {
    const found = await deps.discovery.discover(service, ctx);
    if (!found.agentAuth) {
      throw new UpstreamError(`${service} publishes no auth.md agent_auth block.`, {
        code: 'authmd_unavailable',
        upstreamStatus: 0,
        retry: 'never',
      });
    }
    const a = found.agentAuth;
    const anchors = anchorsOf(found.service, found.authorizationServer);
    for (const url of [
      a.registerUri,
      a.claimUri,
      a.revocationUri,
      a.tokenEndpoint,
      a.oauthRevocationEndpoint,
      ...Object.values(a.claimUris),
    ])
      if (url) checkDiscoveredUrl(url, anchors, deps.policy, 'auth.md endpoint');
    return { found, agentAuth: a };
  }

  const anchorsOf = (service: string, authorizationServer: string | undefined) => [
    service,
    ...(authorizationServer ? [authorizationServer] : []),
  ];

  /** Asks the service to email the approver a code for this registration. */
  async function triggerClaim(
    claimUri: string,
    claimToken: string,
    email: string,
    anchors: readonly string[],
    ctx: CallContext,
  ): Promise<void> {
    checkDiscoveredUrl(claimUri, anchors, deps.policy, 'claim endpoint');
    const res = await http.request(claimUri, { ctx, json: { claim_token: claimToken, email } });
    if (res.status < 200 || res.status >= 300) throw rejected(res, 'claim email request', 'claim_rejected');
  }

  async function register(
    req: Pick<LoginRequest, 'service' | 'scopes' | 'approverEmail'>,
    ctx: CallContext,
    retriggered = false,
  ): Promise<Started> {
    const { found, agentAuth } = await agentAuthOf(req.service, ctx);
    const plan: RegistrationPlan = choosePlan(agentAuth, req.approverEmail);
    const type = plan === 'email' ? 'identity_assertion' : plan;
    const claimMethod = agentAuth.claimMethods[0] ?? 'google_oauth';
    const res = await http.request(agentAuth.registerUri, {
      ctx,
      json: registrationBody(plan, {
        ...(req.approverEmail ? { email: req.approverEmail } : {}),
        scopes: req.scopes,
        clientName,
        claimMethod,
      }),
    });
    const registered = readRegistration(res);
    const claimUri =
      agentAuth.claimUris[type] ?? agentAuth.claimUri ?? (plan === 'email' ? registered.claimUrl : undefined);
    if (!claimUri && plan !== 'user_claimed') {
      throw new UpstreamError('The service names no claim_uri to finish the claim at.', {
        code: 'authmd_no_claim_uri',
        upstreamStatus: 0,
        retry: 'never',
      });
    }
    // docs/protocols.md, "auth.md": completion is `<claim_uri>/complete`; without a claim URI (a browser-only
    // claim), auth.md's conventional path on the registration origin.
    const completeUri = completionUrl(claimUri ?? `${new URL(agentAuth.registerUri).origin}/agent/claim`);
    const byEmail = plan === 'email' || (plan === 'anonymous' && req.approverEmail !== undefined);
    const anchors = anchorsOf(found.service, found.authorizationServer);
    checkDiscoveredUrl(completeUri, anchors, deps.policy, 'claim completion endpoint');
    if (plan === 'anonymous' && byEmail)
      await triggerClaim(claimUri!, registered.claimToken, req.approverEmail!, anchors, ctx);
    if (!byEmail && !registered.claimUrl) throw malformed(res, 'registration (no claim URL)');

    const secret: AuthMdSecret = {
      plan,
      service: req.service,
      scopes: [...req.scopes],
      claimToken: registered.claimToken,
      completeUri,
      retriggered,
      ...(found.authorizationServer ? { authorizationServer: found.authorizationServer } : {}),
      ...(claimUri ? { claimUri } : {}),
      ...(byEmail ? { email: req.approverEmail! } : {}),
      ...(registered.key ? { key: { ...registered.key, scopes: [...registered.key.scopes] } } : {}),
      ...(registered.postClaimScopes ? { postClaimScopes: [...registered.postClaimScopes] } : {}),
    };
    // Names and scopes the service chose stay values: the adapters escape them.
    const grants = registered.postClaimScopes?.length
      ? list(registered.postClaimScopes, textLimits.scope)
      : ['its full scopes'];
    const upgrade: Sentence =
      plan === 'anonymous' ? say` The service issued a low-scope key at once; claiming it grants ${grants}.` : [];
    return {
      // Email flows have no page to link here (the link is in the email): name the service.
      approvalUrl: byEmail ? found.service : registered.claimUrl!,
      expiresAt: registered.claimExpiresAt ?? clock.now() + defaultClaimLifetimeMs,
      answer: byEmail ? 'email_code' : 'finish_code',
      secret,
      ...(found.resourceName ? { serviceName: found.resourceName } : {}),
      ...(found.logoUri ? { serviceLogoUrl: found.logoUri } : {}),
      ...(found.authorizationServer ? { authorizationServer: found.authorizationServer } : {}),
      protocolVersion: '0.1',
      polls: false,
      note: byEmail
        ? say`The service has emailed ${maskEmail(req.approverEmail!)} a link: open it and reply here with the 6-digit code it shows.${upgrade}`
        : say`Sign in on the service's page to claim the agent, then paste the finish code it shows.${upgrade}`,
    };
  }

  function credentialFrom(
    s: AuthMdSecret,
    issued: { value: string; expiresAt?: number; scopes?: readonly string[] } | undefined,
  ): IssuedCredential | undefined {
    if (issued) {
      return {
        accessToken: issued.value,
        tokenType: 'Bearer',
        scopes: issued.scopes ?? s.postClaimScopes ?? s.scopes,
        ...(issued.expiresAt ? { expiresAt: issued.expiresAt } : {}),
      };
    }
    // Anonymous: the claim upgraded the key we already hold, in place.
    if (s.key)
      return {
        accessToken: s.key.value,
        tokenType: 'Bearer',
        scopes: s.postClaimScopes ?? s.key.scopes,
        ...(s.key.expiresAt ? { expiresAt: s.key.expiresAt } : {}),
      };
    return undefined;
  }

  const restart = async (
    s: AuthMdSecret,
    ctx: CallContext,
    reason: Sentence,
    retriggered = false,
  ): Promise<Completion> => ({
    kind: 'restarted',
    reason,
    started: await register(
      { service: s.service, scopes: s.scopes, ...(s.email ? { approverEmail: s.email } : {}) },
      ctx,
      retriggered,
    ),
  });

  /** The same registration, re-posted after the service sent a new email (token and link stay). */
  const resent = (next: AuthMdSecret): Started => ({
    approvalUrl: next.service,
    expiresAt: clock.now() + defaultClaimLifetimeMs,
    answer: 'email_code',
    secret: next,
    protocolVersion: '0.1',
    polls: false,
    note: say`A new email is on its way to ${maskEmail(next.email!)}: open its link and reply here with the new 6-digit code.`,
  });

  return {
    name: 'authmd',
    sendsApproverEmail: true,

    async start(req) {
      const { found, agentAuth } = await agentAuthOf(req.service, req);
      if (agentAuth.line === '0.6' || agentAuth.line === '0.7') return lines.start(found, agentAuth, req);
      return register(req, req);
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

    async complete(secret: ProtocolSecret, code: string, ctx: CallContext): Promise<Completion> {
      if (isLineSecret(secret)) return lines.complete(secret, code, ctx);
      const s = secretShape.parse(secret);
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
        const approvedBy = s.email
          ? { source: 'login_hint' as const, email: s.email.toLowerCase() }
          : readClaimant(res);
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
            await triggerClaim(s.claimUri, s.claimToken, s.email, anchorsOf(s.service, s.authorizationServer), ctx);
            return {
              kind: 'restarted',
              reason: say`The code had expired, so the service emailed ${maskEmail(s.email)} a new link.`,
              started: resent({ ...s, retriggered: true }),
            };
          }
          return restart(s, ctx, ['The code had expired; here is a fresh link.'], true);
        case 'claim_expired':
        case 'invalid_claim_token':
          return restart(s, ctx, [
            'The service no longer accepts the previous link (it expired); here is a fresh one.',
          ]);
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
    },

    async revoke(credential: IssuedCredential, service: string, ctx: CallContext): Promise<void> {
      if (isLineCredential(credential)) return lines.revoke(credential, ctx);
      const { agentAuth } = await agentAuthOf(service, ctx);
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
