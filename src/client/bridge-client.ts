import { HandoffError } from '../core/errors.js';
import { nodeHttpTransport, type BridgeResponse } from './bridge-http.js';
import type { AgentPolicy } from '../core/agent-policy.js';
import type {
  AgentRemoval,
  ApprovalRequestInput,
  ApprovalView,
  AgentView,
  AgentWithKey,
  CredentialView,
  ExtendRequestInput,
  FeedPageView,
  HandoffRequestInput,
  HandoffView,
  RejectionResult,
  RetrievedCredential,
  RevokeResult,
} from '../core/wire.js';

/** An error the bridge API answered with, or a failure to reach it (`status` 0). */
export class BridgeApiError extends HandoffError {
  /**
   * `details`: the error's other fields (e.g. `reopenedHandoffId` of `credential_expired`);
   * `retryAfterMs`: from a 429's Retry-After.
   */
  constructor(
    message: string,
    code: string,
    status: number,
    extra: { details?: Record<string, unknown>; retryAfterMs?: number } = {},
  ) {
    super(message, {
      code,
      status: status || 503,
      retry: extra.retryAfterMs !== undefined ? 'after_delay' : status === 0 || status >= 500 ? 'backoff' : 'never',
      ...(extra.retryAfterMs !== undefined ? { retryAfterMs: extra.retryAfterMs } : {}),
      ...(extra.details && Object.keys(extra.details).length > 0 ? { details: extra.details } : {}),
    });
  }
}

export interface CreatedHandoff {
  readonly id: string;
  readonly status: HandoffView['status'];
  readonly thread: string;
  readonly protocol: string;
  readonly expiresAt: number;
  readonly createdAt: number;
  /** A standing grant answered it (`reuse`): it is `completed` already, with `credential`. */
  readonly reused: boolean;
  readonly credential: HandoffView['credential'];
}

/** What `POST /v1/handoffs` answers for an approval (issue #13). */
export interface CreatedApproval {
  readonly id: string;
  readonly kind: 'approval';
  readonly status: HandoffView['status'];
  readonly thread: string;
  readonly expiresAt: number;
  readonly createdAt: number;
}

/** The bridge's HTTP API, for agents and the CLI. */
export interface BridgeClient {
  readonly baseUrl: string;
  createHandoff(request: HandoffRequestInput): Promise<CreatedHandoff>;
  /** With `waitMs`, the bridge answers once the status differs from `ifStatus` (or time is up). */
  getHandoff(id: string, wait?: { waitMs: number; ifStatus?: string }): Promise<HandoffView>;
  listHandoffs(options?: { open?: boolean; limit?: number }): Promise<HandoffView[]>;
  /** Asks people to approve an action (issue #13). */
  createApproval(request: Omit<ApprovalRequestInput, 'kind'>): Promise<CreatedApproval>;
  /** An approval's view (votes, decision); `waitMs` as for getHandoff. */
  getApproval(id: string, wait?: { waitMs: number; ifStatus?: string }): Promise<ApprovalView>;
  retrieveCredential(id: string): Promise<RetrievedCredential>;
  cancelHandoff(id: string): Promise<HandoffView>;
  /** Gives people more time: the handoff now waits until `expiresInMs` from now (issue #14). */
  extendHandoff(id: string, expiresInMs: number): Promise<HandoffView | ApprovalView>;
  /** Credentials the bridge keeps (never their secrets), newest first. */
  listCredentials(options?: { agent?: string; limit?: number }): Promise<CredentialView[]>;
  /** Revokes at the service where the protocol allows, and deletes from the bridge. */
  revokeCredential(credentialId: string): Promise<RevokeResult>;
  /** The service answered 401 to this credential: the bridge refreshes it or re-opens the login. */
  reportRejected(credentialId: string): Promise<RejectionResult>;
  /** Posts into a local thread as `author` (loopback bridges only). */
  replyLocal(threadName: string, author: string, text: string): Promise<{ ack: string }>;
  /** Creates an agent (admin token); the answer holds its key, shown this once. */
  createAgent(agent: { id: string } & AgentPolicy): Promise<AgentWithKey>;
  /** Every agent (admin token): declared in the agents file, and created through the API. */
  listAgents(): Promise<AgentView[]>;
  /** One agent (admin token, or that agent's own key). */
  getAgent(id: string): Promise<AgentView>;
  /** A new key for the agent (admin token); the old one stops working at once. */
  rotateAgentKey(id: string): Promise<AgentWithKey>;
  /** Removes the agent (admin token): key dead, open handoffs cancelled, credentials revoked and deleted. */
  removeAgent(id: string): Promise<AgentRemoval>;
  /**
   * Endings of the caller's handoffs after `after` (a cursor from an earlier answer; absent:
   * from the oldest kept). With `waitMs`, the bridge answers as soon as there is one (long poll).
   */
  events(options?: EventsQuery): Promise<FeedPageView>;
}

