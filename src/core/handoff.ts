import type { ApprovalDecision, ApprovalSpec, ApprovalVotes } from './approval.js';
import type { ProtocolName } from './login-protocol.js';
import type { Sentence } from './sentence.js';
import { nextWaitingTimer, type EscalationStep, type ReminderPlan, type WaitingTimerKind } from './waiting.js';

/**
 * The handoff model and its state machine. Pure: no I/O, no clock of its own.
 *
 *   pending ──► awaiting_human ──► claiming ──► completed
 *      │              │  ▲             │
 *      │              │  └─────────────┘ (wrong code: back to waiting)
 *      └──────────────┴──► failed | expired | cancelled
 */
export const handoffStatuses = [
  'pending',
  'awaiting_human',
  'claiming',
  'completed',
  'failed',
  'expired',
  'cancelled',
] as const;
export type HandoffStatus = (typeof handoffStatuses)[number];

export type TerminalStatus = 'completed' | 'failed' | 'expired' | 'cancelled';

const allowed: Record<HandoffStatus, readonly HandoffStatus[]> = {
  pending: ['awaiting_human', 'failed', 'expired', 'cancelled'],
  awaiting_human: ['claiming', 'failed', 'expired', 'cancelled'],
  // No cancel or expiry mid-claim: the exchange takes a moment and must not be orphaned.
  claiming: ['completed', 'awaiting_human', 'failed'],
  completed: [],
  failed: [],
  expired: [],
  cancelled: [],
};

export function canTransition(from: HandoffStatus, to: HandoffStatus): boolean {
  return allowed[from].includes(to);
}

/** Statuses from which `to` may be reached: what an atomic compare-and-set checks. */
export function sourcesOf(to: HandoffStatus): HandoffStatus[] {
  return handoffStatuses.filter((from) => canTransition(from, to));
}

export function isTerminal(status: HandoffStatus): status is TerminalStatus {
  return allowed[status].length === 0;
}

/** Wrong answers allowed before the handoff fails with `too_many_attempts`. */
export const maxAttempts = 5;

export interface HandoffError {
  readonly code: string;
  readonly message: string;
}

