import { json, requestOrigin, type Route, type RouteResponse } from '../core/http-route.js';
import { iso } from './authmd-lines-answers.js';
import type { AuthMdLinesState } from './authmd-lines-state.js';
import { formFields } from './request-fields.js';

/**
 * The token endpoint of the sandbox's auth.md later lines: the service's ID-JAG exchanged for an
 * access token (RFC 7523 jwt-bearer, with the right `resource`), and on the polling line the
 * claim grant the agent polls until the person confirmed. Errors in OAuth's envelope
 * (`{error, error_description}`), every answer `no-store`.
 */
export const claimGrant = 'urn:workos:agent-auth:grant-type:claim';

export const jwtBearer = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const oauthError = (status: number, error: string, description: string): RouteResponse =>
  json(status, { error, error_description: description }, { 'cache-control': 'no-store' });

type Issued = Extract<ReturnType<AuthMdLinesState['exchange']>, { ok: true }>;

/** The token answer for an issued session, with what a grant adds to it. */
const tokenAnswer = (state: AuthMdLinesState, issued: Issued, extra: Record<string, string> = {}): RouteResponse =>
  json(
    200,
    {
      access_token: issued.accessToken,
      token_type: 'Bearer',
      expires_in: Math.round((issued.session.accessExpiresAt - state.now()) / 1000),
      scope: issued.session.scopes.join(' '),
      ...extra,
    },
    { 'cache-control': 'no-store' },
  );

export function lineTokenRoute(state: AuthMdLinesState, base: string): Route {
  const polling = state.line === '0.6';
  return {
    method: 'POST',
    path: `${base}/oauth2/token`,
    handler: async (req) => {
      const form = formFields(req);
      if (!form) return oauthError(400, 'invalid_request', 'Send a form.');
      const grant = form.get('grant_type');
      if (grant === jwtBearer) {
        // Tuist asks for `resource`; AuthKit answers invalid_target for another one. The sandbox wants it, right.
        const resource = form.get('resource');
        if (resource !== `${requestOrigin(req)}${base}`) return oauthError(400, 'invalid_target', 'Unknown resource.');
        const result = state.exchange(form.get('assertion') ?? '');
        if (!result.ok) return oauthError(400, result.error, result.message);
        return tokenAnswer(state, result);
      }
      if (grant === claimGrant && polling) {
        const result = state.pollClaim(form.get('claim_token') ?? '');
        if (!result.ok) return oauthError(400, result.error, result.message);
        const issued = state.exchange(result.assertion.value);
        if (!issued.ok) return oauthError(400, issued.error, issued.message);
        return tokenAnswer(state, issued, {
          identity_assertion: result.assertion.value,
          assertion_expires: iso(result.assertion.expiresAt),
        });
      }
      return oauthError(400, 'unsupported_grant_type', 'This grant is not supported.');
    },
  };
}
