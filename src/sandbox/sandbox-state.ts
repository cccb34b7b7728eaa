import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { hexChallenge } from '../login/pkce.js';

/**
 * The sandbox service's memory: login requests and sessions with real expiry, single-use
 * exchange codes, PKCE checks and revocation. Tokens are kept only as SHA-256 hashes, as a
 * real service would. It counts exchanges so tests can prove "exactly once".
 */
export interface SandboxOptions {
  readonly clock: Clock;
  /** How long a login request lives, ms. Default 10 min. */
  readonly requestTtlMs?: number;
  /** Access token lifetime, ms. Default 1 h. */
  readonly accessTtlMs?: number;
  /** Refresh token lifetime, ms. Default 30 days. */
  readonly refreshTtlMs?: number;
  /** Poll interval the service advertises, seconds; absent = none advertised. */
  readonly pollIntervalSeconds?: number;
  readonly serviceName?: string;
  /** Login protocols this instance speaks. Default: agent sessions only. */
  readonly protocols?: readonly SandboxProtocol[];
  /** auth.md registration types offered. Default: all three. */
  readonly authmdTypes?: readonly AuthMdRegistrationType[];
  /** How long an auth.md claim token lives, ms. Default 10 min. */
  readonly claimTtlMs?: number;
  /** How long a one-time or finish code lives, ms. Default 10 min. */
  readonly otpTtlMs?: number;
  /** How long a device code lives, ms. Default 15 min. */
  readonly deviceCodeTtlMs?: number;
  /** Device-flow poll interval, seconds. Default 5. */
  readonly deviceIntervalSeconds?: number;
  /** How long a CIBA backchannel request lives, ms. Default 5 min. */
  readonly cibaRequestTtlMs?: number;
  /** CIBA poll interval, seconds. Default 5. */
  readonly cibaIntervalSeconds?: number;
  /** CIBA clients the sandbox knows, client_id → client_secret. Default: `handoff-sandbox` (ciba-state.ts). */
  readonly cibaClients?: Readonly<Record<string, string>>;
  /** ID-JAG issuers the auth.md later lines trust, `iss` → public key. Default none (every ID-JAG refused). */
  readonly idJagIssuers?: Readonly<Record<string, KeyObject>>;
  /** Serve protected-resource and authorization-server metadata. Default true. */
  readonly metadata?: boolean;
  /**
   * Say who approved: the agent-sessions poll's `approved_email`/`account_id`, the exchange's
   * `account`, and a device-flow userinfo endpoint. Default true; false stands in for a service
   * that tells its clients nothing about the account.
   */
  readonly identifiesApprover?: boolean;
  /**
   * Which variant of its protocol the instance speaks, when the protocol has several: auth.md
   * `0.6` (the polling line) or `0.7` (read-back); absent = auth.md v0.1.
   */
  readonly variant?: string;
}

/**
 * A login protocol's name. The sandbox stands in for `agent-sessions`, `authmd` and `device`; an
 * instance told another name serves only its home page and metadata for it.
 */
export type SandboxProtocol = string;
export type AuthMdRegistrationType = 'user_claimed' | 'identity_assertion' | 'anonymous';

export type RequestStatus = 'pending' | 'approved' | 'exchanged' | 'revoked' | 'expired';

export interface LoginRequestState {
  readonly id: string;
  readonly pollTokenHash: string;
  readonly codeChallenge: string | undefined;
  readonly scopes: readonly string[];
  readonly clientName: string;
  readonly label: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  status: Exclude<RequestStatus, 'expired'>;
  exchangeCode?: string;
  approvedEmail?: string;
  exchanges: number;
}

export interface SessionState {
  readonly id: string;
  /** Mutable, like `scopes`: an auth.md claim upgrades an anonymous key in place. */
  accountEmail: string;
  scopes: readonly string[];
  accessTokenHash: string;
  accessExpiresAt: number;
  refreshTokenHash: string;
  refreshExpiresAt: number;
  revoked: boolean;
}

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
export const token = (prefix: string): string => `${prefix}_${randomBytes(24).toString('hex')}`;

export type ExchangeResult =
  | { ok: true; session: SessionState; accessToken: string; refreshToken: string }
  | { ok: false; status: 400 | 401 | 404 | 409 | 410; code: string; message: string };

export class SandboxState {
  readonly requests = new Map<string, LoginRequestState>();
  readonly sessions = new Map<string, SessionState>();
  private readonly byAccessHash = new Map<string, SessionState>();
  private readonly byRefreshHash = new Map<string, SessionState>();
  /** The last calls the service received, with the agent headers they carried (newest last). */
  readonly calls: Array<{
    readonly path: string;
    readonly agentId: string | undefined;
    readonly correlationId: string | undefined;
  }> = [];
  /** Exchange calls that issued a session, per request id. */
  readonly successfulExchanges = new Map<string, number>();
  readonly requestTtlMs: number;
  readonly accessTtlMs: number;
  readonly refreshTtlMs: number;

  constructor(readonly options: SandboxOptions) {
    this.requestTtlMs = options.requestTtlMs ?? 10 * 60_000;
    this.accessTtlMs = options.accessTtlMs ?? 3_600_000;
    this.refreshTtlMs = options.refreshTtlMs ?? 30 * 24 * 3_600_000;
  }

  /** Records a call's agent headers (kept to the last 1000). */
  recordCall(path: string, headers: Readonly<Record<string, string | undefined>>): void {
    this.calls.push({ path, agentId: headers['x-agent-id'], correlationId: headers['x-correlation-id'] });
    if (this.calls.length > 1000) this.calls.splice(0, this.calls.length - 1000);
  }

  private now(): number {
    return this.options.clock.now();
  }

