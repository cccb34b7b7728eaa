import { bodyForm, html, json, requestOrigin, type Route, type RouteResponse } from '../core/http-route.js';
import { escapeHtml, htmlPage } from '../core/html.js';
import { defaultAuthMdScopes, preClaimScopes } from './authmd-state.js';
import type { AuthMdLinesState, ClaimAttemptState, LineRegistrationState } from './authmd-lines-state.js';
import { formFields, isEmail, jsonFields, str } from './request-fields.js';

/**
 * auth.md's later shapes in the sandbox (AUTHMD-VERSIONS.md §3–§5), one per instance: the
 * polling line (flat answers, the claim grant at the token endpoint) or the read-back line
 * (nested answers, `/complete`, rotating refresh tokens), with the reference's error envelopes:
 * `{error, message}` at `/agent/identity*`, `{error, error_description}` + no-store at the token
 * endpoint. The person's page is `/claim/verify/:attempt`.
 */
const jsonError = (status: number, error: string, message: string): RouteResponse => json(status, { error, message });
const oauthError = (status: number, error: string, description: string): RouteResponse =>
  json(status, { error, error_description: description }, { 'cache-control': 'no-store' });
const iso = (ms: number) => new Date(ms).toISOString();

export const claimGrant = 'urn:workos:agent-auth:grant-type:claim';
const idJag = 'urn:ietf:params:oauth:token-type:id-jag';

export const jwtBearer = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export function authMdLinesRoutes(
  state: AuthMdLinesState,
  base: string,
  serviceName: string,
  offered: readonly string[],
): Route[] {
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

  function registrationAnswer(
    origin: string,
    r: LineRegistrationState,
    claimToken: string,
    preClaim: { value: string; expiresAt: number } | undefined,
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
  }

  const identity = (
    assertion: { value: string; expiresAt: number },
    refresh: { value: string; expiresAt: number },
  ) => ({
    assertion: assertion.value,
    expires_at: iso(assertion.expiresAt),
    refresh_token: { value: refresh.value, expires_at: iso(refresh.expiresAt) },
  });

  const routes: Route[] = [
    {
      method: 'POST',
      path: `${base}/agent/identity`,
      handler: async (req) => {
        const body = jsonFields(req);
        if (!body) return jsonError(500, 'internal_error', 'Malformed JSON.');
        const origin = requestOrigin(req);
        switch (body.type) {
          case 'anonymous': {
            const { registration, claimToken, preClaim } = state.register('anonymous');
            return json(201, registrationAnswer(origin, registration, claimToken, preClaim, undefined));
          }
          case 'service_auth': {
            if (!offered.includes('service_auth'))
              return jsonError(400, 'service_auth_registration_disabled', 'This service does not accept service_auth.');
            const hint = str(body.login_hint);
            if (!hint || !isEmail(hint)) return jsonError(400, 'invalid_login_hint', 'login_hint must be an email.');
            const { registration, claimToken, attempt } = state.register('service_auth', hint);
            return json(201, registrationAnswer(origin, registration, claimToken, undefined, attempt));
          }
          case 'identity_assertion': {
            if (!offered.includes('identity_assertion'))
              return jsonError(
                400,
                'identity_assertion_registration_disabled',
                'This service does not accept ID-JAGs.',
              );
            if (body.assertion_type !== idJag) return jsonError(400, 'invalid_request', 'Send an ID-JAG assertion.');
            const checked = state.checkAssertion(str(body.assertion));
            if (!checked.ok) return jsonError(checked.status, checked.error, checked.message);
            const result = state.registerAssertion(checked.payload, `${origin}${base}`);
            if (!result.ok) return jsonError(result.status, result.error, result.message);
            const { registration: r, assertion } = result;
            return json(
              200,
              polling
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
                  },
            );
          }
          case 'refresh': {
            if (polling) return jsonError(400, 'invalid_request', 'Unknown registration type.');
            const result = state.refresh(str(body.refresh_token) ?? '');
            if (!result.ok) return jsonError(result.status, result.error, result.message);
            return json(200, {
              id: result.registration.id,
              type: result.registration.type,
              identity: identity(result.assertion, result.refresh),
            });
          }
          default:
            return jsonError(400, 'invalid_request', 'Unknown registration type.');
        }
      },
    },
    {
      method: 'POST',
      path: `${base}/agent/identity/claim`,
      handler: async (req) => {
        const body = jsonFields(req);
        if (!body) return jsonError(500, 'internal_error', 'Malformed JSON.');
        const email = str(polling ? body.email : body.login_hint);
        const claimToken = str(body.claim_token);
        if (!claimToken || !email || !isEmail(email) || (!polling && body.type !== 'service_auth'))
          return jsonError(400, 'invalid_request', 'Send claim_token and an email.');
        const result = state.startClaim(claimToken, email);
        if (!result.ok) return jsonError(result.status, result.error, result.message);
        const origin = requestOrigin(req);
        const r = result.registration;
        return json(
          200,
          polling
            ? {
                registration_id: r.id,
                claim_attempt_id: result.attempt.id,
                status: 'initiated',
                expires_at: iso(result.attempt.expiresAt),
                claim_attempt: pollingAttempt(origin, result.attempt),
              }
            : { id: r.id, type: 'service_auth', attempt: readBackAttempt(origin, result.attempt) },
        );
      },
    },
    {
      method: 'POST',
      path: `${base}/oauth2/token`,
      handler: async (req) => {
        const form = formFields(req);
        if (!form) return oauthError(400, 'invalid_request', 'Send a form.');
        const grant = form.get('grant_type');
        if (grant === jwtBearer) {
          // Tuist asks for `resource`; AuthKit answers invalid_target for another one. The sandbox wants it, right.
          const resource = form.get('resource');
          if (resource !== `${requestOrigin(req)}${base}`)
            return oauthError(400, 'invalid_target', 'Unknown resource.');
          const result = state.exchange(form.get('assertion') ?? '');
          if (!result.ok) return oauthError(400, result.error, result.message);
          return json(
            200,
            {
              access_token: result.accessToken,
              token_type: 'Bearer',
              expires_in: Math.round((result.session.accessExpiresAt - state.now()) / 1000),
              scope: result.session.scopes.join(' '),
            },
            { 'cache-control': 'no-store' },
          );
        }
        if (grant === claimGrant && polling) {
          const result = state.pollClaim(form.get('claim_token') ?? '');
          if (!result.ok) return oauthError(400, result.error, result.message);
          const issued = state.exchange(result.assertion.value);
          if (!issued.ok) return oauthError(400, issued.error, issued.message);
          return json(
            200,
            {
              access_token: issued.accessToken,
              token_type: 'Bearer',
              expires_in: Math.round((issued.session.accessExpiresAt - state.now()) / 1000),
              scope: issued.session.scopes.join(' '),
              identity_assertion: result.assertion.value,
              assertion_expires: iso(result.assertion.expiresAt),
            },
            { 'cache-control': 'no-store' },
          );
        }
        return oauthError(400, 'unsupported_grant_type', 'This grant is not supported.');
      },
    },
    ...verifyPageRoutes(state, base, serviceName),
  ];
  if (!polling) {
    routes.push({
      method: 'POST',
      path: `${base}/agent/identity/claim/complete`,
      handler: async (req) => {
        const body = jsonFields(req);
        if (!body) return jsonError(500, 'internal_error', 'Malformed JSON.');
        const result = state.complete(str(body.claim_token) ?? '', str(body.user_code) ?? '');
        if (!result.ok) return jsonError(result.status, result.error, result.message);
        return json(200, {
          id: result.registration.id,
          status: 'claimed',
          identity: identity(result.assertion, result.refresh),
        });
      },
    });
  }
  return routes;
}

