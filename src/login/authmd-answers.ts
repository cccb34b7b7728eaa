import { z } from 'zod';
import { isUserCode } from '../core/untrusted-text.js';
import { flexibleTime } from './authmd-registration.js';
import { malformed } from './service-answer-errors.js';
import type { AuthMdLine } from './discovered-service.js';
import type { ServiceResponse } from './service-http.js';

/**
 * Reading the answers of auth.md's later shapes (AUTHMD-VERSIONS.md §4–§5) leniently: the
 * polling line's flat answers and the read-back line's nested ones, telling them apart by
 * their fields (the registration answer is the final word on the shape, §7). Every value is
 * bounded: a hostile service gets `service_malformed_response`, never an unbounded string in
 * a record or a thread.
 */

/** Longest token, assertion or claim token kept (a JWT with a few claims is well under this). */
const maxTokenLength = 8_192;
const tokenText = z.string().min(1).max(maxTokenLength);
const linkText = z.string().min(1).max(2_048);
const seconds = z.number().finite().nonnegative();
const scopeList = z.array(z.string().max(200)).max(100);

/** One claim attempt: where the person goes, the code (polling only), its life and the poll interval. */
export interface ClaimAttempt {
  readonly verificationUri: string;
  /** Polling: the code the person types on the page. Read-back: absent (the page shows one). */
  readonly userCode?: string;
  /** Epoch ms. */
  readonly expiresAt?: number;
  /** Polling: seconds between polls, as the service said (not yet clamped). */
  readonly intervalSeconds?: number;
}

export interface LineRegistration {
  /** The shape the answer shows. */
  readonly line: Exclude<AuthMdLine, '0.1'>;
  readonly registrationId?: string;
  readonly claimToken?: string;
  readonly claimExpiresAt?: number;
  /** The service-signed identity assertion (anonymous pre-claim, or a clean ID-JAG registration). */
  readonly assertion?: { readonly value: string; readonly expiresAt?: number };
  readonly attempt?: ClaimAttempt;
  readonly postClaimScopes?: readonly string[];
}

const pollingAttempt = z.looseObject({
  user_code: z.string().max(200).nullish(),
  expires_in: seconds.nullish(),
  expires_at: flexibleTime.nullish(),
  verification_uri: linkText.nullish(),
  verification_uri_complete: linkText.nullish(),
  interval: z.number().finite().nullish(),
});

const readBackAttempt = z.looseObject({ verification_uri: linkText.nullish(), expires_at: flexibleTime.nullish() });

const flatRegistration = z.looseObject({
  registration_id: z.string().max(200).nullish(),
  claim_token: tokenText.nullish(),
  claim_token_expires: flexibleTime.nullish(),
  identity_assertion: tokenText.nullish(),
  assertion_expires: flexibleTime.nullish(),
  post_claim_scopes: scopeList.nullish(),
  claim: pollingAttempt.nullish(),
});

const nestedRegistration = z.looseObject({
  id: z.string().max(200).nullish(),
  identity: z.looseObject({ assertion: tokenText.nullish(), expires_at: flexibleTime.nullish() }).nullish(),
  scopes: z.union([scopeList, z.looseObject({ post_claim: scopeList.nullish() })]).nullish(),
  claim: z
    .looseObject({
      token: tokenText.nullish(),
      expires_at: flexibleTime.nullish(),
      attempt: readBackAttempt.nullish(),
    })
    .nullish(),
});

function attemptFrom(
  a: z.infer<typeof pollingAttempt> | z.infer<typeof readBackAttempt> | null | undefined,
  now: number,
  res: ServiceResponse,
): ClaimAttempt | undefined {
  if (!a) return undefined;
  const p = a as z.infer<typeof pollingAttempt>;
  const uri = p.verification_uri ?? p.verification_uri_complete;
  if (!uri) return undefined;
  // A code a person is asked to type: RFC 8628's shape and short, or the answer is refused.
  if (p.user_code != null && !isUserCode(p.user_code)) throw malformed(res, 'claim (user code)');
  const expiresAt = a.expires_at ?? (p.expires_in != null ? now + p.expires_in * 1000 : undefined);
  return {
    verificationUri: uri,
    ...(p.user_code ? { userCode: p.user_code } : {}),
    ...(expiresAt != null ? { expiresAt } : {}),
    ...(p.interval != null ? { intervalSeconds: p.interval } : {}),
  };
}

/**
 * A registration (or step-up) answer at `identity_endpoint`. Flat with `registration_id` and an
 * assertion or a `user_code`: polling. Nested `identity`/`claim` without a `user_code`: read-back.
 */
