import { json, requestOrigin, type Route, type RouteResponse } from '../core/http-route.js';
import { lineAnswers } from './authmd-lines-answers.js';
import type { AuthMdLinesState } from './authmd-lines-state.js';
import { lineTokenRoute } from './authmd-lines-token-route.js';
import { verifyPageRoutes } from './authmd-lines-verify-page.js';
import { isEmail, jsonFields, str } from './request-fields.js';

/**
 * auth.md's later shapes in the sandbox (AUTHMD-VERSIONS.md §3–§5), one per instance: the
 * polling line (flat answers, the claim grant at the token endpoint) or the read-back line
 * (nested answers, `/complete`, rotating refresh tokens), with the reference's error envelopes:
 * `{error, message}` at `/agent/identity*` (here), `{error, error_description}` + no-store at
 * the token endpoint (authmd-lines-token-route.ts). Each line's answers:
 * authmd-lines-answers.ts; the person's page, `/claim/verify/:attempt`: authmd-lines-verify-page.ts.
 */
const jsonError = (status: number, error: string, message: string): RouteResponse => json(status, { error, message });

const idJag = 'urn:ietf:params:oauth:token-type:id-jag';

export function authMdLinesRoutes(
  state: AuthMdLinesState,
  base: string,
  serviceName: string,
  offered: readonly string[],
): Route[] {
  const polling = state.line === '0.6';
  const answers = lineAnswers(state, base);

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
            return json(201, answers.registration(origin, registration, claimToken, preClaim, undefined));
          }
          case 'service_auth': {
            if (!offered.includes('service_auth'))
              return jsonError(400, 'service_auth_registration_disabled', 'This service does not accept service_auth.');
            const hint = str(body.login_hint);
            if (!hint || !isEmail(hint)) return jsonError(400, 'invalid_login_hint', 'login_hint must be an email.');
            const { registration, claimToken, attempt } = state.register('service_auth', hint);
            return json(201, answers.registration(origin, registration, claimToken, undefined, attempt));
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
            return json(200, answers.assertionRegistration(result.registration, result.assertion));
          }
          case 'refresh': {
            if (polling) return jsonError(400, 'invalid_request', 'Unknown registration type.');
            const result = state.refresh(str(body.refresh_token) ?? '');
            if (!result.ok) return jsonError(result.status, result.error, result.message);
            return json(200, {
              id: result.registration.id,
              type: result.registration.type,
              identity: answers.identity(result.assertion, result.refresh),
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
        return json(200, answers.claimStarted(requestOrigin(req), result.registration, result.attempt));
      },
    },
    lineTokenRoute(state, base),
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
          identity: answers.identity(result.assertion, result.refresh),
        });
      },
    });
  }
  return routes;
}
