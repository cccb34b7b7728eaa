import { BadInputError } from '../core/errors.js';
import type { CallContext, Completion, LoginRequest, Started } from '../core/login-protocol.js';
import type { Sentence } from '../core/sentence.js';
import { readClaimAttempt, readLineRegistration, type ClaimAttempt } from './authmd-answers.js';
import { malformed, rejected, upstream } from './service-answer-errors.js';
import {
  checkedEmail,
  choosePlan,
  defaultAttemptMs,
  defaultClaimGrant,
  defaultIntervalSeconds,
  idJagType,
  maxRemints,
  minIntervalSeconds,
  type AuthMdLinesDeps,
  type LineSecret,
} from './authmd-line-state.js';
import type { LineSteps } from './authmd-line-steps.js';
import { startedForAttempt } from './authmd-line-started.js';
import type { AgentAuthMetadata, DiscoveredService } from './discovered-service.js';
import { readServiceError } from './service-http.js';

/**
 * Registering at `identity_endpoint` for auth.md's later lines (AUTHMD-VERSIONS.md §3.2, §4.1,
 * §4.2, §5.1, §5.2): which registration (ID-JAG, service_auth, anonymous + claim), starting or
 * re-minting a claim attempt, and registering again when the service voids one.
 */
export function createLineStart(deps: AuthMdLinesDeps, steps: LineSteps) {
  const { http, clock, policy } = deps;
  const { endpoint } = steps;

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

  return { start, remint };
}

export type LineStart = ReturnType<typeof createLineStart>;