export function readLineRegistration(res: ServiceResponse, now: number): LineRegistration {
  const body = res.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw malformed(res, 'registration');
  const b = body as Record<string, unknown>;
  if (b.credential !== undefined || b.registration_type === 'email-verification')
    throw malformed(res, 'registration (a v0.1 answer at a later endpoint)');
  const claim = b.claim as Record<string, unknown> | undefined;
  const flat = typeof b.registration_id === 'string' || typeof b.identity_assertion === 'string';
  const hasUserCode = typeof claim === 'object' && claim !== null && claim.user_code !== undefined;
  if (flat || hasUserCode) {
    const parsed = flatRegistration.safeParse(b);
    if (!parsed.success) throw malformed(res, 'registration');
    const r = parsed.data;
    return {
      line: '0.6',
      ...(r.registration_id ? { registrationId: r.registration_id } : {}),
      ...(r.claim_token ? { claimToken: r.claim_token } : {}),
      ...(r.claim_token_expires != null ? { claimExpiresAt: r.claim_token_expires } : {}),
      ...(r.identity_assertion
        ? {
            assertion: {
              value: r.identity_assertion,
              ...(r.assertion_expires != null ? { expiresAt: r.assertion_expires } : {}),
            },
          }
        : {}),
      ...optional('attempt', attemptFrom(r.claim, now, res)),
      ...(r.post_claim_scopes ? { postClaimScopes: r.post_claim_scopes } : {}),
    };
  }
  const parsed = nestedRegistration.safeParse(b);
  if (!parsed.success || (!parsed.data.identity && !parsed.data.claim)) throw malformed(res, 'registration');
  const r = parsed.data;
  const post = r.scopes && !Array.isArray(r.scopes) ? r.scopes.post_claim : undefined;
  return {
    line: '0.7',
    ...(r.id ? { registrationId: r.id } : {}),
    ...(r.claim?.token ? { claimToken: r.claim.token } : {}),
    ...(r.claim?.expires_at != null ? { claimExpiresAt: r.claim.expires_at } : {}),
    ...(r.identity?.assertion
      ? {
          assertion: {
            value: r.identity.assertion,
            ...(r.identity.expires_at != null ? { expiresAt: r.identity.expires_at } : {}),
          },
        }
      : {}),
    ...optional('attempt', attemptFrom(r.claim?.attempt, now, res)),
    ...(post ? { postClaimScopes: post } : {}),
  };
}

const optional = <K extends string, V>(key: K, v: V | undefined): Partial<Record<K, V>> =>
  (v === undefined ? {} : { [key]: v }) as Partial<Record<K, V>>;

/** A claim start (or re-mint) answer: polling `claim_attempt`, read-back `attempt`. */
export function readClaimAttempt(res: ServiceResponse, now: number): ClaimAttempt {
  const parsed = z
    .looseObject({ claim_attempt: pollingAttempt.nullish(), attempt: pollingAttempt.nullish() })
    .safeParse(res.body);
  const attempt = parsed.success ? attemptFrom(parsed.data.claim_attempt ?? parsed.data.attempt, now, res) : undefined;
  if (!attempt) throw malformed(res, 'claim start');
  return attempt;
}

/** An OAuth token answer (the claim grant's or jwt-bearer's). */
export interface TokenAnswer {
  readonly accessToken?: string;
  readonly expiresAt?: number;
  readonly scopes?: readonly string[];
  readonly assertion?: { readonly value: string; readonly expiresAt?: number };
}

const tokenAnswer = z.looseObject({
  access_token: tokenText.nullish(),
  token_type: z.string().max(40).nullish(),
  expires_in: seconds.nullish(),
  scope: z.string().max(4_000).nullish(),
  identity_assertion: tokenText.nullish(),
  assertion_expires: flexibleTime.nullish(),
});

export function readTokenAnswer(res: ServiceResponse, now: number): TokenAnswer {
  const parsed = tokenAnswer.safeParse(res.body);
  if (!parsed.success) throw malformed(res, 'token');
  const t = parsed.data;
  if (t.token_type && t.token_type.toLowerCase() !== 'bearer') throw malformed(res, 'token (not a bearer token)');
  return {
    ...(t.access_token ? { accessToken: t.access_token } : {}),
    ...(t.expires_in != null ? { expiresAt: now + t.expires_in * 1000 } : {}),
    ...(t.scope != null ? { scopes: t.scope.split(' ').filter(Boolean).slice(0, 100) } : {}),
    ...(t.identity_assertion
      ? {
          assertion: {
            value: t.identity_assertion,
            ...(t.assertion_expires != null ? { expiresAt: t.assertion_expires } : {}),
          },
        }
      : {}),
  };
}

/** Read-back's `/complete` and `{type:"refresh"}` answer: a new assertion and a rotated refresh token. */
export interface IdentityAnswer {
  readonly assertion: { readonly value: string; readonly expiresAt?: number };
  readonly refreshToken?: { readonly value: string; readonly expiresAt?: number };
}

const identityAnswer = z.looseObject({
  identity: z.looseObject({
    assertion: tokenText,
    expires_at: flexibleTime.nullish(),
    refresh_token: z
      .union([tokenText, z.looseObject({ value: tokenText, expires_at: flexibleTime.nullish() })])
      .nullish(),
  }),
});

export function readIdentityAnswer(res: ServiceResponse): IdentityAnswer {
  const parsed = identityAnswer.safeParse(res.body);
  if (!parsed.success) throw malformed(res, 'claim completion');
  const i = parsed.data.identity;
  const refresh =
    i.refresh_token == null
      ? undefined
      : typeof i.refresh_token === 'string'
        ? { value: i.refresh_token }
        : {
            value: i.refresh_token.value,
            ...(i.refresh_token.expires_at != null ? { expiresAt: i.refresh_token.expires_at } : {}),
          };
  return {
    assertion: { value: i.assertion, ...(i.expires_at != null ? { expiresAt: i.expires_at } : {}) },
    ...(refresh ? { refreshToken: refresh } : {}),
  };
}