export interface EventsQuery {
  readonly after?: string;
  /** Longest the bridge waits for an event, ms (at most 60,000). Default 0: answer at once. */
  readonly waitMs?: number;
  /** Whose feed, for the admin token acting for an agent; an agent key reads its own. */
  readonly agent?: string;
  /** Most events in one answer (1–1,000; default 100). */
  readonly limit?: number;
  /** Aborts the request (a resumer shutting down). */
  readonly signal?: AbortSignal;
}

const loopbackHost = (hostname: string) =>
  hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);

/**
 * Refuses a bridge URL that would send the API token (and the credentials it fetches) in the
 * clear across a network: plain http is for this machine only (loopback), unless the caller
 * says the network is trusted (HANDOFF_ALLOW_INSECURE_URL=true for the CLI).
 */
export function checkBridgeUrl(baseUrl: string, allowInsecureUrl = false): void {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new HandoffError(`HANDOFF_URL "${baseUrl.slice(0, 200)}" is not a URL such as https://handoff.example.com.`, {
      code: 'invalid_bridge_url',
      status: 400,
    });
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && (loopbackHost(url.hostname) || allowInsecureUrl)))
    return;
  if (url.protocol !== 'http:')
    throw new HandoffError(`HANDOFF_URL must be an http(s) URL (got ${url.protocol}).`, {
      code: 'invalid_bridge_url',
      status: 400,
    });
  throw new HandoffError(
    `HANDOFF_URL ${url.origin} is plain http to another machine: the API token and credentials would cross the network unencrypted. Use https, or set HANDOFF_ALLOW_INSECURE_URL=true if that network is trusted.`,
    { code: 'insecure_bridge_url', status: 400 },
  );
}

