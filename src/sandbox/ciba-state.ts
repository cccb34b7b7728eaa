import { randomBytes } from 'node:crypto';
import type { CibaClient } from '../core/config-ciba.js';
import { sha256, type SandboxState, type SessionState } from './sandbox-state.js';
import { pacePoll } from './poll-pacing.js';

/**
 * The sandbox's OpenID CIBA server (poll mode): registered clients with secrets, backchannel
 * requests for a person named by `login_hint` (any email is an account here), a binding message
 * the person's "device" shows, real expiry, `slow_down` for clients that poll faster than the
 * interval (which then grows by 5 s), denial, and single use. `auth_req_id`s are kept only as
 * hashes; the device page addresses a request by a separate public id.
 */
export type CibaStatus = 'pending' | 'approved' | 'denied' | 'used';

export interface CibaRequest {
  /** What the device page's buttons name (not the auth_req_id, which only the client holds). */
  readonly publicId: string;
  readonly authReqIdHash: string;
  readonly clientId: string;
  /** Lower-cased email from `login_hint`. */
  readonly email: string;
  readonly bindingMessage: string | undefined;
  readonly scopes: readonly string[];
  readonly expiresAt: number;
  /** Current minimum poll interval, seconds. */
  interval: number;
  lastPollAt?: number;
  status: CibaStatus;
  polls: number;
  slowDowns: number;
}

/** The client the sandbox knows unless told otherwise (sandbox only: documented in the README). */
export const sandboxCibaClient = { clientId: 'handoff-sandbox', secret: 'sandbox-ciba-secret' } as const;

export type CibaTokenResult =
  | { readonly ok: true; readonly session: SessionState; readonly accessToken: string; readonly refreshToken: string }
  | {
      readonly ok: false;
      readonly error:
        'authorization_pending' | 'slow_down' | 'access_denied' | 'expired_token' | 'invalid_grant' | 'invalid_client';
    };

export class CibaState {
  readonly requests = new Map<string, CibaRequest>();
  readonly ttlMs: number;
  readonly intervalSeconds: number;
  /** client_id → client_secret. */
  readonly clients: ReadonlyMap<string, string>;

  constructor(private readonly sessions: SandboxState) {
    this.ttlMs = sessions.options.cibaRequestTtlMs ?? 5 * 60_000;
    this.intervalSeconds = sessions.options.cibaIntervalSeconds ?? 5;
    this.clients = new Map(
      Object.entries(sessions.options.cibaClients ?? { [sandboxCibaClient.clientId]: sandboxCibaClient.secret }),
    );
  }

  private now(): number {
    return this.sessions.options.clock.now();
  }

  /** Client authentication as the token endpoint does it: the pair must match a registered client. */
  authenticates(clientId: string | undefined, secret: string | undefined): boolean {
    return clientId !== undefined && secret !== undefined && this.clients.get(clientId) === secret;
  }

  start(clientId: string, email: string, bindingMessage: string | undefined, scopes: readonly string[]) {
    const authReqId = randomBytes(24).toString('base64url');
    const request: CibaRequest = {
      publicId: randomBytes(9).toString('base64url'),
      authReqIdHash: sha256(authReqId),
      clientId,
      email: email.toLowerCase(),
      bindingMessage,
      scopes,
      expiresAt: this.now() + this.ttlMs,
      interval: this.intervalSeconds,
      status: 'pending',
      polls: 0,
      slowDowns: 0,
    };
    this.requests.set(request.authReqIdHash, request);
    return { request, authReqId };
  }

  /** What the person's device shows: their requests still waiting. */
  pendingFor(email: string): CibaRequest[] {
    const now = this.now();
    return [...this.requests.values()].filter(
      (r) => r.email === email.toLowerCase() && r.status === 'pending' && now < r.expiresAt,
    );
  }

  decide(publicId: string, email: string, decision: 'approve' | 'deny'): { ok: true } | { ok: false; reason: string } {
    const found = [...this.requests.values()].find((r) => r.publicId === publicId && r.email === email.toLowerCase());
    if (!found || this.now() >= found.expiresAt)
      return { ok: false, reason: 'That request is unknown or expired on this device.' };
    if (found.status !== 'pending') return { ok: false, reason: 'That request was already answered.' };
    found.status = decision === 'deny' ? 'denied' : 'approved';
    return { ok: true };
  }

  /** The token endpoint's CIBA grant. */
  poll(authReqId: string, clientId: string): CibaTokenResult {
    const found = this.requests.get(sha256(authReqId));
    if (!found || found.status === 'used') return { ok: false, error: 'invalid_grant' };
    if (found.clientId !== clientId) return { ok: false, error: 'invalid_grant' };
    const error = pacePoll(found, this.now());
    if (error) return { ok: false, error };
    return { ok: true, ...this.sessions.issueSession(found.email, found.scopes) };
  }
}

/**
 * The sandbox's own CIBA client for the origins the bridge itself answers on, so `npm start`
 * can demo CIBA without HANDOFF_CIBA_CLIENTS. Only where the sandbox is mounted; an entry the
 * operator configured for one of these origins wins.
 */
export function sandboxCibaClients(at: {
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string | undefined;
}): Record<string, CibaClient> {
  const hosts = ['0.0.0.0', '127.0.0.1', 'localhost', '::'].includes(at.host) ? ['127.0.0.1', 'localhost'] : [at.host];
  const origins = [
    ...hosts.map((h) => `http://${h.includes(':') ? `[${h}]` : h}:${at.port}`),
    ...(at.publicUrl ? [new URL(at.publicUrl).origin] : []),
  ];
  const client: CibaClient = { clientId: sandboxCibaClient.clientId, kind: 'secret', secret: sandboxCibaClient.secret };
  return Object.fromEntries(origins.map((o) => [o, client]));
}