  statusOf(req: LoginRequestState): RequestStatus {
    if (req.status !== 'exchanged' && req.status !== 'revoked' && this.now() >= req.expiresAt) return 'expired';
    return req.status;
  }

  startRequest(input: {
    scopes: readonly string[];
    clientName: string;
    label: string;
    codeChallenge: string | undefined;
  }) {
    const id = `ar_${randomBytes(12).toString('hex')}`;
    const pollToken = token('aap');
    const now = this.now();
    const req: LoginRequestState = {
      id,
      pollTokenHash: sha256(pollToken),
      codeChallenge: input.codeChallenge,
      scopes: input.scopes,
      clientName: input.clientName,
      label: input.label,
      createdAt: now,
      expiresAt: now + this.requestTtlMs,
      status: 'pending',
      exchanges: 0,
    };
    this.requests.set(id, req);
    return { req, pollToken };
  }

  /** What the browser approval does: mints the finish code. */
  approve(id: string, email: string): { ok: true; code: string } | { ok: false; reason: string } {
    const req = this.requests.get(id);
    if (!req) return { ok: false, reason: 'This login request does not exist.' };
    const status = this.statusOf(req);
    if (status === 'approved' && req.exchangeCode) return { ok: true, code: req.exchangeCode };
    if (status !== 'pending') return { ok: false, reason: `This login request is ${status}.` };
    req.status = 'approved';
    req.approvedEmail = email;
    req.exchangeCode = `aae_${randomBytes(24).toString('hex')}`;
    return { ok: true, code: req.exchangeCode };
  }

  deny(id: string): void {
    const req = this.requests.get(id);
    if (req && this.statusOf(req) === 'pending') req.status = 'revoked';
  }

  exchange(id: string, code: string, verifier: string | undefined): ExchangeResult {
    const req = this.requests.get(id);
    if (!req) return { ok: false, status: 404, code: 'NOT_FOUND', message: 'Unknown auth_request_id.' };
    const status = this.statusOf(req);
    if (status === 'expired' || status === 'revoked')
      return { ok: false, status: 410, code: 'EXPIRED', message: `The login request is ${status}.` };
    if (status === 'exchanged')
      return { ok: false, status: 409, code: 'INVALID_STATE', message: 'The login request was already exchanged.' };
    if (status === 'pending')
      return { ok: false, status: 400, code: 'INVALID_STATE', message: 'The login request is not approved yet.' };
    if (code !== req.exchangeCode)
      return { ok: false, status: 401, code: 'INVALID_CODE', message: 'The exchange code is wrong.' };
    if (req.codeChallenge !== undefined && (verifier === undefined || hexChallenge(verifier) !== req.codeChallenge)) {
      return { ok: false, status: 401, code: 'INVALID_CODE_VERIFIER', message: 'The code verifier does not match.' };
    }
    req.status = 'exchanged';
    req.exchanges += 1;
    this.successfulExchanges.set(id, (this.successfulExchanges.get(id) ?? 0) + 1);
    return { ok: true, ...this.issueSession(req.approvedEmail ?? 'unknown@example.com', req.scopes) };
  }

  /**
   * A new session for `email`. Every protocol of the sandbox issues its tokens here, so the
   * protected API accepts them all. `accessTtlMs: null` makes a key that does not expire.
   */
  issueSession(email: string, scopes: readonly string[], options: { accessTtlMs?: number | null } = {}) {
    const accessToken = token('aas');
    const refreshToken = token('aar');
    const now = this.now();
    const ttl = options.accessTtlMs === undefined ? this.accessTtlMs : options.accessTtlMs;
    const session: SessionState = {
      id: `as_${randomBytes(10).toString('hex')}`,
      accountEmail: email,
      scopes,
      accessTokenHash: sha256(accessToken),
      accessExpiresAt: ttl === null ? Number.POSITIVE_INFINITY : now + ttl,
      refreshTokenHash: sha256(refreshToken),
      refreshExpiresAt: now + this.refreshTtlMs,
      revoked: false,
    };
    this.sessions.set(session.id, session);
    this.byAccessHash.set(session.accessTokenHash, session);
    this.byRefreshHash.set(session.refreshTokenHash, session);
    return { session, accessToken, refreshToken };
  }

  /** Rotates both tokens; the old refresh token stops working. */
  refresh(refreshToken: string) {
    const session = this.byRefreshHash.get(sha256(refreshToken));
    if (!session || session.revoked || this.now() >= session.refreshExpiresAt) return undefined;
    const accessToken = token('aas');
    const nextRefresh = token('aar');
    this.byAccessHash.delete(session.accessTokenHash);
    this.byRefreshHash.delete(session.refreshTokenHash);
    session.accessTokenHash = sha256(accessToken);
    session.accessExpiresAt = this.now() + this.accessTtlMs;
    session.refreshTokenHash = sha256(nextRefresh);
    this.byAccessHash.set(session.accessTokenHash, session);
    this.byRefreshHash.set(session.refreshTokenHash, session);
    return { session, accessToken, refreshToken: nextRefresh };
  }

  /** Revokes whichever session an access or refresh token belongs to (RFC 7009 semantics). */
  revokeToken(value: string): boolean {
    const hash = sha256(value);
    const session = this.byAccessHash.get(hash) ?? this.byRefreshHash.get(hash);
    if (!session) return false;
    session.revoked = true;
    return true;
  }

  /** The session an access token opens, if it is live. */
  authenticate(accessToken: string): SessionState | undefined {
    const session = this.byAccessHash.get(sha256(accessToken));
    if (!session || session.revoked || this.now() >= session.accessExpiresAt) return undefined;
    return session;
  }

  /** Total successful exchanges across all requests. */
  totalExchanges(): number {
    let total = 0;
    for (const n of this.successfulExchanges.values()) total += n;
    return total;
  }
}
