import { join } from 'node:path';
import { benchPart, type BenchContext, type Check } from './bench-part.js';
import { deletePrefix } from './redis-tools.js';
import { round } from './stats.js';
import { table } from './table.js';
import { measureWaitingMemory, type MemoryResult } from './waiting-memory.js';

/** Redis bytes per waiting handoff must stay under this (issue #2). */
export const bytesTarget = 3 * 1024;
/**
 * "Flat": the second half of the waiting handoffs adds less than this fraction to VmRSS (the
 * first load after start raises the allocator's high-water mark once, whatever its size)...
 */
export const rssFlatFraction = 0.05;
/** ...and the JS heap after GC grows by less than this per handoff of the second half, bytes. */
export const heapPerHandoffLimit = 1024;

/** The bridge's CPU over a quiet minute with every handoff waiting, % of one core (issue #16). */
export const idleCpuTarget = 2;

/** Flags shared by the parts that park many handoffs on a bridge process (memory, timers). */
export const waitingFlags = {
  'mem-warmup': '500',
  'settle-ms': '2000',
  'idle-seconds': '60',
  'mem-agents': '8',
  'mem-parallel': '96',
  'service-concurrency': '16',
};

/** measureWaitingMemory()'s options from those flags. */
export function waitingOptions(ctx: BenchContext, prefix: string) {
  return {
    redis: ctx.redis,
    redisUrl: ctx.redisUrl,
    prefix,
    warmup: ctx.int('mem-warmup'),
    settleMs: ctx.int('settle-ms'),
    idleSeconds: ctx.int('idle-seconds'),
    agents: ctx.int('mem-agents'),
    parallel: ctx.int('mem-parallel'),
    // The operator's setting for a service it trusts to take more logins at once (the default, 4,
    // protects workers from a slow or hanging service; the sandbox is neither).
    env: { HANDOFF_SERVICE_CONCURRENCY: String(ctx.int('service-concurrency')) },
    logFile: join(ctx.logDir, `${prefix}-bridge.log`),
    progress: ctx.progress,
  };
}

/** Redis bytes per waiting handoff by both measures, everything counted (the local threads' lists too). */
export function byteRows(memory: MemoryResult, what: string): Check[] {
  const r = memory.redis;
  return [
    {
      figure: `Redis bytes per waiting handoff${what} (MEMORY USAGE, n=${memory.waiting})`,
      measured: `${Math.round(r.bytesPerHandoff)} B`,
      target: `≤ ${bytesTarget} B`,
      pass: r.bytesPerHandoff <= bytesTarget,
    },
    {
      figure: '  same, INFO used_memory delta',
      measured: `${Math.round(r.usedMemoryPerHandoff)} B`,
      target: `≤ ${bytesTarget} B`,
      pass: r.usedMemoryPerHandoff <= bytesTarget,
    },
    {
      figure: '  same, without local-thread message lists (MEMORY USAGE)',
      measured: `${Math.round(r.bytesPerHandoffWithoutLocalThreads)} B`,
      target: '',
      pass: undefined,
    },
  ];
}

/** The MEMORY USAGE delta per handoff by kind of key, largest first. */
export function byKeyTable(memory: MemoryResult): string {
  const kinds = Object.entries(memory.redis.byKind).sort((a, b) => b[1].bytesPerHandoff - a[1].bytesPerHandoff);
  const lines = [
    `Redis bytes per waiting handoff, by key (MEMORY USAGE delta / ${memory.waiting}):`,
    table([
      ['Key', 'Keys/handoff', 'Bytes/handoff'],
      ...kinds.map(([kind, v]) => [kind, String(round(v.keysPerHandoff, 3)), String(Math.round(v.bytesPerHandoff))]),
    ]),
  ];
  if (memory.redis.foreignKeysChanged > 0) {
    lines.push(
      `note: other clients changed ${memory.redis.foreignKeysChanged} keys meanwhile; the used_memory figure includes their writes.`,
    );
  }
  return lines.join('\n');
}

/** Rows every waiting part reports: how fast they were parked, and the bridge's CPU at rest. */
export function waitingRows(memory: MemoryResult): Check[] {
  const { idleCpu, load } = memory;
  const ended = Object.entries(memory.ended);
  return [
    {
      figure: '  handoffs created / ended instead of waiting (not counted as waiting)',
      measured: `${memory.created} / ${ended.length ? ended.map(([why, n]) => `${n} ${why}`).join(', ') : 0}`,
      target: '',
      pass: undefined,
    },
    {
      figure: `  time to park ${memory.waiting} handoffs via POST /v1/handoffs (${load.agents} agents, ${load.parallel} in flight, service concurrency ${load.env.HANDOFF_SERVICE_CONCURRENCY ?? 4})`,
      measured: `${round(memory.createMs / 1000)} s (${Math.round((memory.waiting * 1000) / memory.createMs)} /s)`,
      target: '',
      pass: undefined,
    },
    {
      figure: `bridge CPU at rest, ${memory.waiting} waiting (${idleCpu.seconds} s, /proc utime+stime)`,
      measured: `${round(idleCpu.percentOfCore, 2)} % of a core (${Math.round(idleCpu.cpuMs)} ms)`,
      target: `≤ ${idleCpuTarget} %`,
      pass: idleCpu.percentOfCore <= idleCpuTarget,
    },
  ];
}

const mb = (bytes: number) => `${round(bytes / 2 ** 20, 1)} MB`;
const signed = (bytes: number) => `${bytes >= 0 ? '+' : ''}${mb(bytes)}`;

export const memoryPart = benchPart<MemoryResult>({
  name: 'memory',
  title: 'waiting handoffs on a bridge process of its own (Redis bytes, RSS)',
  flags: { waiting: '10000', ...waitingFlags },
  async run(ctx) {
    const prefix = ctx.track(`${ctx.base}-wait`);
    try {
      return await measureWaitingMemory({ ...waitingOptions(ctx, prefix), waiting: ctx.int('waiting') });
    } finally {
      await deletePrefix(ctx.redis, prefix);
    }
  },
  checks(memory) {
    const { idle, halfway, loaded } = memory.bridge;
    const half = Math.floor(memory.waiting / 2);
    const secondHalf = loaded.vmRss - halfway.vmRss;
    const heapPerHandoff = (loaded.heapUsed - halfway.heapUsed) / (memory.waiting - half);
    return [
      ...byteRows(memory, ''),
      ...waitingRows(memory),
      { figure: 'bridge VmRSS, 0 waiting (after warm-up)', measured: mb(idle.vmRss), target: '', pass: undefined },
      {
        figure: `bridge VmRSS, ${half} waiting`,
        measured: `${mb(halfway.vmRss)} (${signed(halfway.vmRss - idle.vmRss)})`,
        target: '',
        pass: undefined,
      },
      {
        figure: `bridge VmRSS, ${memory.waiting} waiting`,
        measured: `${mb(loaded.vmRss)} (${signed(secondHalf)} for the 2nd half)`,
        target: `flat: 2nd half < +${rssFlatFraction * 100}%`,
        pass: secondHalf < halfway.vmRss * rssFlatFraction,
      },
      {
        figure: `  JS heap after GC, 0 → ${half} → ${memory.waiting} waiting`,
        measured: `${mb(idle.heapUsed)} → ${mb(halfway.heapUsed)} → ${mb(loaded.heapUsed)} (${Math.round(heapPerHandoff)} B/handoff in the 2nd half)`,
        target: `2nd half < ${heapPerHandoffLimit} B/handoff`,
        pass: heapPerHandoff < heapPerHandoffLimit,
      },
    ];
  },
  details: byKeyTable,
});
