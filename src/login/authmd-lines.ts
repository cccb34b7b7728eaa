import { BadInputError } from '../core/errors.js';
import type {
  ApprovedBy,
  CallContext,
  Completion,
  IssuedCredential,
  LoginRequest,
  PollResult,
  Started,
} from '../core/login-protocol.js';
import type { Sentence } from '../core/sentence.js';
import {
  readClaimAttempt,
  readIdentityAnswer,
  readLineRegistration,
  readTokenAnswer,
  type ClaimAttempt,
} from './authmd-answers.js';
import { malformed, rejected } from './authmd-registration.js';
import {
  checkedEmail,
  choosePlan,
  credentialFrom,
  defaultAttemptMs,
  defaultClaimGrant,
  defaultIntervalSeconds,
  idJagType,
  lineSecretShape,
  maxIntervalSeconds,
  maxRemints,
  minIntervalSeconds,
  upstream,
  type AuthMdLinesDeps,
  type CredentialState,
  type LineSecret,
} from './authmd-line-state.js';
import { createLineRenewal } from './authmd-line-renewal.js';
import { startedForAttempt } from './authmd-line-started.js';
import { exchangeAssertion } from './authmd-token.js';
import type { AgentAuthMetadata, DiscoveredService } from './discovered-service.js';
import { checkDiscoveredUrl } from './discovered-url.js';
import { readServiceError } from './service-http.js';

/**
 * auth.md's later shapes (AUTHMD-VERSIONS.md §3–§8): registration at `identity_endpoint`,
 * then either the polling line (v0.6: the thread shows the link and the `user_code`, the bridge
 * polls the token endpoint with the claim grant) or the read-back line (v0.7: the thread shows
 * the link only, the person pastes the code the page shows, the bridge completes with
 * `{claim_token, user_code}`). Both end with the identity assertion exchanged for an access
 * token (RFC 7523 jwt-bearer) and revoke with RFC 7009. Metadata suggests the shape; the
 * registration answer decides it. v0.1 stays in authmd.ts.
 */