export function createBridgeClient(options: {
  baseUrl: string;
  apiToken: string;
  /** Allow plain http to a host that is not loopback. Default false. */
  allowInsecureUrl?: boolean;
}): BridgeClient {
  checkBridgeUrl(options.baseUrl, options.allowInsecureUrl);
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const transport = nodeHttpTransport();

  async function call<T>(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 30_000,
    signal?: AbortSignal,
    idempotent = false,
  ): Promise<T> {
    let res: BridgeResponse;
    try {
      res = await transport(new URL(`${baseUrl}${path}`), {
        method,
        headers: {
          authorization: `Bearer ${options.apiToken}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: signal ? AbortSignal.any([AbortSignal.timeout(timeoutMs), signal]) : AbortSignal.timeout(timeoutMs),
        idempotent,
      });
    } catch (err) {
      throw new BridgeApiError(
        `Cannot reach the bridge at ${baseUrl} (${err instanceof Error ? err.message : String(err)}). Is it running? Start it with \`npm start\`, or set HANDOFF_URL.`,
        'bridge_unreachable',
        0,
      );
    }
    const text = res.text;
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.status < 200 || res.status > 299) {
      const error = (parsed as { error?: { code?: string; message?: string } & Record<string, unknown> } | undefined)
        ?.error;
      const { code, message, ...details } = error ?? {};
      const retryAfter = Number(res.header('retry-after') ?? NaN);
      throw new BridgeApiError(message ?? `The bridge answered ${res.status}.`, code ?? 'bridge_error', res.status, {
        details,
        ...(res.status === 429 && Number.isFinite(retryAfter) ? { retryAfterMs: retryAfter * 1000 } : {}),
      });
    }
    return parsed as T;
  }

  return {
    baseUrl,
    // With an idempotency key a create may be sent twice: the bridge answers the same handoff.
    createHandoff: (request) =>
      call('POST', '/v1/handoffs', request, undefined, undefined, request.idempotencyKey !== undefined),
    getHandoff: (id, wait) => {
      const query = wait
        ? `?waitMs=${wait.waitMs}${wait.ifStatus ? `&ifStatus=${encodeURIComponent(wait.ifStatus)}` : ''}`
        : '';
      return call('GET', `/v1/handoffs/${encodeURIComponent(id)}${query}`, undefined, (wait?.waitMs ?? 0) + 30_000);
    },
    createApproval: (request) =>
      call(
        'POST',
        '/v1/handoffs',
        { ...request, kind: 'approval' },
        undefined,
        undefined,
        request.idempotencyKey !== undefined,
      ),
    getApproval: (id, wait) => {
      const query = wait
        ? `?waitMs=${wait.waitMs}${wait.ifStatus ? `&ifStatus=${encodeURIComponent(wait.ifStatus)}` : ''}`
        : '';
      return call('GET', `/v1/handoffs/${encodeURIComponent(id)}${query}`, undefined, (wait?.waitMs ?? 0) + 30_000);
    },
    listHandoffs: async (opts = {}) => {
      const query = new URLSearchParams({ limit: String(opts.limit ?? 20), ...(opts.open ? { status: 'open' } : {}) });
      return (await call<{ handoffs: HandoffView[] }>('GET', `/v1/handoffs?${query}`)).handoffs;
    },
    retrieveCredential: (id) => call('POST', `/v1/handoffs/${encodeURIComponent(id)}/credential`),
    cancelHandoff: (id) => call('DELETE', `/v1/handoffs/${encodeURIComponent(id)}`),
    extendHandoff: (id, expiresInMs) =>
      call('POST', `/v1/handoffs/${encodeURIComponent(id)}/extend`, { expiresInMs } satisfies ExtendRequestInput),
    listCredentials: async (opts = {}) => {
      const query = new URLSearchParams({
        limit: String(opts.limit ?? 50),
        ...(opts.agent ? { agent: opts.agent } : {}),
      });
      return (await call<{ credentials: CredentialView[] }>('GET', `/v1/credentials?${query}`)).credentials;
    },
    revokeCredential: (id) => call('POST', `/v1/credentials/${encodeURIComponent(id)}/revoke`),
    reportRejected: (id) => call('POST', `/v1/credentials/${encodeURIComponent(id)}/rejected`),
    replyLocal: (name, author, text) =>
      call('POST', `/v1/threads/local/${encodeURIComponent(name)}/messages`, { author, text }),
    createAgent: (agent) => call('POST', '/v1/agents', agent),
    listAgents: async () => (await call<{ agents: AgentView[] }>('GET', '/v1/agents')).agents,
    getAgent: async (id) => (await call<{ agent: AgentView }>('GET', `/v1/agents/${encodeURIComponent(id)}`)).agent,
    rotateAgentKey: (id) => call('POST', `/v1/agents/${encodeURIComponent(id)}/key`),
    // Removal cancels and revokes at services one by one: allow it time.
    removeAgent: (id) => call('DELETE', `/v1/agents/${encodeURIComponent(id)}`, undefined, 120_000),
    events: (opts = {}) => {
      const query = new URLSearchParams({
        ...(opts.after ? { after: opts.after } : {}),
        ...(opts.waitMs ? { waitMs: String(opts.waitMs) } : {}),
        ...(opts.agent ? { agent: opts.agent } : {}),
        ...(opts.limit ? { limit: String(opts.limit) } : {}),
      });
      return call(
        'GET',
        `/v1/events${query.size ? `?${query}` : ''}`,
        undefined,
        (opts.waitMs ?? 0) + 30_000,
        opts.signal,
      );
    },
  };
}
