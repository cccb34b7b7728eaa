import type { Sentence } from './sentence.js';

/**
 * How a login is started and finished with a service. Implementations live in src/login; the
 * engine sees only this. Secrets (poll tokens, verifiers, claim tokens, device codes) travel
 * in `ProtocolSecret`, which the engine keeps in the vault and never logs or posts.
 */

/**
 * A protocol's name (`agent-sessions`, `authmd`, `device`…). The names are not listed here:
 * each protocol module declares its own (src/login/protocol-module.ts) and src/main.ts lists
 * the modules; config, the request schema and discovery take the names from that list.
 */
export type ProtocolName = string;

/** What a protocol name may look like: lower-case letters, digits and `-`, at most 40 characters. */
export const protocolNamePattern = /^[a-z][a-z0-9-]{0,39}$/;

/** What config and discovery need to know of a registered protocol: its name and preference rank. */
export interface RankedProtocol {
  readonly name: ProtocolName;
  /** Preference when discovery finds several a service speaks: lower wins. */
  readonly rank: number;
}

/** The names of `protocols`, most preferred first (by rank, then by name). */
export function namesByRank(protocols: readonly RankedProtocol[]): ProtocolName[] {
  return [...protocols].sort((a, b) => a.rank - b.rank || a.name.localeCompare(b.name)).map((p) => p.name);
}

/** Opaque, protocol-owned state; JSON-serialisable; stored encrypted. */
export type ProtocolSecret = Readonly<Record<string, unknown>>;

/** Headers every outbound call to a service carries (X-Agent-Id, X-Correlation-Id). */
export interface CallContext {
  readonly agentId: string;
  readonly correlationId: string;
  /**
   * Aborts every call once the caller's time is up (the start step's deadline); calls and
   * retries stop at once. Absent: only each call's own timeout applies.
   */
  readonly signal?: AbortSignal;
}

export interface LoginRequest extends CallContext {
  readonly handoffId: string;
  /** The service's API root, e.g. `https://api.example.com` or `http://127.0.0.1:8080/sandbox`. */
  readonly service: string;
  readonly scopes: readonly string[];
  /** Shown to the human on the service's approval page. */
  readonly label: string;
  /** Approver's email, for flows where the service emails them. */
  readonly approverEmail?: string;
  /**
   * True when `approverEmail` is what the platform directory says about the one named
   * approver, not only the agent's word: only then may a protocol assert that identity to a
   * service itself (auth.md's ID-JAG registration).
   */
  readonly approverEmailFromDirectory?: boolean;
}

export interface Started {
  /**
   * The URL the approver opens. Absent when there is none: the service asks the person on
   * their own device or authenticator app (OpenID CIBA), and the thread says so.
   */
  readonly approvalUrl?: string;
  /** Device-style code the approver types on the page. */
  readonly userCode?: string;
  /** When the service stops honouring this login, epoch ms. */
  readonly expiresAt: number;
  /**
   * What the approver sends back: a pasted finish code, a 6-digit code from an email, a
   * 6-digit code the service's page shows after they approve (`page_code`), or "done".
   */
  readonly answer: 'finish_code' | 'email_code' | 'page_code' | 'done';
  readonly secret: ProtocolSecret;
  /** How often to poll in the background, ms; absent when the protocol cannot poll. */
  readonly pollIntervalMs?: number;
  /**
   * False: this login cannot be polled although the protocol polls others (auth.md v0.1 and
   * read-back, beside its polling line), so the engine schedules no background poll.
   */
  readonly polls?: false;
  /** Service's own name, when it told us. */
  readonly serviceName?: string;
  readonly serviceLogoUrl?: string;
  /** Extra line for the approval message; values the service chose stay foreign parts. */
  readonly note?: Sentence;
  /**
   * The authorization server whose metadata the protocol followed (checked same-site as the
   * service). The approval link must be on the service's site or this server's, else the
   * handoff fails `unsafe_approval_url`.
   */
  readonly authorizationServer?: string;
  /**
   * Which version of its protocol the service turned out to speak, when the protocol has
   * several (auth.md: `0.1`, `0.6`, `0.7`); shown in the handoff view as `protocolVersion`.
   */
  readonly protocolVersion?: string;
}

/**
 * Who the service says approved a login, when it says: the agent-sessions poll's
 * `approved_email`/`account_id` or the exchange's `account`, an OIDC `id_token` or userinfo
 * answer, an auth.md claim answer; or whom the service itself bound the ceremony to (auth.md
 * `verified_email` with the approver's email). The service is the authority on its own
 * accounts, so the engine matches this against the approvers; a person's text never fills it.
 */
