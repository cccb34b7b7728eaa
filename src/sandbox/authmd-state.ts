import { randomBytes, randomInt } from 'node:crypto';
import { sha256, token, type AuthMdRegistrationType, type SandboxState } from './sandbox-state.js';

/**
 * The sandbox's auth.md registrations (docs/protocols.md, "auth.md"): claim tokens with real expiry,
 * one-time codes that live `otpTtlMs` and are voided by the next one minted, single-use
 * claims, and a mailbox standing in for the person's inbox. Tokens and codes are kept only
 * as SHA-256 hashes.
 */
export type RegistrationStatus = 'pending' | 'claimed' | 'denied';

export interface Registration {
  readonly id: string;
  readonly type: AuthMdRegistrationType;
  readonly credentialType: 'api_key' | 'access_token';
  /** Scopes the credential has once claimed. */
  readonly scopes: readonly string[];
  claimTokenHash: string;
  claimExpiresAt: number;
  status: RegistrationStatus;
  /** Where the claim email goes (identity_assertion: the asserted email). */
  email?: string;
  /** Who approved in the browser (user_claimed, or anonymous claimed through the page). */
  approvedEmail?: string;
  /** The anonymous key's session, upgraded in place when claimed. */
  sessionId?: string;
  /** The live code: a 6-digit OTP (email flows) or an `acf_` finish code (browser flows). */
  code?: { readonly hash: string; readonly expiresAt: number };
  /** Hash of the token in the emailed link. */
  linkTokenHash?: string;
  /** Complete calls with a wrong code; too many answer 429. */
  failures: number;
}

export interface MailboxEmail {
  readonly id: string;
  readonly to: string;
  readonly subject: string;
  readonly link: string;
  readonly at: number;
}

export type ClaimError = {
  readonly ok: false;
  readonly status: number;
  readonly error: string;
  readonly message: string;
};
const fail = (status: number, error: string, message: string): ClaimError => ({ ok: false, status, error, message });

/** Scopes an anonymous key has before anyone claims it. */
export const preClaimScopes = ['notes:read'] as const;
/** Scopes a claimed registration gets unless the agent asked for fewer. */
export const defaultAuthMdScopes = ['notes:read', 'notes:write'] as const;

export class AuthMdState {
  readonly registrations = new Map<string, Registration>();
  readonly mailbox: MailboxEmail[] = [];
  readonly claimTtlMs: number;
  readonly otpTtlMs: number;

  constructor(private readonly sessions: SandboxState) {
    this.claimTtlMs = sessions.options.claimTtlMs ?? 10 * 60_000;
    this.otpTtlMs = sessions.options.otpTtlMs ?? 10 * 60_000;
  }

  /** The sandbox clock's time, epoch ms. */
  now(): number {
    return this.sessions.options.clock.now();
  }

  register(input: {
    type: AuthMdRegistrationType;
    credentialType: 'api_key' | 'access_token';
    scopes: readonly string[];
    email?: string;
  }) {
    const claimToken = token('clm');
    const registration: Registration = {
      id: `reg_${randomBytes(10).toString('hex')}`,
      type: input.type,
      credentialType: input.credentialType,
      scopes: input.scopes,
      claimTokenHash: sha256(claimToken),
      claimExpiresAt: this.now() + this.claimTtlMs,
      status: 'pending',
      failures: 0,
      ...(input.email ? { email: input.email } : {}),
    };
    let anonymousKey: string | undefined;
    if (input.type === 'anonymous') {
      const issued = this.sessions.issueSession(`anonymous+${registration.id}@sandbox.invalid`, [...preClaimScopes], {
        accessTtlMs: null,
      });
      registration.sessionId = issued.session.id;
      anonymousKey = issued.accessToken;
    }
    this.registrations.set(registration.id, registration);
    return { registration, claimToken, anonymousKey };
  }

  byClaimToken(claimToken: string): Registration | undefined {
    const hash = sha256(claimToken);
    for (const r of this.registrations.values()) if (r.claimTokenHash === hash) return r;
    return undefined;
  }

