import type { EscalationStep, ReminderPlan } from '../core/waiting.js';

/**
 * The waiting timers' fields as the record stores them (issue #14 item 8): a handoff with
 * reminders and escalation must still fit the record's allocator size class. Plans are stored
 * as arrays rather than objects with their field names, and the first reminder's moment is left
 * out while it is the plan's own (`createdAt + afterMs`), since decoding restores it. Records
 * that hold the object forms (written before) still read. Lua scripts copy these values as they
 * are: cjson gives a non-empty array back as an array.
 */

/** `[afterMs, everyMs, max]`. */
type StoredReminder = [number, number, number];
/** `[afterMs, approvers]` or `[afterMs, approvers, thread]`. */
type StoredStep = [number, readonly string[]] | [number, readonly string[], string];

type Fields = Record<string, unknown>;

export const packReminder = (plan: ReminderPlan): StoredReminder => [plan.afterMs, plan.everyMs, plan.max];

export const packSteps = (steps: readonly EscalationStep[]): StoredStep[] =>
  steps.map((s) => (s.thread === undefined ? [s.afterMs, s.approvers] : [s.afterMs, s.approvers, s.thread]));

/** The record's timer fields in their stored form; `fields` is changed in place. */
export function packWaiting(fields: Fields): void {
  const plan = fields.remind as ReminderPlan | undefined;
  if (plan) {
    // While no reminder has gone, the first is due when the plan says: decodeRecord() knows that.
    if (!fields.reminded && fields.remindAt === (fields.createdAt as number) + plan.afterMs) delete fields.remindAt;
    fields.remind = packReminder(plan);
  }
  if (Array.isArray(fields.escalate)) fields.escalate = packSteps(fields.escalate as EscalationStep[]);
}

/** A patch's timer values in their stored form (a patch carries no `createdAt`: `remindAt` stays). */
export function packWaitingValue(field: string, value: unknown): unknown {
  if (field === 'remind' && typeof value === 'object' && value !== null) return packReminder(value as ReminderPlan);
  if (field === 'escalate' && Array.isArray(value)) return packSteps(value as EscalationStep[]);
  return value;
}

/** Back to the record's forms; `record` (with the record's field names) is changed in place. */
export function unpackWaiting(record: Fields): void {
  const remind = record.remind;
  if (Array.isArray(remind)) {
    const [afterMs, everyMs, max] = remind as number[];
    record.remind = { afterMs, everyMs, max };
  }
  const plan = record.remind as ReminderPlan | undefined;
  if (plan && record.remindAt === undefined && !record.reminded && typeof record.createdAt === 'number')
    record.remindAt = record.createdAt + plan.afterMs;
  if (Array.isArray(record.escalate)) record.escalate = record.escalate.map(unpackStep);
}

function unpackStep(step: unknown): unknown {
  if (!Array.isArray(step)) return step; // the object form
  const [afterMs, approvers, thread] = step as [number, unknown, unknown];
  // Lua's cjson writes an empty list as `{}`.
  const people = Array.isArray(approvers) ? (approvers as string[]) : [];
  return typeof thread === 'string' ? { afterMs, approvers: people, thread } : { afterMs, approvers: people };
}
