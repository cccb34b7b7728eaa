import { randomBytes, randomInt } from 'node:crypto';
import { sha256, type SandboxState, type SessionState } from './sandbox-state.js';
import { pacePoll } from './poll-pacing.js';

/**
 * The sandbox's RFC 8628 device authorizations: device codes with real expiry, user codes a
 * person types on the verification page, `slow_down` for clients that poll faster than the
 * interval (which then grows by 5 s, as §3.5 says), denial, and single use.
 */
export type DeviceStatus = 'pending' | 'approved' | 'denied' | 'used';

export interface DeviceAuthorization {
  readonly deviceCodeHash: string;
  /** Normalised: 8 letters without the dash. */
  readonly userCode: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly expiresAt: number;
  /** Current minimum poll interval, seconds. */
  interval: number;
  lastPollAt?: number;
  status: DeviceStatus;
  approvedEmail?: string;
  polls: number;
  slowDowns: number;
}

/** RFC 8628 §6.1: consonants only, so codes spell no words; no vowels, no look-alikes. */
const userCodeAlphabet = 'BCDFGHJKLMNPQRSTVWXZ';

export function normaliseUserCode(text: string): string {
  return text.toUpperCase().replace(/[^A-Z]/g, '');
}

export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

export type TokenPollResult =
  | { readonly ok: true; readonly session: SessionState; readonly accessToken: string; readonly refreshToken: string }
  | {
      readonly ok: false;
      readonly error:
        'authorization_pending' | 'slow_down' | 'access_denied' | 'expired_token' | 'invalid_grant' | 'invalid_client';
    };

export class DeviceState {
  readonly authorizations = new Map<string, DeviceAuthorization>();
  readonly ttlMs: number;
  readonly intervalSeconds: number;

  constructor(private readonly sessions: SandboxState) {
    this.ttlMs = sessions.options.deviceCodeTtlMs ?? 15 * 60_000;
    this.intervalSeconds = sessions.options.deviceIntervalSeconds ?? 5;
  }

  private now(): number {
    return this.sessions.options.clock.now();
  }

  start(clientId: string, scopes: readonly string[]) {
    const deviceCode = randomBytes(32).toString('hex');
    let userCode = '';
    for (let i = 0; i < 8; i++) userCode += userCodeAlphabet[randomInt(0, userCodeAlphabet.length)];
    const authorization: DeviceAuthorization = {
      deviceCodeHash: sha256(deviceCode),
      userCode,
      clientId,
      scopes,
      expiresAt: this.now() + this.ttlMs,
      interval: this.intervalSeconds,
      status: 'pending',
      polls: 0,
      slowDowns: 0,
    };
    this.authorizations.set(authorization.deviceCodeHash, authorization);
    return { authorization, deviceCode };
  }

  byUserCode(text: string): DeviceAuthorization | undefined {
    const code = normaliseUserCode(text);
    for (const a of this.authorizations.values()) if (a.userCode === code && this.now() < a.expiresAt) return a;
    return undefined;
  }

  decide(userCode: string, decision: 'approve' | 'deny', email: string): { ok: true } | { ok: false; reason: string } {
    const found = this.byUserCode(userCode);
    if (!found) return { ok: false, reason: 'That code is unknown or expired. Check the code and try again.' };
    if (found.status !== 'pending')
      return { ok: false, reason: `That code was already ${found.status === 'denied' ? 'denied' : 'approved'}.` };
    if (decision === 'deny') found.status = 'denied';
    else {
      found.status = 'approved';
      found.approvedEmail = email;
    }
    return { ok: true };
  }

  /** The token endpoint's device_code grant. */
  poll(deviceCode: string, clientId: string): TokenPollResult {
    const found = this.authorizations.get(sha256(deviceCode));
    if (!found || found.status === 'used') return { ok: false, error: 'invalid_grant' };
    if (found.clientId !== clientId) return { ok: false, error: 'invalid_client' };
    const error = pacePoll(found, this.now());
    if (error) return { ok: false, error };
    return { ok: true, ...this.sessions.issueSession(found.approvedEmail ?? 'unknown@sandbox.invalid', found.scopes) };
  }
}
