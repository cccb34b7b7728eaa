import type { Redis } from '../src/store/redis.js';
import { startChildBridge, startSandboxProcess, type ChildMemory } from './child-bridge.js';
import { foreignKeyCount, prefixMemory, usedMemory, type PrefixMemory } from './redis-tools.js';
import { createWaiting } from './waiting-load.js';
import type { HandoffRequestInput } from '../src/core/wire.js';
import { queueKey } from '../src/queue/queue-names.js';

/**
 * Figures 3 and 4, on a bridge running as its own process: Redis bytes per waiting handoff
 * and the bridge's RSS, measured idle (warmed up, 0 waiting), for RSS also at half the count,
 * and with `waiting` handoffs waiting.
 */
export interface MemoryResult {
  /** Handoffs awaiting a human when measured (bytes are divided by this). */
  readonly waiting: number;
  /** Handoffs created; those that ended instead of waiting, by status and error code. */
  readonly created: number;
  readonly ended: Record<string, number>;
  readonly createMs: number;
  readonly redis: {
    /** MEMORY USAGE summed over the bench prefix, delta / waiting. */
    readonly bytesPerHandoff: number;
    /** Same, without the local threads' message lists (a chat platform keeps those, not Redis). */
    readonly bytesPerHandoffWithoutLocalThreads: number;
    /** INFO memory used_memory, delta / waiting. */
    readonly usedMemoryPerHandoff: number;
    readonly keysPerHandoff: number;
    /** Keys of others changed during the measurement: used_memory is then less reliable. */
    readonly foreignKeysChanged: number;
    readonly byKind: Record<string, { keysPerHandoff: number; bytesPerHandoff: number }>;
  };
  readonly bridge: { readonly idle: ChildMemory; readonly halfway: ChildMemory; readonly loaded: ChildMemory };
  /** The bridge's CPU over a quiet window with every handoff waiting (nothing sent, nothing due). */
  readonly idleCpu: { readonly seconds: number; readonly cpuMs: number; readonly percentOfCore: number };
  /** How the handoffs were created: agents, requests in flight, and settings the bridge ran with. */
  readonly load: { readonly agents: number; readonly parallel: number; readonly env: Record<string, string> };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Snapshot {
  readonly used: number;
  readonly ours: PrefixMemory;
  readonly foreign: number;
  readonly bridge: ChildMemory;
}

export async function measureWaitingMemory(options: {
  redis: Redis;
  redisUrl: string;
  prefix: string;
  waiting: number;
  warmup: number;
  logFile: string;
  settleMs?: number;
  /** More request fields for every handoff measured (the timers part's reminders and escalation). */
  extra?: Partial<HandoffRequestInput>;
  /** Agents the handoffs are spread over (1), and requests in flight (48). */
  agents?: number;
  parallel?: number;
  /** Settings for the bridge process on top of the bench's (bench/inproc-bridge.ts). */
  env?: Record<string, string>;
  /** Length of the quiet window over which the bridge's CPU is read, s (60). */
  idleSeconds?: number;
  progress?: (msg: string) => void;
}): Promise<MemoryResult> {
  const { redis, prefix, waiting } = options;
  const settle = () => sleep(options.settleMs ?? 2_000);
  const progress = options.progress ?? (() => undefined);
  const env = options.env ?? {};
  // The service in a process of its own: the bench's clients must not starve it into timeouts.
  const sandbox = await startSandboxProcess();
  const serviceUrl = sandbox.serviceUrl;
  const bridge = await startChildBridge({ prefix, redisUrl: options.redisUrl, logFile: options.logFile, env });
  const load = { agents: options.agents ?? 1, parallel: options.parallel ?? 48 };
  const snapshot = async (): Promise<Snapshot> => {
    const bridgeMemory = await bridge.memory();
    return {
      used: await usedMemory(redis),
      ours: await prefixMemory(redis, prefix),
      foreign: await foreignKeyCount(redis, prefix),
      bridge: bridgeMemory,
    };
  };
  try {
    // Warm up (code paths compiled, pools filled), then end those handoffs: 0 waiting.
    const warm = await createWaiting({
      client: bridge.client,
      redis,
      prefix,
      serviceUrl,
      count: options.warmup,
      label: 'warm',
      ...load,
    });
    for (const id of warm.ids) await bridge.client.cancelHandoff(id);
    while ((await redis.zcard(queueKey(`${prefix}:q`, 'handoffs', 'delayed'))) > 0) await sleep(100);
    await settle();
    const before = await snapshot();

    // In steps, so the bridge's memory is also seen half-way: growth that stops is a
    // high-water mark of the work done, growth that goes on is state held per handoff.
    const half = Math.floor(waiting / 2);
    const first = await createWaiting({
      client: bridge.client,
      redis,
      prefix,
      serviceUrl,
      count: half,
      label: 'wait',
      ...load,
      ...(options.extra ? { extra: options.extra } : {}),
    });
    await settle();
    const halfway = await bridge.memory();
    progress(
      `${first.waiting} waiting after ${Math.round(first.ms / 1000)} s; bridge VmRSS ${Math.round(halfway.vmRss / 2 ** 20)} MB`,
    );
    const second = await createWaiting({
      client: bridge.client,
      redis,
      prefix,
      serviceUrl,
      count: waiting - half,
      label: 'wait2',
      already: first.waiting,
      ...load,
      ...(options.extra ? { extra: options.extra } : {}),
    });
    await settle();
    const after = await snapshot();
    // Divided by the handoffs actually waiting: one whose start failed (the service timed out
    // under load) is reported apart, its ended record still counted in the bytes.
    const measured = first.waiting + second.waiting;
    const ended: Record<string, number> = { ...first.ended };
    for (const [key, n] of Object.entries(second.ended)) ended[key] = (ended[key] ?? 0) + n;
    progress(
      `${measured} waiting after ${Math.round((first.ms + second.ms) / 1000)} s; reading the bridge's CPU at rest`,
    );

    // Nothing is sent and nothing falls due (the first reminder or poll is minutes away): what
    // the bridge spends to keep them all waiting.
    const idleSeconds = options.idleSeconds ?? 60;
    const cpuBefore = await bridge.cpuMs();
    await sleep(idleSeconds * 1000);
    const cpuMs = (await bridge.cpuMs()) - cpuBefore;

    const kinds = new Set([...Object.keys(before.ours.byKind), ...Object.keys(after.ours.byKind)]);
    const byKind: MemoryResult['redis']['byKind'] = {};
    for (const kind of [...kinds].sort()) {
      const a = after.ours.byKind[kind] ?? { keys: 0, bytes: 0 };
      const b = before.ours.byKind[kind] ?? { keys: 0, bytes: 0 };
      if (a.bytes === b.bytes && a.keys === b.keys) continue;
      byKind[kind] = { keysPerHandoff: (a.keys - b.keys) / measured, bytesPerHandoff: (a.bytes - b.bytes) / measured };
    }
    const localThreads = byKind['local:thread:<name>']?.bytesPerHandoff ?? 0;
    const bytesPerHandoff = (after.ours.bytes - before.ours.bytes) / measured;
    return {
      waiting: measured,
      created: waiting,
      ended,
      createMs: first.ms + second.ms,
      redis: {
        bytesPerHandoff,
        bytesPerHandoffWithoutLocalThreads: bytesPerHandoff - localThreads,
        usedMemoryPerHandoff: (after.used - before.used) / measured,
        keysPerHandoff: (after.ours.keys - before.ours.keys) / measured,
        foreignKeysChanged: Math.abs(after.foreign - before.foreign),
        byKind,
      },
      bridge: { idle: before.bridge, halfway, loaded: after.bridge },
      idleCpu: { seconds: idleSeconds, cpuMs, percentOfCore: (cpuMs / (idleSeconds * 1000)) * 100 },
      load: { ...load, env },
    };
  } finally {
    await bridge.stop();
    await sandbox.stop();
  }
}
