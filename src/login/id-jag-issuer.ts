import { createHash, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { idJagServicesVariable, jwtAlgorithmOf, type IdJagIssuerConfig } from '../core/config-id-jag.js';
import { UpstreamError } from '../core/errors.js';
import { json, type Route } from '../core/http-route.js';
import { matchesOriginGlob, parseOriginGlobs } from '../core/origin-glob.js';
import type { AssertionProvider } from './authmd-line-state.js';

/**
 * The bridge as an ID-JAG issuer (draft-ietf-oauth-identity-assertion-authz-grant §3): a JWT
 * with header `typ: oauth-id-jag+jwt` and claims `iss`, `sub`, `aud`, `client_id`, `jti`,
 * `iat`, `exp` (5 minutes), plus `auth_time`, `email` and `email_verified`, which auth.md's
 * reference verifier requires (AUTHMD-VERSIONS.md §3.3). Signed with the operator's key
 * (`HANDOFF_ID_JAG_KEY`); services verify it with the public key the bridge serves at
 * `/id-jag/jwks.json`. It goes only to services on `HANDOFF_ID_JAG_SERVICES`, only to the
 * origin its `aud` names, and the assertion itself never reaches a log or an error.
 */
export const idJagTyp = 'oauth-id-jag+jwt';
export const idJagLifetimeSeconds = 300;
export const idJagJwksPath = '/id-jag/jwks.json';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** RFC 7638 thumbprint: the `kid` a verifier picks the key by. */
function thumbprint(jwk: Record<string, unknown>): string {
  const members =
    jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : jwk.kty === 'RSA' ? ['e', 'kty', 'n'] : ['crv', 'kty', 'x'];
  const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The issuer's public key as a JWK (`kid`, `alg`, `use: sig`). */
export function idJagPublicJwk(key: KeyObject): Record<string, unknown> {
  const jwk = createPublicKey(key).export({ format: 'jwk' }) as Record<string, unknown>;
  return { ...jwk, kid: thumbprint(jwk), alg: jwtAlgorithmOf(key), use: 'sig' };
}

function refused(message: string, code: string): UpstreamError {
  return new UpstreamError(message, { code, upstreamStatus: 0, retry: 'never' });
}

export function createIdJagIssuer(config: IdJagIssuerConfig, clock: Clock): AssertionProvider {
  const globs = parseOriginGlobs(config.services, 'subdomains');
  const alg = jwtAlgorithmOf(config.key)!;
  const kid = idJagPublicJwk(config.key).kid;
  const allows = (url: string) => matchesOriginGlob(globs, url);
  return {
    allows,
    idJag(input) {
      // The service, the endpoint the assertion is posted to, and its audience: one allowed origin.
      const endpointOrigin = new URL(input.endpoint).origin;
      if (!allows(input.service) || !allows(input.endpoint)) {
        return Promise.reject(
          refused(
            `${endpointOrigin} is not on ${idJagServicesVariable}: the bridge sends its identity assertions only to services the operator lists.`,
            'id_jag_not_allowed',
          ),
        );
      }
      if (new URL(input.audience).origin !== endpointOrigin) {
        return Promise.reject(
          refused(
            `${endpointOrigin} asked for an identity assertion meant for another site; the bridge sends one only to the site it names as audience.`,
            'id_jag_audience_mismatch',
          ),
        );
      }
      const now = Math.floor(clock.now() / 1000);
      const subject = input.subject.toLowerCase();
      const header = { alg, typ: idJagTyp, kid };
      const claims = {
        iss: config.issuer,
        sub: subject,
        aud: input.audience,
        // The bridge has no client id at a service before registering there: it names itself.
        client_id: config.issuer,
        jti: randomBytes(16).toString('base64url'),
        iat: now,
        exp: now + idJagLifetimeSeconds,
        // Minted now, for the platform's account of the person; their "done" in the thread comes after.
        auth_time: now,
        email: subject,
        email_verified: true,
      };
      const signingInput = `${b64(header)}.${b64(claims)}`;
      const signature = sign(
        alg === 'EdDSA' ? null : 'sha256',
        Buffer.from(signingInput),
        alg === 'ES256' ? { key: config.key, dsaEncoding: 'ieee-p1363' } : config.key,
      );
      return Promise.resolve(`${signingInput}.${signature.toString('base64url')}`);
    },
  };
}

/** `GET /id-jag/jwks.json`: the public key services verify the bridge's ID-JAGs with. */
export function idJagJwksRoute(config: IdJagIssuerConfig): Route {
  const body = { keys: [idJagPublicJwk(config.key)] };
  return {
    method: 'GET',
    path: idJagJwksPath,
    handler: () => Promise.resolve(json(200, body, { 'cache-control': 'public, max-age=300' })),
  };
}
