import { z } from 'zod';
import { nonNegativeMs } from './config-fields.js';
import { minReminderMs } from './waiting.js';

/**
 * Variables of the configuration schema for handoffs that wait (issue #14), merged into the one
 * schema in config.ts: the bridge's default reminder, and the warning before an expiry.
 */
const reminderMessage = `must be a whole number of milliseconds, at least ${minReminderMs} (a minute)`;

export const waitingEnv = {
  /** Remind approvers this long after a request, then as often again (at most 3 times); unset: no default reminders. */
  HANDOFF_REMIND_AFTER_MS: z.coerce
    .number({ error: reminderMessage })
    .int(reminderMessage)
    .min(minReminderMs, reminderMessage)
    .optional(),
  /** Warn the thread this long before a handoff of 30 minutes or more expires; 0 = never. */
  HANDOFF_EXPIRY_WARNING_MS: nonNegativeMs.default(5 * 60_000),
};

export interface WaitingConfig {
  /** Reminder for requests that name none, ms after the request and between reminders; undefined: none. */
  readonly remindAfterMs: number | undefined;
  /** Warning before the expiry of handoffs of 30 minutes or more, ms (5 min; 0 = none). */
  readonly expiryWarningMs: number;
}

export function waitingConfigFrom(e: {
  HANDOFF_REMIND_AFTER_MS?: number | undefined;
  HANDOFF_EXPIRY_WARNING_MS: number;
}): WaitingConfig {
  return { remindAfterMs: e.HANDOFF_REMIND_AFTER_MS, expiryWarningMs: e.HANDOFF_EXPIRY_WARNING_MS };
}