export interface ApprovedBy {
  /** The account's email, lower-cased; only an email the service vouches for (an id_token's `email_verified: false` is dropped). */
  readonly email?: string;
  /**
   * The service's stable id for the account (`sub`, `account_id`). Recorded in the audit,
   * never matched against approvers: a subject means something only inside its service.
   */
  readonly subject?: string;
  /** Where the service said it. */
  readonly source: 'poll' | 'exchange' | 'id_token' | 'userinfo' | 'claim' | 'login_hint';
}

/** A credential as the service issued it. Lives only in the vault. */
export interface IssuedCredential {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly refreshToken?: string;
  readonly scopes: readonly string[];
  /** Access token expiry, epoch ms; absent = does not expire. */
  readonly expiresAt?: number;
  readonly refreshExpiresAt?: number;
  /** The service's id for the session (needed to revoke). */
  readonly sessionId?: string;
  readonly account?: { readonly id?: string; readonly email?: string };
  /**
   * What the protocol needs to refresh or revoke this credential later (endpoints, which
   * grant): protocol-owned, sealed with the credential, never shown.
   */
  readonly protocolState?: ProtocolSecret;
}

export type Completion =
  /** Done: the service issued a credential. */
  | {
      readonly kind: 'credential';
      readonly credential: IssuedCredential;
      /** Whose account it is, when the service said (absent: the bridge cannot tell). */
      readonly approvedBy?: ApprovedBy;
    }
  /**
   * The answer was wrong; it counts as an attempt and the person may try again. `counts:
   * false`: the service says it is too early (auth.md read-back's `claim_not_confirmed`), so
   * the thread gets `message` as a hint and no attempt is counted.
   */
  | { readonly kind: 'wrong_code'; readonly code: string; readonly message: string; readonly counts?: false }
  /**
   * The service says this login was already exchanged (e.g. a 409 after our own exchange).
   * `credential`: the protocol still holds what it issued (e.g. an auth.md anonymous key,
   * upgraded in place by the claim), so the login can finish anyway.
   */
  | { readonly kind: 'already_exchanged'; readonly credential?: IssuedCredential; readonly approvedBy?: ApprovedBy }
  /**
   * The service voided this attempt (claim or code expired…) and the protocol began a fresh
   * one: the engine keeps the new secret and posts the new instructions. Not an attempt.
   */
  | { readonly kind: 'restarted'; readonly started: Started; readonly reason: Sentence }
  /** The login cannot finish; the handoff fails with `code`. */
  | { readonly kind: 'fatal'; readonly code: string; readonly message: string };

export type PollResult =
  | { readonly kind: 'pending'; readonly nextPollMs?: number; readonly secret?: ProtocolSecret }
  /**
   * Someone approved; finish with this code exactly as if they had pasted it. `approvedBy`:
   * who, when the service said (checked against the approvers before the code is used).
   */
  | { readonly kind: 'approved'; readonly code: string; readonly approvedBy?: ApprovedBy }
  | Completion;

export interface LoginProtocol {
  readonly name: ProtocolName;
  /**
   * True when start() may send `approverEmail` to the service (auth.md email flows). The
   * engine decides whether a directory email may go (and audits holding one back) only then.
   */
  readonly sendsApproverEmail?: boolean;
  /** Starts a detached login. Throws HandoffError (UpstreamError, RateLimitedError…). */
  start(req: LoginRequest): Promise<Started>;
  /** Finishes with the approver's answer. Throws only for transport trouble. */
  complete(secret: ProtocolSecret, code: string, ctx: CallContext): Promise<Completion>;
  /** Asks the service whether the human approved without telling us. */
  poll?(secret: ProtocolSecret, ctx: CallContext): Promise<PollResult>;
  /** Returns a fresh credential from a refresh token; `service` is the API root it came from. */
  refresh?(credential: IssuedCredential, service: string, ctx: CallContext): Promise<IssuedCredential>;
  /** Revokes the credential at the service. */
  revoke?(credential: IssuedCredential, service: string, ctx: CallContext): Promise<void>;
}

/** The protocol discovery chose for a service (a handoff created with protocol "auto"). */
export interface ChosenLogin {
  readonly protocol: ProtocolName;
  /** The service's own name (`resource_name`), when it published one. */
  readonly serviceName?: string;
  /** Its logo (`resource_logo_uri`), for platforms that show images. */
  readonly serviceLogoUrl?: string;
}

/** Works out how a service logs agents in, from its 401 and its metadata. */
export interface LoginDiscovery {
  /**
   * Chooses among `supported` the protocol of best rank the service speaks. Throws HandoffError:
   * `no_supported_login` naming what was found, or a transport/metadata error.
   */
  choose(service: string, supported: readonly ProtocolName[], ctx: CallContext): Promise<ChosenLogin>;
}
