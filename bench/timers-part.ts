import type { HandoffRequestInput } from '../src/core/wire.js';
import { benchPart } from './bench-part.js';
import { byKeyTable, byteRows, waitingFlags, waitingOptions, waitingRows } from './memory-part.js';
import { deletePrefix } from './redis-tools.js';
import { measureWaitingMemory, type MemoryResult } from './waiting-memory.js';

/**
 * Issue #14, item 8: waiting handoffs that carry reminders, an escalation step and the expiry
 * warning still cost under 3 KB of Redis each. Their timers are moments on the record, not jobs
 * or keys of their own, so the difference from the `memory` part is the few fields they add.
 */
// Due after the measurement (a count of 100,000 takes half an hour to park on a loaded machine)
// and before the handoffs' 3-hour expiry, whose warning comes 5 minutes before it.
export const timersRequest: Partial<HandoffRequestInput> = {
  remind: { afterMs: 2 * 3_600_000, everyMs: 15 * 60_000, max: 3 },
  escalate: [{ afterMs: 2.5 * 3_600_000, approvers: ['oncall-ann', 'oncall-ben'], thread: 'local:oncall' }],
};

export const timersPart = benchPart<MemoryResult>({
  name: 'timers',
  title: 'waiting handoffs with reminders and escalation (Redis bytes)',
  flags: { 'timers-waiting': '10000', ...waitingFlags },
  async run(ctx) {
    const prefix = ctx.track(`${ctx.base}-timers`);
    try {
      return await measureWaitingMemory({
        ...waitingOptions(ctx, prefix),
        waiting: ctx.int('timers-waiting'),
        extra: timersRequest,
      });
    } finally {
      await deletePrefix(ctx.redis, prefix);
    }
  },
  checks: (memory) => [...byteRows(memory, ' with reminders + escalation'), ...waitingRows(memory)],
  details: byKeyTable,
});
