import { json, requestOrigin, type Route, type RouteResponse } from '../core/http-route.js';
import { defaultAuthMdScopes, preClaimScopes, type AuthMdState, type Registration } from './authmd-state.js';
import { isEmail, jsonFields, str } from './request-fields.js';
import type { AuthMdRegistrationType } from './sandbox-state.js';

/**
 * The auth.md agentic-registration endpoints (docs/protocols.md, "auth.md"), with the quirks real servers
 * have: errors as `{error, message}`, timestamps as ISO strings, and a 500 for a claim
 * completion whose body is not JSON.
 */
const error = (status: number, code: string, message: string): RouteResponse => json(status, { error: code, message });

const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

function credentialFields(
  issued: { accessToken: string; session: { accessExpiresAt: number; scopes: readonly string[] } },
  type: string,
) {
  return {
    credential_type: type,
    credential: issued.accessToken,
    credential_expires: iso(issued.session.accessExpiresAt),
    scopes: issued.session.scopes,
  };
}

export function authMdRoutes(state: AuthMdState, base: string, types: readonly AuthMdRegistrationType[]): Route[] {
  const offered = (type: AuthMdRegistrationType) => types.includes(type);
  const claimUrl = (origin: string, r: Registration) => `${origin}${base}/claim/${r.id}`;

  const register: Route = {
    method: 'POST',
    path: `${base}/agent/register`,
    handler: async (req) => {
      const body = jsonFields(req);
      if (!body) return error(400, 'invalid_request', 'Send a JSON object.');
      const origin = requestOrigin(req);
      const type = str(body.type);
      const requested = body.requested_credential_type === undefined ? undefined : str(body.requested_credential_type);
      if (requested !== undefined && requested !== 'api_key' && requested !== 'access_token') {
        return error(400, 'invalid_request', 'requested_credential_type must be "api_key" or "access_token".');
      }
      switch (type) {
        case 'anonymous': {
          if (!offered('anonymous'))
            return error(400, 'anonymous_not_enabled', 'This service does not accept anonymous registrations.');
          const { registration, claimToken, anonymousKey } = state.register({
            type,
            credentialType: 'api_key',
            scopes: [...defaultAuthMdScopes],
          });
          return json(201, {
            registration_id: registration.id,
            registration_type: 'anonymous',
            credential_type: 'api_key',
            credential: anonymousKey,
            credential_expires: null,
            scopes: [...preClaimScopes],
            claim_url: claimUrl(origin, registration),
            claim_token: claimToken,
            claim_token_expires: iso(registration.claimExpiresAt),
            post_claim_scopes: registration.scopes,
          });
        }
        case 'identity_assertion': {
          if (!offered('identity_assertion') || body.assertion_type !== 'verified_email') {
            return error(400, 'verified_email_not_enabled', 'This service does not accept verified_email assertions.');
          }
          const email = str(body.assertion);
          if (!email || !isEmail(email))
            return error(400, 'invalid_request', 'assertion must be the email address to verify.');
          const { registration, claimToken } = state.register({
            type,
            credentialType: requested ?? 'access_token',
            scopes: [...defaultAuthMdScopes],
            email,
          });
          state.sendClaimEmail(registration, email, origin, base);
          return json(201, {
            registration_id: registration.id,
            registration_type: 'email-verification',
            claim_url: `${origin}${base}/agent/claim`,
            claim_token: claimToken,
            claim_token_expires: iso(registration.claimExpiresAt),
          });
        }
        case 'user_claimed': {
          if (!offered('user_claimed'))
            return error(400, 'user_claimed_not_enabled', 'This service does not accept user_claimed registrations.');
          const scopes =
            Array.isArray(body.requested_scopes) &&
            body.requested_scopes.every((s) => typeof s === 'string') &&
            body.requested_scopes.length > 0
              ? (body.requested_scopes as string[])
              : [...defaultAuthMdScopes];
          const { registration, claimToken } = state.register({
            type,
            credentialType: requested ?? 'access_token',
            scopes,
          });
          return json(201, {
            registration_id: registration.id,
            registration_type: 'user_claimed',
            claim_url: claimUrl(origin, registration),
            claim_token: claimToken,
            claim_token_expires: iso(registration.claimExpiresAt),
          });
        }
        default:
          return error(400, 'invalid_request', 'type must be one of anonymous, identity_assertion, user_claimed.');
      }
    },
  };

  const claim: Route = {
    method: 'POST',
    path: `${base}/agent/claim`,
    handler: async (req) => {
      const body = jsonFields(req);
      const claimToken = str(body?.claim_token);
      const email = str(body?.email);
      if (!claimToken || !email || !isEmail(email))
        return error(400, 'invalid_request', 'claim_token and email are required.');
      const found = state.usable(claimToken);
      if (!found.ok) return error(found.status, found.error, found.message);
      const mail = state.sendClaimEmail(found.registration, email, requestOrigin(req), base);
      return json(200, {
        registration_id: found.registration.id,
        claim_attempt_id: mail.id,
        status: 'initiated',
        expires_at: iso(found.registration.claimExpiresAt),
      });
    },
  };

  const complete: Route = {
    method: 'POST',
    path: `${base}/agent/claim/complete`,
    handler: async (req) => {
      const body = jsonFields(req);
      // A real quirk: this endpoint answers a body it cannot parse with a 500.
      if (!body) return error(500, 'internal_error', 'Unexpected token in JSON.');
      const claimToken = str(body.claim_token);
      if (!claimToken || typeof body.otp !== 'string' || body.otp.length === 0) {
        return error(400, 'invalid_request', 'claim_token and otp (a string) are required.');
      }
      const result = state.complete(claimToken, body.otp);
      if (!result.ok) return error(result.status, result.error, result.message);
      return json(200, {
        registration_id: result.registration.id,
        status: 'claimed',
        ...(result.issued ? credentialFields(result.issued, result.registration.credentialType) : {}),
      });
    },
  };

  const skill: Route = {
    method: 'GET',
    path: `${base}/auth.md`,
    handler: async () => ({
      status: 200,
      headers: { 'content-type': 'text/markdown; charset=utf-8' },
      body: `# auth.md (sandbox)\n\nRegister at \`${base}/agent/register\` with one of: ${types.join(', ')}. Claim at \`${base}/agent/claim\`, finish at \`${base}/agent/claim/complete\` with \`{claim_token, otp}\`.\n`,
    }),
  };

  return [register, claim, complete, skill];
}
