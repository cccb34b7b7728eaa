import { randomBytes, randomInt } from 'node:crypto';
import { verifyIdJag } from './id-jag-verify.js';
import { preClaimScopes, defaultAuthMdScopes } from './authmd-state.js';
import { sha256, token, type SandboxState } from './sandbox-state.js';

/**
 * The sandbox's memory for auth.md's later shapes (AUTHMD-VERSIONS.md §3–§5), as the reference
 * service keeps it: registrations with a claim token, one claim attempt at a time (a new one
 * replaces it: new link, new code, a given confirmation lost), service-signed identity
 * assertions (opaque here), and for the read-back line one-shot rotating refresh tokens.
 * Tokens are kept only as SHA-256 hashes.
 */
export type AuthMdLineName = '0.6' | '0.7';

export interface ClaimAttemptState {
  readonly id: string;
  readonly userCode: string;
  readonly expiresAt: number;
  /** Polling: the person typed the code as the hinted account. Read-back: they pressed Authorize. */
  confirmed: boolean;
}

export interface LineRegistrationState {
  readonly id: string;
  readonly type: 'anonymous' | 'service_auth';
  readonly claimTokenHash: string;
  readonly claimExpiresAt: number;
  status: 'pending' | 'claimed';
  /** The account the ceremony is bound to (login_hint or the claim's email). */
  email?: string;
  attempt?: ClaimAttemptState;
  /** The pre-claim assertion (anonymous), voided when the claim succeeds. */
  preClaimAssertionHash?: string;
}

interface AssertionState {
  readonly registrationId: string;
  readonly expiresAt: number;
  readonly email: string;
  readonly scopes: readonly string[];
  voided: boolean;
}

export type Outcome<T> = ({ ok: true } & T) | { ok: false; status: number; error: string; message: string };
const fail = (status: number, error: string, message: string) => ({ ok: false as const, status, error, message });

export class AuthMdLinesState {
  readonly registrations = new Map<string, LineRegistrationState>();
  private readonly assertions = new Map<string, AssertionState>();
  private readonly refreshTokens = new Map<string, { registrationId: string; expiresAt: number }>();
  readonly claimTtlMs = 24 * 3_600_000;
  readonly attemptTtlMs: number;
  readonly assertionTtlMs: number;
  /** Seconds between polls the polling line asks for. */
  readonly intervalSeconds: number;
  /** Successful claim-grant polls and completions, so tests can count credentials issued. */
  claims = 0;

  constructor(
    private readonly sessions: SandboxState,
    readonly line: AuthMdLineName,
  ) {
    this.attemptTtlMs = sessions.options.otpTtlMs ?? 10 * 60_000;
    this.assertionTtlMs = sessions.options.accessTtlMs ?? 3_600_000;
    this.intervalSeconds = sessions.options.deviceIntervalSeconds ?? 5;
  }

  now(): number {
    return this.sessions.options.clock.now();
  }

  private mintAssertion(registrationId: string, email: string, scopes: readonly string[]) {
    const value = token('asr');
    const state: AssertionState = {
      registrationId,
      email,
      scopes,
      expiresAt: this.now() + this.assertionTtlMs,
      voided: false,
    };
    this.assertions.set(sha256(value), state);
    return { value, expiresAt: state.expiresAt };
  }

  private newAttempt(r: LineRegistrationState): ClaimAttemptState {
    r.attempt = {
      id: `cvt_${randomBytes(12).toString('hex')}`,
      userCode: String(randomInt(0, 1_000_000)).padStart(6, '0'),
      expiresAt: this.now() + this.attemptTtlMs,
      confirmed: false,
    };
    return r.attempt;
  }

  register(type: 'anonymous' | 'service_auth', email?: string) {
    const claimToken = token('clm');
    const r: LineRegistrationState = {
      id: `reg_${randomBytes(10).toString('hex')}`,
      type,
      claimTokenHash: sha256(claimToken),
      claimExpiresAt: this.now() + this.claimTtlMs,
      status: 'pending',
      ...(email ? { email } : {}),
    };
    this.registrations.set(r.id, r);
    let preClaim: { value: string; expiresAt: number } | undefined;
    if (type === 'anonymous') {
      preClaim = this.mintAssertion(r.id, `anonymous+${r.id}@sandbox.invalid`, [...preClaimScopes]);
      r.preClaimAssertionHash = sha256(preClaim.value);
    }
    const attempt = type === 'service_auth' ? this.newAttempt(r) : undefined;
    return { registration: r, claimToken, preClaim, attempt };
  }

  private byClaimToken(claimToken: string): LineRegistrationState | undefined {
    const hash = sha256(claimToken);
    for (const r of this.registrations.values()) if (r.claimTokenHash === hash) return r;
    return undefined;
  }

  /** ID-JAG `jti`s seen (issuer + jti), refused a second time. */
  private readonly seenJti = new Set<string>();

  /** The ID-JAG's header, issuer, signature and times, against the issuers this sandbox trusts. */
  checkAssertion(assertion: string | undefined) {
    return verifyIdJag(assertion, this.sessions.options.idJagIssuers ?? {}, this.now(), this.seenJti);
  }

  /**
   * A clean ID-JAG registration, after checkAssertion: the payload names `email` and `aud`.
   * The audience must be the issuer, as the reference checks (AUTHMD-VERSIONS.md pitfall 1).
   */
  registerAssertion(payload: { aud?: unknown; email?: unknown }, issuer: string) {
    if (payload.aud !== issuer) return fail(400, 'expired', 'jwt audience invalid: exp check failed');
    if (typeof payload.email !== 'string') return fail(400, 'missing_verified_email', 'No verified email.');
    const r: LineRegistrationState = {
      id: `reg_${randomBytes(10).toString('hex')}`,
      type: 'service_auth',
      claimTokenHash: '',
      claimExpiresAt: 0,
      status: 'claimed',
      email: payload.email,
    };
    this.registrations.set(r.id, r);
    return {
      ok: true as const,
      registration: r,
      assertion: this.mintAssertion(r.id, payload.email, [...defaultAuthMdScopes]),
    };
  }