/** The person's page: polling asks for the code the thread showed; read-back shows one after Authorize. */
function verifyPageRoutes(state: AuthMdLinesState, base: string, serviceName: string): Route[] {
  const title = `<h1>${escapeHtml(serviceName)}</h1>`;
  const polling = state.line === '0.6';
  const page = (status: number, body: string) =>
    html(status, htmlPage(`Claim an agent for ${serviceName}`, `${title}${body}`));
  return [
    {
      method: 'GET',
      path: `${base}/claim/verify/:attempt`,
      handler: async (req) => {
        const r = state.attemptById(req.params.attempt ?? '');
        if (!r) return page(404, '<p id="status">Link invalid.</p>');
        return page(
          200,
          `<div class="card"><p>An agent asks to act for <strong>${escapeHtml(r.email ?? '')}</strong> with scopes ${defaultAuthMdScopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ')}.</p>
<form method="post"><label>Sign in as (sandbox: type the email)<br><input name="email" type="email" data-testid="email" required></label>
${polling ? '<label>Code shown where the agent asked<br><input name="user_code" data-testid="user-code" required></label>' : ''}
<p><button class="primary" data-testid="authorize">${polling ? 'Sign in and confirm' : 'Sign in and Authorize agent'}</button></p></form></div>`,
        );
      },
    },
    {
      method: 'POST',
      path: `${base}/claim/verify/:attempt`,
      handler: async (req) => {
        const form = bodyForm(req);
        const email = (form.get('email') ?? '').trim();
        const result = state.confirm(req.params.attempt ?? '', email, form.get('user_code') ?? undefined);
        if (!result.ok) return page(result.status, `<p id="status">${escapeHtml(result.message)}</p>`);
        return page(
          200,
          polling
            ? '<p id="status">Confirmed. The agent will pick it up by itself.</p>'
            : `<p>Authorized. Paste this code where the agent asked:</p><p><code id="user-code" data-testid="user-code">${escapeHtml(result.userCode)}</code></p>`,
        );
      },
    },
  ];
}
