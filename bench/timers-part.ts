import { join } from 'node:path';
import type { HandoffRequestInput } from '../src/core/wire.js';
import { benchPart } from './bench-part.js';
import { bytesTarget } from './memory-part.js';
import { deletePrefix } from './redis-tools.js';
import { round } from './stats.js';
import { table } from './table.js';
import { measureWaitingMemory, type MemoryResult } from './waiting-memory.js';

/**
 * Issue #14, item 8: waiting handoffs that carry reminders, an escalation step and the expiry
 * warning still cost under 3 KB of Redis each. Their timers are moments on the record, not jobs
 * or keys of their own, so the difference from the `memory` part is the few fields they add.
 */
export const timersRequest: Partial<HandoffRequestInput> = {
  remind: { afterMs: 10 * 60_000, everyMs: 15 * 60_000, max: 3 },
  escalate: [{ afterMs: 20 * 60_000, approvers: ['oncall-ann', 'oncall-ben'], thread: 'local:oncall' }],
};

export const timersPart = benchPart<MemoryResult>({
  name: 'timers',
  title: 'waiting handoffs with reminders and escalation (Redis bytes)',
  flags: { 'timers-waiting': '10000' },
  async run(ctx) {
    const prefix = ctx.track(`${ctx.base}-timers`);
    try {
      return await measureWaitingMemory({
        redis: ctx.redis,
        redisUrl: ctx.redisUrl,
        prefix,
        serviceUrl: ctx.serviceUrl,
        waiting: ctx.int('timers-waiting'),
        warmup: ctx.int('mem-warmup'),
        settleMs: ctx.int('settle-ms'),
        logFile: join(ctx.logDir, `${prefix}-bridge.log`),
        extra: timersRequest,
      });
    } finally {
      await deletePrefix(ctx.redis, prefix);
    }
  },
  checks(memory) {
    const r = memory.redis;
    // The target is held against the bridge's own state: the local threads' message lists are
    // the stand-in chat platform's (Slack, GitHub and Linear keep their messages themselves),
    // and they are shown apart, as the memory part does.
    return [
      {
        figure: `Redis bytes per waiting handoff with reminders + escalation, without local-thread message lists (n=${memory.waiting})`,
        measured: `${Math.round(r.bytesPerHandoffWithoutLocalThreads)} B`,
        target: `< ${bytesTarget} B`,
        pass: r.bytesPerHandoffWithoutLocalThreads < bytesTarget,
      },
      {
        figure: '  same, with them (MEMORY USAGE)',
        measured: `${Math.round(r.bytesPerHandoff)} B`,
        target: '',
        pass: undefined,
      },
      {
        figure: '  same, INFO used_memory delta',
        measured: `${Math.round(r.usedMemoryPerHandoff)} B`,
        target: '',
        pass: undefined,
      },
    ];
  },
  details(memory) {
    const kinds = Object.entries(memory.redis.byKind).sort((a, b) => b[1].bytesPerHandoff - a[1].bytesPerHandoff);
    return [
      `By key (MEMORY USAGE delta / ${memory.waiting}):`,
      table([
        ['Key', 'Keys/handoff', 'Bytes/handoff'],
        ...kinds.map(([kind, v]) => [kind, String(round(v.keysPerHandoff, 3)), String(Math.round(v.bytesPerHandoff))]),
      ]),
    ].join('\n');
  },
});
