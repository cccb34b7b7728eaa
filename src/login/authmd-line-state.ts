import { z } from 'zod';
import { BadInputError } from '../core/errors.js';
import type { CallContext, IssuedCredential } from '../core/login-protocol.js';
import type { Clock } from '../core/clock.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import type { AgentAuthMetadata } from './discovered-service.js';
import type { ServiceHttp } from './service-http.js';
import { upstream } from './service-answer-errors.js';

/**
 * What auth.md's later shapes (authmd-lines.ts) keep between calls: the login's sealed secret,
 * the state a credential carries to be refreshed and revoked, which registration to send, and
 * the approver's email checked before it goes to a service as `login_hint`.
 */
export interface AssertionProvider {
  /** Whether the operator lets `url`'s origin receive the bridge's identity assertions. */
  allows(url: string): boolean;
  /**
   * An ID-JAG (`urn:ietf:params:oauth:token-type:id-jag`) for `subject` (the approver's email),
   * meant for `audience` (the AS issuer, pitfall 1) and posted to `endpoint`; refused unless
   * both are on one allowed origin.
   */
  idJag(
    input: { readonly audience: string; readonly endpoint: string; readonly service: string; readonly subject: string },
    ctx: CallContext,
  ): Promise<string>;
}

export interface AuthMdLinesDeps {
  readonly http: ServiceHttp;
  readonly clock: Clock;
  readonly policy: NetworkPolicy;
  readonly assertionProvider?: AssertionProvider;
}

export const idJagType = 'urn:ietf:params:oauth:token-type:id-jag';
/** The polling line's claim grant when metadata lists none (type.com-style partial metadata). */
export const defaultClaimGrant = 'urn:workos:agent-auth:grant-type:claim';
/** Poll interval bounds, seconds: a hostile `interval: 0` or endless `slow_down` stays polite and alive. */
export const minIntervalSeconds = 2;
export const maxIntervalSeconds = 300;
export const defaultIntervalSeconds = 5;
/** Re-mints of a claim attempt allowed per login (the engine caps restarts at 3 too). */
export const maxRemints = 3;
export const defaultAttemptMs = 10 * 60_000;

const assertionShape = z.object({ value: z.string(), expiresAt: z.number().optional() });
export const lineSecretShape = z.object({
  line: z.enum(['0.6', '0.7']),
  plan: z.enum(['service_auth', 'anonymous', 'identity_assertion']),
  service: z.string(),
  authorizationServer: z.string().optional(),
  /** The PRM `resource`, sent with every jwt-bearer exchange. */
  resource: z.string().optional(),
  scopes: z.array(z.string()),
  email: z.string().optional(),
  identityEndpoint: z.string(),
  claimEndpoint: z.string().optional(),
  tokenEndpoint: z.string(),
  revocationEndpoint: z.string().optional(),
  claimGrant: z.string().optional(),
  claimToken: z.string().optional(),
  intervalMs: z.number(),
  remints: z.number().int(),
  /** A clean ID-JAG registration's assertion: nothing to claim, only to exchange. */
  assertion: assertionShape.optional(),
  postClaimScopes: z.array(z.string()).optional(),
});
export type LineSecret = z.infer<typeof lineSecretShape>;

/** What a line credential keeps to refresh and revoke (IssuedCredential.protocolState). */
export const credentialStateShape = z.object({
  line: z.enum(['0.6', '0.7']),
  service: z.string(),
  authorizationServer: z.string().optional(),
  resource: z.string().optional(),
  identityEndpoint: z.string(),
  tokenEndpoint: z.string(),
  revocationEndpoint: z.string().optional(),
  assertion: assertionShape,
});
export type CredentialState = z.infer<typeof credentialStateShape>;

export const isLineSecret = (secret: unknown): boolean => lineSecretShape.safeParse(secret).success;
export const isLineCredential = (c: IssuedCredential): boolean =>
  credentialStateShape.safeParse(c.protocolState).success;

const emailShape = /^[^\s@<>"'`,;()\\[\]]{1,64}@[^\s@<>"'`,;()\\[\]]{1,190}\.[^\s@<>"'`,;()\\[\]]{2,63}$/;

export function checkedEmail(email: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (email.length > 254 || !emailShape.test(email) || /[\u0000-\u001f\u007f]/.test(email)) {
    throw new BadInputError('approverEmail is not an email address the bridge will send to a service as login_hint.', {
      code: 'invalid_approver_email',
      details: { field: 'approverEmail' },
    });
  }
  return email;
}

/**
 * Which registration to send (the order): ID-JAG, service_auth, anonymous + claim.
 * `idJagAllowed`: an assertion provider is configured, lets this service have one, and the
 * approver's email is the platform directory's (see `idJagAllowed` in authmd-lines.ts).
 */
export function choosePlan(a: AgentAuthMetadata, email: string | undefined, idJagAllowed: boolean): LineSecret['plan'] {
  const types = a.types.length ? a.types : ['service_auth'];
  if (idJagAllowed && types.includes('identity_assertion') && a.assertionTypes.includes(idJagType))
    return 'identity_assertion';
  if (email && types.includes('service_auth')) return 'service_auth';
  if (email && types.includes('anonymous')) return 'anonymous';
  if (types.includes('service_auth') || types.includes('anonymous')) {
    throw new BadInputError(
      'This service logs agents in for a named account: pass approverEmail (the approver’s email at the service). (An approver’s email from the platform directory is sent only to services the operator lists in HANDOFF_APPROVER_EMAIL_SERVICES.)',
      { code: 'approver_email_required', details: { field: 'approverEmail' } },
    );
  }
  throw upstream(
    "The service's auth.md registration types include none the bridge can use (it knows service_auth, anonymous, and identity_assertion with an assertion provider).",
    'no_supported_login',
  );
}

export function credentialFrom(
  state: CredentialState,
  token: { accessToken: string; expiresAt?: number; scopes?: readonly string[] },
  refresh?: { value: string; expiresAt?: number },
  fallbackScopes: readonly string[] = [],
): IssuedCredential {
  // Polling: the assertion is what renews the token, so it is the refresh token; read-back: the rotating one.
  const renew = state.line === '0.6' ? state.assertion : refresh;
  // Polling has no refresh: renew before the assertion expires, which is when this token's life ends for the bridge.
  const ends = [token.expiresAt, state.line === '0.6' ? state.assertion.expiresAt : undefined].filter(
    (t): t is number => t !== undefined,
  );
  return {
    accessToken: token.accessToken,
    tokenType: 'Bearer',
    scopes: token.scopes ?? fallbackScopes,
    ...(ends.length ? { expiresAt: Math.min(...ends) } : {}),
    ...(renew ? { refreshToken: renew.value } : {}),
    ...(renew?.expiresAt !== undefined ? { refreshExpiresAt: renew.expiresAt } : {}),
    protocolState: state,
  };
}
