import { UpstreamError } from '../core/errors.js';
import type { CallContext, LoginRequest, Started } from '../core/login-protocol.js';
import { list, say, type Sentence } from '../core/sentence.js';
import { textLimits } from '../core/untrusted-text.js';
import { completionUrl, defaultClaimLifetimeMs, type AuthMdClaimDeps, type ClaimSecret } from './authmd-claim-state.js';
import { anchorsOf, checkedAgentAuth } from './authmd-endpoints.js';
import { choosePlan, readRegistration, registrationBody } from './authmd-registration.js';
import { malformed, rejected } from './service-answer-errors.js';
import { maskedEmail } from './authmd-token.js';
import { checkDiscoveredUrl } from './discovered-url.js';

/**
 * Starting auth.md v0.1's claim (docs/protocols.md, "auth.md"): register (verified email, browser
 * claim, or anonymous + claim), ask the service to email the approver a code, and say in the
 * thread what the approver must do — also when a claim is re-triggered or registered again.
 */
export function createClaimStart(deps: AuthMdClaimDeps) {
  const { http, clock, clientName } = deps;

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
    const { found, agentAuth } = await checkedAgentAuth(deps, req.service, ctx);
    const plan = choosePlan(agentAuth, req.approverEmail);
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

    const secret: ClaimSecret = {
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
        ? say`The service has emailed ${maskedEmail(req.approverEmail!)} a link: open it and reply here with the 6-digit code it shows.${upgrade}`
        : say`Sign in on the service's page to claim the agent, then paste the finish code it shows.${upgrade}`,
    };
  }

  /** The same registration, re-posted after the service sent a new email (token and link stay). */
  const resent = (next: ClaimSecret): Started => ({
    approvalUrl: next.service,
    expiresAt: clock.now() + defaultClaimLifetimeMs,
    answer: 'email_code',
    secret: next,
    protocolVersion: '0.1',
    polls: false,
    note: say`A new email is on its way to ${maskedEmail(next.email!)}: open its link and reply here with the new 6-digit code.`,
  });

  return { register, triggerClaim, resent };
}

export type ClaimStart = ReturnType<typeof createClaimStart>;
