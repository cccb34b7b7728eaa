import type { AgentLimits } from './agent-policy.js';
import type { HandoffRecord, TerminalStatus } from './handoff.js';
import type { ProtocolName } from './login-protocol.js';

/**
 * The wire: what agents send to the bridge and get back over HTTP, as types only. `src/http`
 * answers in these shapes, the engine builds them (`toHandoffView`, `toCredentialView`…),
 * and `src/client` — what agents import — takes its types from here and from nothing
 * server-side. In core because core is the one layer all three stand on, and these are plain
 * data: no I/O, no schema (the request's zod schema stays in the engine and is checked
 * against `HandoffRequestInput` at compile time).
 */

/** `POST /v1/handoffs` (and `requireLogin()`): what an agent asks for. */
export interface HandoffRequestInput {
  /** `login` is the default; approvals are `ApprovalRequestInput`. */
  readonly kind?: 'login' | undefined;
  readonly service: string;
  /** Omitted or `auto`: discovered from the service's 401. */
  readonly protocol?: ProtocolName | 'auto' | undefined;
  readonly thread: string;
  readonly approvers?: string[] | undefined;
  readonly approverEmail?: string | undefined;
  /** With an agent key the id comes from the key (naming another is refused); the admin token must name one. */
  readonly agent?: { readonly id?: string | undefined; readonly correlationId?: string | undefined } | undefined;
  readonly scopes?: string[] | undefined;
  readonly expiresInMs?: number | undefined;
  readonly idempotencyKey?: string | undefined;
  readonly label?: string | undefined;
  /**
   * A standing grant instead of a person (issue #14): `agent` answers at once with a live
   * credential this agent already holds for this service with these scopes (or more), from
   * any thread; `thread` only with one approved in this thread; `never` (the API's default)
   * always asks. Without one to reuse, `agent` and `thread` join a login still waiting for the
   * same thing rather than asking twice.
   */
  readonly reuse?: ReuseMode | undefined;
  /** Remind the approvers while it waits (issue #14); default: the bridge's HANDOFF_REMIND_AFTER_MS, if set. */
  readonly remind?: ReminderInput | undefined;
  /** Who else is asked if nobody answers (issue #14). */
  readonly escalate?: EscalationInput[] | undefined;
}

/** One `escalate` step: after `afterMs`, `approvers` may answer too and are told, in the thread and in `thread` when given. */
export interface EscalationInput {
  readonly afterMs: number;
  readonly approvers: string[];
  readonly thread?: string | undefined;
}

/** `remind`: the first reminder `afterMs` after the request, then every `everyMs` (default `afterMs`), at most `max` (3; 0 = none). */
export interface ReminderInput {
  readonly afterMs: number;
  readonly everyMs?: number | undefined;
  readonly max?: number | undefined;
}

/** `POST /v1/handoffs/:id/extend`: the handoff now waits until `expiresInMs` from now (issue #14). */
export interface ExtendRequestInput {
  readonly expiresInMs: number;
}

/** Which standing grant may answer a login request (`HandoffRequestInput.reuse`). */
export type ReuseMode = 'agent' | 'thread' | 'never';

/** The API's picture of a handoff: no secrets, times as epoch ms, absent values as null. */
export interface HandoffView {
  readonly id: string;
  readonly status: HandoffRecord['status'];
  readonly thread: string;
  readonly service: string;
  /** The service's own name, once discovery or the login told us. */
  readonly serviceName: string | null;
  /** The protocol, or `auto` until discovery has chosen one. */
  readonly protocol: string;
  readonly agent: { readonly id: string; readonly correlationId: string };
  readonly approvers: readonly string[];
  readonly scopes: readonly string[];
  readonly approvalUrl: string | null;
  /**
   * What the person answers in the thread once the login has started: the browser's finish
   * code, the code the service emailed them, or "done" after approving a device code.
   */
  readonly answer: NonNullable<HandoffRecord['answer']> | null;
  /** The version of the protocol the service turned out to speak (auth.md: `0.1`, `0.6` polling, `0.7` read-back); null when the protocol has one. */
  readonly protocolVersion: string | null;
  readonly attempts: number;
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly completedAt: number | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  /** The handoff this one re-opens (its credential expired or was rejected). */
  readonly previousHandoffId: string | null;
  /** True when a standing grant answered it at once (`reuse`): nobody was asked, nothing posted. */
  readonly reused: boolean;
  readonly credential: {
    readonly id: string;
    readonly scopes: readonly string[];
    readonly expiresAt: number | null;
  } | null;
}

/** `GET /v1/handoffs/:id/credential`. */
export interface RetrievedCredential {
  readonly credentialId: string;
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly scopes: readonly string[];
  /** Epoch ms, or null when it does not expire. */
  readonly expiresAt: number | null;
}

