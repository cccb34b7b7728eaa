import type { HandoffRecord } from './handoff.js';

/**
 * Timers of a waiting handoff (issue #14): reminders, the expiry warning, escalation steps. No
 * timer has a job or a key of its own: each is a moment computed from the record, and the
 * handoff's driver job (a BullMQ delayed job) parks until the earliest of them, its poll and its
 * expiry. So they survive restarts with the driver and cost only the record's few fields.
 * Pure: no I/O, no clock of its own.
 */

/** `remind` as stored: the first reminder `afterMs` after creation, then every `everyMs`, at most `max`. */
export interface ReminderPlan {
  readonly afterMs: number;
  readonly everyMs: number;
  readonly max: number;
}

/** One escalation step as stored: `approvers` (handles as asked) join after `afterMs`; `thread` (canonical) is told too. */
export interface EscalationStep {
  readonly afterMs: number;
  readonly approvers: readonly string[];
  readonly thread?: string;
}

/** Most escalation steps a request may have. */
export const maxEscalationSteps = 3;

/** Reminders a request gets when it names no `max`. */
export const defaultReminderMax = 3;
/** Most reminders a request may ask for. */
export const maxReminders = 10;
/** Shortest delay before a reminder or between two, ms (a minute): a thread is not a pager. */
export const minReminderMs = 60_000;
/** Handoffs shorter than this get no expiry warning, ms (30 min). */
export const expiryWarningMinLifetimeMs = 30 * 60_000;

export type WaitingTimerKind = 'remind' | 'warn' | 'escalate';

export interface WaitingTimer {
  readonly kind: WaitingTimerKind;
  /** Epoch ms. */
  readonly at: number;
}

type TimerFields = Pick<
  HandoffRecord,
  | 'status'
  | 'createdAt'
  | 'expiresAt'
  | 'remind'
  | 'remindAt'
  | 'reminded'
  | 'warnBeforeMs'
  | 'warnedFor'
  | 'escalate'
  | 'escalated'
>;

/** The next reminder, while there is one left to send before the expiry. */
export function nextReminder(record: TimerFields): WaitingTimer | undefined {
  const plan = record.remind;
  if (!plan || record.remindAt === undefined || (record.reminded ?? 0) >= plan.max) return undefined;
  return record.remindAt < record.expiresAt ? { kind: 'remind', at: record.remindAt } : undefined;
}

/**
 * The expiry warning for the current expiry, for a handoff living 30 minutes or more (a
 * service's shorter link can shorten it), unless it was given: an extension moves the expiry
 * and warns again.
 */
export function nextExpiryWarning(record: TimerFields): WaitingTimer | undefined {
  if (!record.warnBeforeMs || record.warnedFor === record.expiresAt) return undefined;
  if (record.expiresAt - record.createdAt < expiryWarningMinLifetimeMs) return undefined;
  return { kind: 'warn', at: record.expiresAt - record.warnBeforeMs };
}

/** The next escalation step (steps are stored in order of `afterMs`), while it comes before the expiry. */
export function nextEscalation(record: TimerFields): WaitingTimer | undefined {
  const step = record.escalate?.[record.escalated ?? 0];
  if (!step) return undefined;
  const at = record.createdAt + step.afterMs;
  return at < record.expiresAt ? { kind: 'escalate', at } : undefined;
}

/** The earliest timer still to fire: only a handoff awaiting a person has any. */
export function nextWaitingTimer(record: TimerFields): WaitingTimer | undefined {
  if (record.status !== 'awaiting_human') return undefined;
  const timers = [nextEscalation(record), nextReminder(record), nextExpiryWarning(record)].filter(
    (t): t is WaitingTimer => t !== undefined,
  );
  return timers.sort((a, b) => a.at - b.at)[0];
}