  /** Checks a claim token is usable; the error names what is wrong in auth.md's words. */
  usable(claimToken: string): { ok: true; registration: Registration } | ClaimError {
    const registration = this.byClaimToken(claimToken);
    if (!registration) return fail(400, 'invalid_claim_token', 'The claim token is wrong or was replaced.');
    if (registration.status === 'claimed')
      return fail(409, 'previously_claimed', 'This registration was already claimed.');
    if (registration.status === 'denied') return fail(403, 'claim_denied', 'The person declined this registration.');
    if (this.now() >= registration.claimExpiresAt)
      return fail(410, 'claim_expired', 'The registration expired before it was claimed.');
    return { ok: true, registration };
  }

  /** Sends the claim email: a link that shows a fresh 6-digit code each time it is opened. */
  sendClaimEmail(registration: Registration, to: string, origin: string, base: string): MailboxEmail {
    const linkToken = randomBytes(16).toString('hex');
    registration.email = to;
    registration.linkTokenHash = sha256(linkToken);
    delete registration.code; // a new email voids the code from the last one
    const email: MailboxEmail = {
      id: `mail_${randomBytes(6).toString('hex')}`,
      to,
      subject: `Confirm the agent registration ${registration.id}`,
      link: `${origin}${base}/claim/${registration.id}/email?k=${linkToken}`,
      at: this.now(),
    };
    this.mailbox.push(email);
    if (this.mailbox.length > 500) this.mailbox.splice(0, this.mailbox.length - 500);
    return email;
  }

  /** The emailed link was opened: mint a new OTP and void the previous one. */
  openEmailLink(id: string, linkToken: string): { ok: true; otp: string } | ClaimError {
    const registration = this.registrations.get(id);
    if (!registration || !registration.linkTokenHash || registration.linkTokenHash !== sha256(linkToken)) {
      return fail(404, 'not_found', 'This link is not valid (a newer email may have replaced it).');
    }
    if (registration.status !== 'pending' || this.now() >= registration.claimExpiresAt) {
      return fail(410, 'claim_expired', 'This registration can no longer be claimed.');
    }
    const otp = String(randomInt(0, 1_000_000)).padStart(6, '0');
    registration.code = { hash: sha256(otp), expiresAt: this.now() + this.otpTtlMs };
    return { ok: true, otp };
  }

  /** The person signed in on the claim page and approved: mint a finish code, voiding the last. */
  approveInBrowser(id: string, email: string): { ok: true; code: string } | ClaimError {
    const registration = this.registrations.get(id);
    if (!registration) return fail(404, 'not_found', 'This registration does not exist.');
    if (registration.status !== 'pending' || this.now() >= registration.claimExpiresAt) {
      return fail(
        410,
        'claim_expired',
        `This registration is ${registration.status === 'pending' ? 'expired' : registration.status}.`,
      );
    }
    const code = `acf_${randomBytes(16).toString('hex')}`;
    registration.approvedEmail = email;
    registration.code = { hash: sha256(code), expiresAt: this.now() + this.otpTtlMs };
    return { ok: true, code };
  }

  deny(id: string): void {
    const registration = this.registrations.get(id);
    if (registration?.status === 'pending') registration.status = 'denied';
  }

  /** `POST <claim_uri>/complete`: checks the code and claims the registration, once. */
  complete(claimToken: string, otp: string) {
    const found = this.usable(claimToken);
    if (!found.ok) return found;
    const registration = found.registration;
    if (registration.failures >= 10) return fail(429, 'rate_limited', 'Too many wrong codes; wait and try again.');
    if (!registration.code || registration.code.hash !== sha256(otp)) {
      registration.failures += 1;
      return fail(400, 'otp_invalid', 'The code does not match.');
    }
    if (this.now() >= registration.code.expiresAt)
      return fail(400, 'otp_expired', 'The code expired; ask for a new one.');
    registration.status = 'claimed';
    delete registration.code;
    const owner = registration.approvedEmail ?? registration.email ?? 'unknown@sandbox.invalid';
    if (registration.type === 'anonymous') {
      const session = registration.sessionId ? this.sessions.sessions.get(registration.sessionId) : undefined;
      if (session) {
        // Upgraded in place: the same key now belongs to the claimer, with the full scopes.
        session.scopes = registration.scopes;
        session.accountEmail = owner;
      }
      return { ok: true as const, registration, issued: undefined, owner };
    }
    const ttl = registration.credentialType === 'api_key' ? null : undefined;
    const issued = this.sessions.issueSession(owner, registration.scopes, { accessTtlMs: ttl });
    return { ok: true as const, registration, issued, owner };
  }
}
