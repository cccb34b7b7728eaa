import type { HandoffRecord } from '../core/handoff.js';
import { defaultReminderMax } from '../core/waiting.js';
import type { ReminderInput } from '../core/wire.js';
import type { EngineDeps } from './engine-deps.js';

type WaitingFields = Pick<HandoffRecord, 'remind' | 'remindAt' | 'warnBeforeMs'>;

/**
 * The timers a new handoff starts with (issue #14): the request's reminders, else the bridge's
 * default (HANDOFF_REMIND_AFTER_MS, if set); and the expiry warning when one is configured.
 * Only what is on is stored: a handoff without timers costs no byte more.
 */
export function waitingPlanFor(
  deps: Pick<EngineDeps, 'policy'>,
  requested: ReminderInput | undefined,
  createdAt: number,
): WaitingFields {
  const fallback = deps.policy.remindAfterMs;
  const asked = requested ?? (fallback !== undefined ? { afterMs: fallback } : undefined);
  const max = asked?.max ?? defaultReminderMax;
  const remind =
    asked && max > 0 ? { afterMs: asked.afterMs, everyMs: asked.everyMs ?? asked.afterMs, max } : undefined;
  const warning = deps.policy.expiryWarningMs ?? 0;
  return {
    ...(remind ? { remind, remindAt: createdAt + remind.afterMs } : {}),
    ...(warning > 0 ? { warnBeforeMs: warning } : {}),
  };
}