export function createAuthMdLines(deps: AuthMdLinesDeps) {
  const { http, clock, policy } = deps;
  const anchorsOf = (s: { service: string; authorizationServer?: string | undefined }) => [
    s.service,
    ...(s.authorizationServer ? [s.authorizationServer] : []),
  ];
  const endpoint = (s: { service: string; authorizationServer?: string | undefined }, url: string, what: string) =>
    checkDiscoveredUrl(url, anchorsOf(s), policy, what);

  async function registrationBody(
    plan: LineSecret['plan'],
    found: DiscoveredService,
    a: AgentAuthMetadata,
    email: string | undefined,
    ctx: CallContext,
  ) {
    switch (plan) {
      case 'service_auth':
        return { type: 'service_auth', login_hint: email };
      case 'anonymous':
        return { type: 'anonymous' };
      case 'identity_assertion': {
        const audience = (found.authorizationServer ?? found.service).replace(/\/+$/, '');
        const assertion = await deps.assertionProvider!.idJag(
          { audience, endpoint: a.registerUri, service: found.service, subject: email! },
          ctx,
        );
        return { type: 'identity_assertion', assertion_type: idJagType, assertion };
      }
    }
  }

  /**
   * The bridge vouches for a person only when the operator configured an assertion provider
   * that lets this service (and its registration endpoint) have one, and the email is the
   * platform directory's for the one named approver, not just the agent's word.
   */
  const idJagAllowed = (found: DiscoveredService, a: AgentAuthMetadata, email: string | undefined, req: LoginRequest) =>
    Boolean(
      email &&
      req.approverEmailFromDirectory === true &&
      deps.assertionProvider?.allows(found.service) &&
      deps.assertionProvider.allows(a.registerUri),
    );

  /** Starts (or re-mints) a claim attempt for the secret's claim token. */
  async function startClaim(s: LineSecret, ctx: CallContext): Promise<ClaimAttempt | 'gone'> {
    if (!s.claimEndpoint || !s.claimToken)
      throw upstream('The service names no claim_endpoint.', 'authmd_no_claim_uri');
    if (!s.email) {
      throw new BadInputError(
        'Claiming this registration needs the approver’s email at the service: pass approverEmail.',
        {
          code: 'approver_email_required',
          details: { field: 'approverEmail' },
        },
      );
    }
    const json =
      s.line === '0.6'
        ? { claim_token: s.claimToken, email: s.email }
        : { type: 'service_auth', claim_token: s.claimToken, login_hint: s.email };
    const res = await http.request(endpoint(s, s.claimEndpoint, 'claim endpoint'), { ctx, json });
    // Expired, unknown, or (polling) claimed_or_in_flight: only a new registration helps.
    if (res.status === 410 || res.status === 401 || res.status === 409) return 'gone';
    if (res.status < 200 || res.status >= 300) throw rejected(res, 'claim start', 'claim_rejected');
    return readClaimAttempt(res, clock.now());
  }

  const startedFor = (s: LineSecret, attempt: ClaimAttempt, claimExpiresAt: number | undefined) =>
    startedForAttempt(s, attempt, claimExpiresAt, clock.now(), policy);

  async function start(
    found: DiscoveredService,
    a: AgentAuthMetadata,
    req: LoginRequest,
    remints = 0,
  ): Promise<Started> {
    const email = req.approverEmail ? checkedEmail(req.approverEmail) : undefined;
    const plan = choosePlan(a, email, idJagAllowed(found, a, email, req));
    const res = await http.request(endpoint(found, a.registerUri, 'registration endpoint'), {
      ctx: req,
      json: await registrationBody(plan, found, a, email, req),
    });
    const { code } = readServiceError(res.body);
    const stepUp = res.status === 401 && code === 'interaction_required';
    if (!stepUp && (res.status < 200 || res.status >= 300))
      throw rejected(res, 'registration', 'registration_rejected');
    const reg = readLineRegistration(res, clock.now());
    const tokenEndpoint = a.tokenEndpoint;
    if (!tokenEndpoint)
      throw upstream(
        `${new URL(found.service).origin} names no token_endpoint to exchange at.`,
        'authmd_no_token_endpoint',
      );
    const s: LineSecret = {
      line: reg.line,
      plan,
      service: found.service,
      ...(found.authorizationServer ? { authorizationServer: found.authorizationServer } : {}),
      ...(found.resource ? { resource: found.resource } : {}),
      scopes: [...req.scopes],
      ...(email ? { email } : {}),
      identityEndpoint: a.registerUri,
      ...(a.claimUri ? { claimEndpoint: a.claimUri } : {}),
      tokenEndpoint,
      ...(a.oauthRevocationEndpoint ? { revocationEndpoint: a.oauthRevocationEndpoint } : {}),
      ...(reg.line === '0.6' ? { claimGrant: a.claimGrant ?? defaultClaimGrant } : {}),
      ...(reg.claimToken ? { claimToken: reg.claimToken } : {}),
      intervalMs: defaultIntervalSeconds * 1000,
      remints,
      ...(reg.postClaimScopes ? { postClaimScopes: [...reg.postClaimScopes] } : {}),
    };
    if (!reg.claimToken) {
      // A clean ID-JAG registration: nothing to claim. The thread still asks an approver to let the agent in.
      if (!reg.assertion) throw malformed(res, 'registration (no claim token, no assertion)');
      // Not polled: only the approver's "done" in the thread lets the agent in.
      return {
        approvalUrl: found.service,
        expiresAt: Math.min(reg.assertion.expiresAt ?? clock.now() + defaultAttemptMs, clock.now() + defaultAttemptMs),
        answer: 'done',
        secret: { ...s, assertion: reg.assertion, intervalMs: minIntervalSeconds * 1000 },
        polls: false,
        protocolVersion: reg.line,
        ...(found.authorizationServer ? { authorizationServer: found.authorizationServer } : {}),
        note: [
          'The service accepted the bridge’s identity assertion for this agent: there is nothing to open. Reply "done" to let the agent in.',
        ],
      };
    }
    const attempt = reg.attempt ?? (await startClaim(s, req));
    if (attempt === 'gone') throw upstream('The service voided the registration it had just made.', 'claim_rejected');
    return {
      ...startedFor(s, attempt, reg.claimExpiresAt),
      ...(found.resourceName ? { serviceName: found.resourceName } : {}),
      ...(found.logoUri ? { serviceLogoUrl: found.logoUri } : {}),
    };
  }

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

  /**
   * Voids this attempt and starts another: the same claim token with a new attempt (read-back,
   * and polling's anonymous claim), or a new registration (polling's service_auth, as Tuist's
   * auth.md says; and whenever the claim token is gone). At most `maxRemints` times.
   */
  async function remint(s: LineSecret, ctx: CallContext, reason: Sentence, register = false): Promise<Completion> {
    if (s.remints >= maxRemints)
      return {
        kind: 'fatal',
        code: 'too_many_restarts',
        message: `The service voided the code ${maxRemints + 1} times; ask the agent to start a new login.`,
      };
    const next: LineSecret = { ...s, remints: s.remints + 1 };
    if (register || (s.line === '0.6' && s.plan !== 'anonymous')) return reregister(next, ctx, reason);
    const attempt = await startClaim(next, ctx);
    if (attempt === 'gone')
      return reregister(next, ctx, ['The service no longer accepts the previous registration; here is a fresh link.']);
    return { kind: 'restarted', reason, started: startedFor(next, attempt, undefined) };
  }

  async function reregister(s: LineSecret, ctx: CallContext, reason: Sentence): Promise<Completion> {
    const found: DiscoveredService = {
      service: s.service,
      findings: [],
      ...(s.authorizationServer ? { authorizationServer: s.authorizationServer } : {}),
      ...(s.resource ? { resource: s.resource } : {}),
    };
    const a: AgentAuthMetadata = {
      registerUri: s.identityEndpoint,
      claimUris: {},
      types: [s.plan],
      assertionTypes: s.plan === 'identity_assertion' ? [idJagType] : [],
      claimMethods: [],
      line: s.line,
      tokenEndpoint: s.tokenEndpoint,
      ...(s.claimEndpoint ? { claimUri: s.claimEndpoint } : {}),
      ...(s.revocationEndpoint ? { oauthRevocationEndpoint: s.revocationEndpoint } : {}),
      ...(s.claimGrant ? { claimGrant: s.claimGrant } : {}),
    };
    const started = await start(
      found,
      a,
      {
        ...ctx,
        handoffId: '',
        service: s.service,
        scopes: s.scopes,
        label: '',
        ...(s.email ? { approverEmail: s.email } : {}),
        // An ID-JAG plan was only ever chosen for a directory email.
        ...(s.plan === 'identity_assertion' ? { approverEmailFromDirectory: true } : {}),
      },
      s.remints,
    );
    return { kind: 'restarted', reason, started };
  }

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

    poll: (secret: unknown, ctx: CallContext): Promise<PollResult> => pollOnce(lineSecretShape.parse(secret), ctx),

    ...createLineRenewal(deps),
  };
}
