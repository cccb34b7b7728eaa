import type { OutboundMessage } from './messages.js';
import type { Sentence } from './sentence.js';
import type { Platform, ThreadAddress } from './thread-ref.js';

/** A message that exists on a platform: ours or a person's. */
export interface MessageRef {
  readonly platform: Platform;
  /** Canonical thread ref the message lives in. */
  readonly thread: string;
  /** The platform's own message id (a timestamp, a comment id or UUID, a local id). */
  readonly id: string;
}

/** Someone on a platform. `id` is the stable platform id (a user id, a login…). */
export interface Person {
  readonly id: string;
  /** Display name, when known. */
  readonly name?: string;
  /** Email, when the platform tells us. */
  readonly email?: string;
}

export type Reaction = 'seen' | 'ok' | 'fail';

/** What `redact` managed to do to a message that carried a spent code. */
export type RedactOutcome = 'deleted' | 'hidden' | 'unsupported';

/** An adapter's verdict on whether a reply's author may finish a handoff. */
export interface ApproverVerdict {
  readonly allowed: boolean;
  /** Why not, in a sentence fit for the thread (no secrets); names in it are foreign parts. */
  readonly reason?: Sentence;
}

/** What the queue layer knows about one post, beyond the message itself. */
export interface PostContext {
  /**
   * Stable across retries of the same post and different for every other post (the outbound
   * job id). Platforms that accept a client-chosen message id derive theirs from it, so a
   * retried post never shows twice.
   */
  readonly idempotencyKey?: string;
}

/**
 * One platform's way to talk in threads. The required part is small; everything optional is
 * a capability the engine checks for at run time. Deliberately absent: anything about
 * handoffs, queues or protocols — an adapter moves messages and nothing else.
 */
export interface ThreadAdapter<T extends ThreadAddress = ThreadAddress> {
  readonly platform: Platform;
  /** Parses a ref of this platform; throws BadInputError (`invalid_thread_ref`) otherwise. */
  parseThread(ref: string): T;
  /** Posts into the thread. Throws RateLimitedError when the platform says slow down. */
  post(thread: T, msg: OutboundMessage, context?: PostContext): Promise<MessageRef>;
  /**
   * Replaces the content of a message the bridge posted (its ref as `post` returned it) with
   * `msg`, rendered as `post` would: an approval request edited to show the votes and, once
   * settled, the outcome without its buttons. A message that no longer exists is left alone
   * (resolves). Throws RateLimitedError when the platform says slow down, like `post`.
   */
  update?(message: MessageRef, msg: OutboundMessage, context?: PostContext): Promise<void>;
  /** Marks a person's message with a status reaction. */
  react?(msg: MessageRef, reaction: Reaction): Promise<void>;
  /** Removes or hides a message that carried a code that is now spent. */
  redact?(msg: MessageRef): Promise<RedactOutcome>;
  /** Shows a message to one person only (the approval link, where the platform allows). */
  postPrivately?(thread: T, to: Person, msg: OutboundMessage, context?: PostContext): Promise<MessageRef>;
  /**
   * Answers one person about something only they did (a button click, a form): a refusal, "already
   * decided". Only they see it (a chat's ephemeral message). Without it such an
   * answer is posted in the thread.
   */
  answerPrivately?(thread: T, to: Person, msg: OutboundMessage): Promise<MessageRef>;
  /**
   * The thread's web address, from the platform (a chat permalink, an issue's page), for a
   * link back to it from another thread (an escalation's). Undefined when there is none.
   * The engine shows it only when it is an http(s) URL.
   */
  threadLink?(thread: T): Promise<string | undefined>;
  /** True when anyone outside the team can read the thread (public repo, shared channel). */
  isPublic?(thread: T): Promise<boolean>;
  /**
   * Platform rules for who may answer (repo write access, issue assignee…). Called with the
   * approvers named in the request (possibly empty). Without it, the engine allows the named
   * approvers, or anyone when none are named.
   */
  checkApprover?(thread: T, author: Person, named: readonly string[]): Promise<ApproverVerdict>;
  /**
   * Who may answer when a request names no approvers: `anyone` in the thread (the default),
   * or a `platform_rule` that checkApprover enforces (repository access, issue assignee). Under
   * a rule, a login the service reports approved by an unknown account waits for a word in the
   * thread from someone the rule admits.
   */
  readonly unnamedApprovers?: 'anyone' | 'platform_rule';
  /** Turns "@name" or an email into the platform's person id (with the directory's email, when known). */
  resolvePerson?(thread: T, handle: string): Promise<Person>;
  /**
   * The platform's refs name the same thread in any case (repository owners, issue keys):
   * agents' thread policies then match without regard to case. Default: case matters.
   */
  readonly refsIgnoreCase?: boolean;
  /** Outbound budget for the platform's queue, e.g. 1 per 1000 ms. */
  readonly outboundRateLimit?: { readonly max: number; readonly durationMs: number };
}

/** A person's reply in a thread, as every adapter reports it. */
export interface InboundReply {
  readonly platform: Platform;
  /** Canonical thread ref. */
  readonly thread: string;
  /**
   * The handoff the platform itself says this reply answers: a modal opened from its approval
   * message, a reply nested under its approval comment. Absent: the text decides.
   */
  readonly handoffId?: string;
  /**
   * The reply is a click or a form nobody else saw (a button, a modal), so the bridge's answers
   * about it alone (a refusal, "already approved by …", a repeated vote) go to its author
   * privately (`answerPrivately`). Set only with `handoffId`; absent: a message in the thread.
   */
  readonly answerPrivately?: boolean;
  /**
   * A request for a fresh link made from a login request message (a button): the link version
   * that message showed (ApprovalRequestMessage.freshLink). Untrusted like the rest; it can only
   * make a request count as one already answered.
   */
  readonly linkVersion?: number;
  readonly author: Person;
  /** The reply text. Treated as secret (it may hold a finish code): sealed before queueing. */
  readonly text: string;
  readonly messageRef: MessageRef;
  /** The platform's delivery id (an event id, a delivery header…). */
  readonly deliveryId: string;
  /** When the bridge received it, epoch ms. */
  readonly receivedAt: number;
}

/**
 * Result of handing an inbound reply to the bridge: queued, seen before, or ignored because
 * no handoff is open in its thread (conversation the bridge has no business keeping).
 */
export type InboundAck = 'accepted' | 'duplicate' | 'ignored';

/**
 * A platform's word that someone opened the link of a bridge post (a click the platform
 * reports: the local page's link, a chat platform's link button). It proves nothing about who, so it only
 * makes the bridge ask the service sooner: never a decision, never a completion.
 */
export interface LinkOpened {
  readonly platform: Platform;
  /** Canonical thread ref the post lives in. */
  readonly thread: string;
  /** The handoff the post belongs to, by id or by its tag (`#h-4f2a`), as the platform knows it. */
  readonly handoff: { readonly id: string } | { readonly tag: string };
}

/** Where adapters report opened links; unknown or ended handoffs are ignored. */
export type LinkOpenedSink = (event: LinkOpened) => Promise<void>;

/** The one function adapters hand inbound replies to. It verifies nothing: adapters do. */
export type InboundSink = (reply: InboundReply) => Promise<InboundAck>;