/** What the bridge remembers about one handoff. Secrets live in the vault, not here. */
export interface HandoffRecord {
  readonly id: string;
  /** `login` (the default) or `approval` (src/core/approval.ts: service and scopes unused). */
  readonly kind: 'login' | 'approval';
  readonly status: HandoffStatus;
  /** Incremented by every transition; used for compare-and-set. */
  readonly version: number;
  /** The service's API root. */
  readonly service: string;
  readonly serviceName?: string;
  /** Logo the service advertises, for platforms that show images. */
  readonly serviceLogoUrl?: string;
  /** `auto` until discovery (in the driver's start step) has chosen one. */
  readonly protocol: ProtocolName | 'auto';
  /** The version of the protocol the service speaks, when the protocol told (auth.md `0.1`, `0.6`, `0.7`). */
  readonly protocolVersion?: string;
  /** Canonical thread ref. */
  readonly thread: string;
  /** Who may answer (platform ids); empty = anyone in the thread, or the platform's rule. */
  readonly approvers: readonly string[];
  /**
   * The approver's email a service may be sent (auth.md email flows): the one the request
   * named, or a directory email the operator allows for this service.
   */
  readonly approverEmail?: string;
  /**
   * Lower-cased emails of the named approvers from the platform directory, set at start.
   * Matched against whom the service says approved; never sent to a service or shown.
   */
  readonly approverEmails?: readonly string[];
  readonly agentId: string;
  readonly correlationId: string;
  readonly scopes: readonly string[];
  /** Epoch ms. */
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly expiresAt: number;
  readonly completedAt?: number;
  readonly approvalUrl?: string;
  /** Device-style code the approver types on the approval page (shown to approvers only). */
  readonly userCode?: string;
  /** Extra line for the approval message, from the protocol (e.g. "we emailed you"), as structure. */
  readonly note?: Sentence;
  /** What the approver sends back, once the login started. */
  readonly answer?: 'finish_code' | 'email_code' | 'page_code' | 'done';
  /** Wrong answers so far. */
  readonly attempts: number;
  readonly error?: HandoffError;
  readonly credentialId?: string;
  /** Background poll cadence in ms, when the protocol can poll. */
  readonly pollIntervalMs?: number;
  /** Next background poll, epoch ms. */
  readonly nextPollAt?: number;
  /**
   * Until when a person is likely acting on this login, epoch ms: the link was just posted,
   * or the platform says it was just opened. Background polls run at the protocol's interval
   * until then and back off after (backgroundPollDelay).
   */
  readonly activeUntil?: number;
  /** The protocol secret, sealed with the vault key (engine/login-secret.ts); never shown. */
  readonly sealedSecret?: string;
  /** Which worker job holds the claim while `claiming`. */
  readonly claimedBy?: string;
  /** The handoff this one re-opens (its credential expired or was rejected). */
  readonly previousHandoffId?: string;
  /** Answered at once by a standing grant (src/engine/standing-grant.ts): `credentialId` is that grant's. */
  readonly reused?: boolean;
  /** Times the protocol restarted the login with fresh instructions (claim expired…). */
  readonly restarts?: number;
  /**
   * When the service reported an approval the bridge could not tie to an approver, epoch ms.
   * Its result is held (sealed in `sealedHeld`) until an approver's word finishes it.
   */
  readonly serviceReadyAt?: number;
  /** The held login result, sealed with the vault key like `sealedSecret`; never shown. */
  readonly sealedHeld?: string;
  /** An approver whose "done" asked for the poll now due; it vouches for that poll's result. */
  readonly confirmedBy?: string;
  /** When `confirmedBy` said it, epoch ms; the word is good for `confirmWindowMs`. */
  readonly confirmedAt?: number;
  /**
   * Epoch ms before which nothing calls the service for this handoff: a rate limit's wait, a
   * retry's backoff, or a busy service's turn. The driver parks until then.
   */
  readonly notBefore?: number;
  /** Epoch ms by which the start must succeed (set when a first attempt failed); then the handoff fails. */
  readonly startDeadline?: number;
  /** Approvals only: what is asked, the quorum, who asks, what the expiry means. */
  readonly approval?: ApprovalSpec;
  /** Approvals only: the votes so far (written by src/store/approval-votes.ts alone). */
  readonly votes?: ApprovalVotes;
  /** Approvals only: the decision, once settled. */
  readonly decision?: ApprovalDecision;
  /**
   * Approvals only: the platform's id of the request message the bridge posted in the thread,
   * which is edited to show the votes and the outcome (src/engine/approval-edit.ts).
   */
  readonly requestMessage?: string;
  /** Reminders to the approvers while it waits (src/core/waiting.ts). */
  readonly remind?: ReminderPlan;
  /** When the next reminder is due, epoch ms. */
  readonly remindAt?: number;
  /** Reminders sent so far. */
  readonly reminded?: number;
  /** Warn the thread this long before the expiry, ms (set for handoffs of 30 minutes or more). */
  readonly warnBeforeMs?: number;
  /** The expiry the warning was given for (an extension moves the expiry, and warns again). */
  readonly warnedFor?: number;
  /** Who else is asked, and when, if nobody answers (in order of `afterMs`). */
  readonly escalate?: readonly EscalationStep[];
  /** Escalation steps taken so far. */
  readonly escalated?: number;
  /** When the service's own login link or code stops working, epoch ms: no extension goes past it. */
  readonly serviceExpiresAt?: number;
  /** Fresh links people asked for (a `new link` reply, a platform's "New link" button). */
  readonly freshLinks?: number;
  /**
   * When the link now shown was posted, epoch ms: set by every restart. A request for a fresh
   * link received before then was made of an earlier link and is already answered.
   */
  readonly linkSince?: number;
  /** Times the agent gave people more time (POST /v1/handoffs/:id/extend). */
  readonly extensions?: number;
}

/** How long an approver's "done" vouches for the poll it asked for, ms. */
export const confirmWindowMs = 2 * 60_000;

/** Fresh links people may ask for, per handoff (src/engine/fresh-link.ts). */
export const maxFreshLinks = 3;

/** Restarts allowed before the handoff fails with `too_many_restarts`. */
export const maxRestarts = 3;

/** What the driver job returns as its result (agents learn of endings from their feed). */
export interface HandoffOutcome {
  readonly handoffId: string;
  readonly status: TerminalStatus;
  readonly credentialId?: string;
  readonly error?: HandoffError;
}