/** `GET /v1/credentials`. */
export interface CredentialView {
  readonly id: string;
  readonly service: string;
  readonly serviceName: string | null;
  readonly protocol: string;
  readonly scopes: readonly string[];
  /** Epoch ms, or null when it does not expire. */
  readonly expiresAt: number | null;
  readonly agentId: string;
  readonly thread: string;
  readonly handoffId: string;
  readonly createdAt: number;
  readonly refreshedAt: number | null;
  /** Last time it was handed out, epoch ms (the idle limit counts from here). */
  readonly lastRetrievedAt: number | null;
  /** Why it stopped working (e.g. `refresh_rejected`): the next retrieval re-opens the login. */
  readonly needsLogin: string | null;
}

/** `DELETE /v1/credentials/:id`. */
export interface RevokeResult {
  readonly credential: CredentialView;
  /** What the service said: revoked there, no way to revoke there, or the call failed (code). */
  readonly atService: 'revoked' | 'not_supported' | 'failed';
  readonly serviceError?: string;
}

/** `POST /v1/credentials/:id/rejected`. */
export type RejectionResult =
  { readonly status: 'refreshed' } | { readonly status: 'reopened'; readonly handoffId: string };

/** `GET /v1/agents`, `POST /v1/agents`. */
export interface AgentView {
  readonly id: string;
  /** `api` (created with POST /v1/agents) or `file` (HANDOFF_AGENTS_FILE; read-only here). */
  readonly managedBy: 'api' | 'file';
  /** Origin globs it may log in to; null = any. */
  readonly services: readonly string[] | null;
  /** Thread-ref globs it may ask in; null = any. */
  readonly threads: readonly string[] | null;
  /** Approvers it may name; null = any. */
  readonly approvers: readonly string[] | null;
  /** Its own limits as set; null = the bridge's default. */
  readonly maxOpenHandoffs: number | null;
  readonly maxHandoffsPerMinute: number | null;
  /** The limits in force (its own, else the bridge's defaults). */
  readonly limits: AgentLimits;
  /** Epoch ms; null for file agents. */
  readonly createdAt: number | null;
  readonly keyRotatedAt: number | null;
}

export interface AgentWithKey {
  readonly agent: AgentView;
  /** The key: shown this once, stored only as a hash. */
  readonly apiKey: string;
}

/** `DELETE /v1/agents/:id`. */
export interface AgentRemoval {
  readonly agent: AgentView;
  readonly cancelledHandoffs: readonly string[];
  readonly revokedCredentials: ReadonlyArray<{ readonly id: string; readonly atService: RevokeResult['atService'] }>;
  /** Handoffs still open (a code was being checked throughout); their credentials, if any, die with the idle limit. */
  readonly stillOpen: readonly string[];
}

/** One ending, as the API answers it. */
export interface FeedEventView {
  /** Pass this back as `after` to read what came after this event. */
  readonly cursor: string;
  /** The handoff that ended (read it with GET /v1/handoffs/:id). */
  readonly handoffId: string;
  /** How it ended. */
  readonly status: TerminalStatus;
  /** Epoch ms. */
  readonly endedAt: number;
  /** The handoff's error code; null for `completed`. */
  readonly error: string | null;
  /**
   * A completed login's credential, as `GET /v1/handoffs/:id` shows it (id and scopes; the
   * token only ever comes from `POST /v1/handoffs/:id/credential`); null for other endings,
   * approvals, and entries written before the feed carried it (read the handoff then).
   */
  readonly credential: { readonly id: string; readonly scopes: readonly string[] } | null;
  /** With a credential: true when a standing grant answered the login (`reuse`); else false. */
  readonly reused: boolean;
}

/** An answer of `GET /v1/events`. */
export interface FeedPageView {
  /** Oldest first; empty when the wait ran out. */
  readonly events: readonly FeedEventView[];
  /** Where to continue: the last event's cursor, or the one sent when there was none. */
  readonly cursor: string;
  /** True when events after the cursor sent were already trimmed from the feed (read the handoffs you wait for). */
  readonly gap: boolean;
}

/** `POST /v1/handoffs` with `kind: "approval"` (and `requireApproval()`): "may I?" (issue #13). */
export interface ApprovalRequestInput {
  readonly kind: 'approval';
  readonly thread: string;
  readonly agent?: { readonly id?: string | undefined; readonly correlationId?: string | undefined } | undefined;
  readonly action: {
    readonly title: string;
    readonly description?: string | undefined;
    readonly details?: Record<string, string | number | boolean> | undefined;
    readonly risk?: 'low' | 'medium' | 'high' | undefined;
    readonly link?: string | undefined;
  };
  readonly approvers?: string[] | undefined;
  readonly quorum?: number | undefined;
  readonly requestedBy?: string | undefined;
  readonly expiresInMs?: number | undefined;
  readonly onTimeout?: 'expire' | 'deny' | undefined;
  readonly idempotencyKey?: string | undefined;
  readonly remind?: ReminderInput | undefined;
  readonly escalate?: EscalationInput[] | undefined;
}

/** The API's picture of an approval (built by src/core/approval-view.ts). */
export type { ApprovalView } from './approval-view.js';