  /** Starts (or replaces) the claim attempt, bound to `email`. */
  startClaim(
    claimToken: string,
    email: string,
  ): Outcome<{ registration: LineRegistrationState; attempt: ClaimAttemptState }> {
    const r = this.byClaimToken(claimToken);
    if (!r) return fail(401, 'invalid_claim_token', 'Unknown claim token.');
    if (r.status === 'claimed')
      return fail(409, this.line === '0.6' ? 'claimed_or_in_flight' : 'already_claimed', 'Already claimed.');
    if (this.now() >= r.claimExpiresAt) return fail(410, 'claim_expired', 'The claim window is over.');
    r.email = email;
    return { ok: true, registration: r, attempt: this.newAttempt(r) };
  }

  attemptById(attemptId: string): LineRegistrationState | undefined {
    for (const r of this.registrations.values()) if (r.attempt?.id === attemptId) return r;
    return undefined;
  }

  /** The person's side: polling types the code as the hinted account; read-back presses Authorize. */
  confirm(attemptId: string, email: string, userCode?: string): Outcome<{ userCode: string }> {
    const r = this.attemptById(attemptId);
    if (!r || !r.attempt) return fail(404, 'not_found', 'Link invalid.');
    if (r.status === 'claimed') return fail(409, 'already_claimed', 'Already claimed.');
    if (this.now() >= r.attempt.expiresAt) return fail(410, 'expired', 'This link expired.');
    if (!r.email || r.email.toLowerCase() !== email.toLowerCase())
      return fail(403, 'wrong_account', 'Signed in as another account than the one this claim is for.');
    if (this.line === '0.6' && userCode?.replace(/\D/g, '') !== r.attempt.userCode)
      return fail(401, 'wrong_code', 'That code does not match.');
    r.attempt.confirmed = true;
    return { ok: true, userCode: r.attempt.userCode };
  }

  private finishClaim(r: LineRegistrationState) {
    r.status = 'claimed';
    this.claims += 1;
    if (r.preClaimAssertionHash) {
      const pre = this.assertions.get(r.preClaimAssertionHash);
      if (pre) pre.voided = true;
    }
    return this.mintAssertion(r.id, r.email!, [...defaultAuthMdScopes]);
  }

  /** Polling: the claim grant at the token endpoint. */
  pollClaim(claimToken: string): Outcome<{ assertion: { value: string; expiresAt: number } }> {
    const r = this.byClaimToken(claimToken);
    if (!r || this.now() >= r.claimExpiresAt) return fail(400, 'expired_token', 'Unknown or expired claim token.');
    if (r.status === 'claimed') return fail(400, 'invalid_grant', 'Already claimed.');
    if (!r.attempt || this.now() >= r.attempt.expiresAt) return fail(400, 'expired_token', 'The code expired.');
    if (!r.attempt.confirmed) return fail(400, 'authorization_pending', 'Not confirmed yet.');
    return { ok: true, assertion: this.finishClaim(r) };
  }

  /** Read-back: `/complete`, checked in the reference's order (AUTHMD-VERSIONS.md §5.3). */
  complete(claimToken: string, userCode: string) {
    if (!/^\d{6}$/.test(userCode)) return fail(400, 'invalid_request', 'user_code must be 6 digits.');
    const r = this.byClaimToken(claimToken);
    if (!r) return fail(400, 'invalid_claim', 'Unknown claim token.');
    if (r.status === 'claimed') return fail(409, 'already_claimed', 'Already claimed.');
    if (this.now() >= r.claimExpiresAt || !r.attempt) return fail(410, 'claim_expired', 'No live claim.');
    if (!r.attempt.confirmed) return fail(409, 'claim_not_confirmed', 'Nobody pressed Authorize yet.');
    if (this.now() >= r.attempt.expiresAt) return fail(410, 'user_code_expired', 'The code expired.');
    if (r.attempt.userCode !== userCode) return fail(401, 'invalid_user_code', 'Wrong code.');
    const assertion = this.finishClaim(r);
    return { ok: true as const, registration: r, assertion, refresh: this.mintRefresh(r.id) };
  }

  private mintRefresh(registrationId: string) {
    const value = token('art');
    const expiresAt = this.now() + 30 * 24 * 3_600_000;
    this.refreshTokens.set(sha256(value), { registrationId, expiresAt });
    return { value, expiresAt };
  }

  /** Read-back `{type:"refresh"}`: the token sent is spent. */
  refresh(refreshToken: string) {
    const hash = sha256(refreshToken);
    const found = this.refreshTokens.get(hash);
    if (!found || this.now() >= found.expiresAt) return fail(400, 'invalid_refresh_token', 'Spent or unknown.');
    this.refreshTokens.delete(hash);
    const r = this.registrations.get(found.registrationId)!;
    return {
      ok: true as const,
      registration: r,
      assertion: this.mintAssertion(r.id, r.email!, [...defaultAuthMdScopes]),
      refresh: this.mintRefresh(r.id),
    };
  }

  /** jwt-bearer: a live assertion becomes an access token the protected API accepts. */
  exchange(assertion: string) {
    const a = this.assertions.get(sha256(assertion));
    if (!a || a.voided || this.now() >= a.expiresAt) return fail(400, 'invalid_grant', 'Bad or expired assertion.');
    return { ok: true as const, ...this.sessions.issueSession(a.email, a.scopes) };
  }
}