export function outcomeOf(record: HandoffRecord): HandoffOutcome | undefined {
  if (!isTerminal(record.status)) return undefined;
  return {
    handoffId: record.id,
    status: record.status,
    ...(record.credentialId ? { credentialId: record.credentialId } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}

/** How long the driver waits before looking at a claim in progress again, ms. */
export const claimRecheckMs = 30_000;

/** The driver's next move for a record at time `now`. */
export type DriverStep =
  | { readonly kind: 'start' }
  | { readonly kind: 'expire' }
  | { readonly kind: 'poll' }
  /** A reminder or the expiry warning is due (src/core/waiting.ts). */
  | { readonly kind: 'timer'; readonly timer: WaitingTimerKind }
  | { readonly kind: 'wait'; readonly untilMs: number }
  | { readonly kind: 'finish'; readonly outcome: HandoffOutcome };

/** Decides what the handoff's driver job does next. */
export function nextDriverStep(record: HandoffRecord, now: number): DriverStep {
  const status = record.status;
  if (isTerminal(status)) return { kind: 'finish', outcome: outcomeOf(record)! };
  // A rate limit, backoff or busy service said "not before then": no service call until it passes.
  const notBefore = record.notBefore ?? 0;
  switch (status) {
    case 'pending':
      if (now >= record.expiresAt) return { kind: 'expire' };
      return now >= notBefore ? { kind: 'start' } : { kind: 'wait', untilMs: Math.min(record.expiresAt, notBefore) };
    case 'awaiting_human': {
      if (now >= record.expiresAt) return { kind: 'expire' };
      if (record.nextPollAt !== undefined && now >= record.nextPollAt && now >= notBefore) return { kind: 'poll' };
      // Timers only post in the thread: no service call, so `notBefore` does not hold them.
      const timer = nextWaitingTimer(record);
      if (timer && now >= timer.at) return { kind: 'timer', timer: timer.kind };
      const nextPoll =
        record.nextPollAt === undefined ? Number.POSITIVE_INFINITY : Math.max(record.nextPollAt, notBefore);
      return { kind: 'wait', untilMs: Math.min(record.expiresAt, nextPoll, timer?.at ?? Number.POSITIVE_INFINITY) };
    }
    case 'claiming':
      return { kind: 'wait', untilMs: now + claimRecheckMs };
    default:
      throw new Error(`unreachable status ${status satisfies never}`);
  }
}

/**
 * How long a person is taken to be acting on a login after its link is posted or opened, ms:
 * the minutes in which most approvals happen, polled at the protocol's own interval.
 */
export const personActiveWindowMs = 3 * 60_000;

/**
 * A person is likely acting again (the link opened, a reminder sent): a login the bridge polls
 * is polled at its interval for the next minutes, never sooner than one interval from now.
 * Nothing for a handoff that is not polled.
 */
export function pollingAgain(
  record: Pick<HandoffRecord, 'pollIntervalMs' | 'nextPollAt'>,
  now: number,
): Pick<HandoffRecord, 'nextPollAt' | 'activeUntil'> | undefined {
  if (record.nextPollAt === undefined || record.pollIntervalMs === undefined) return undefined;
  return {
    activeUntil: now + personActiveWindowMs,
    nextPollAt: Math.min(record.nextPollAt, now + record.pollIntervalMs),
  };
}

/** The polling fields of a login whose link is being posted now: polled at its interval for a while. */
export function pollingFrom(
  now: number,
  pollIntervalMs: number,
): Pick<HandoffRecord, 'pollIntervalMs' | 'nextPollAt' | 'activeUntil'> {
  return { pollIntervalMs, nextPollAt: now + pollIntervalMs, activeUntil: now + personActiveWindowMs };
}

/**
 * When to poll a waiting login again in the background, ms from now. The poll catches logins
 * approved at the service with nobody answering in the thread, so it is frequent while a
 * person is likely acting and rare after: the protocol's interval (never less) until
 * `activeUntil`, then a sixth of the handoff's age, at most `maxMs`. At a 2 s interval a
 * 30-minute handoff costs about 100 polls, most in its first 3 minutes (a CLI waiting at 2 s
 * makes 900); waiting handoffs are meant to cost Redis memory, not CPU.
 */
export function backgroundPollDelay(
  record: Pick<HandoffRecord, 'createdAt' | 'activeUntil'>,
  intervalMs: number,
  maxMs: number,
  now: number,
): number {
  if (now < (record.activeUntil ?? 0)) return intervalMs;
  const aged = Math.floor((now - record.createdAt) / 6);
  return Math.max(intervalMs, Math.min(aged, maxMs));
}
