import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { Sandbox } from '../src/sandbox/index.js';
import { createKeys } from '../src/store/keys.js';
import { startAgentRedis } from './agent-redis.js';
import { cpuMs, startChildBridge, type ChildBridge } from './child-bridge.js';
import { allCpus, pin, pinLayout } from './cpu-pinning.js';
import { cpuWindow } from './cpu-window.js';
import type { LoadResult } from './process-load.js';

/**
 * The bridge as several processes on one Redis (issue #16 items 4 and 7): `servers`
 * `HANDOFF_ROLE=server` and `workers` `HANDOFF_ROLE=worker` processes of `handoff serve`, the
 * load (agent and humans) in a process of its own (bench/process-load.ts), the sandbox service
 * in the bench process. The bridge's Redis and the agent's are two redis-servers of their own,
 * so `INFO commandstats` counts the bridge's commands only. With `killAt` one worker is
 * SIGKILLed while that batch's replies are being handled.
 */
export interface MultiProcessRun {
  /** True when the bridge and its Redis ran pinned to CPUs of their own, the load and the service to others. */
  readonly pinned: boolean;
  /** How many CPUs the bridge had when pinned (bench/cpu-pinning.ts `pinLayout`). */
  readonly bridgeCpus: number;
  readonly servers: number;
  readonly workers: number;
  readonly count: number;
  readonly load: LoadResult;
  /** Completions / the sum of the batches' reply → last resume times. */
  readonly perSecond: number;
  /** Bridge Redis commands per handoff over its whole life (create → resumed), by command. */
  readonly commands: CommandCounts;
  /** The same over the replies alone (reply sent → agent resumed): per completion. */
  readonly replyCommands: CommandCounts;
  /** Endings per handoff in the audit: how many handoffs had one, two or more, none. */
  readonly audit: { readonly once: number; readonly twice: number; readonly missing: number };
  /** Token exchanges at the service for this run's logins: total and the most for one login. */
  readonly exchanges: { readonly total: number; readonly maxPerLogin: number };
  readonly killed: boolean;
  /**
   * CPU time per completion over the reply phases (reply sent → agent resumed), ms: the
   * bridge's redis-server, its processes (together and each), the load process (agent and
   * humans) and this process (the sandbox service).
   */
  readonly cpuPerCompletion: {
    readonly redis: number;
    readonly bridge: number;
    readonly byProcess: number[];
    readonly load: number;
    readonly sandbox: number;
  };
  /** CPU time per handoff over the whole run (create → resumed), ms. */
  readonly cpuPerHandoff: { readonly redis: number; readonly bridge: number };
}

export interface CommandCounts {
  readonly total: number;
  readonly byCommand: Record<string, number>;
}

/** Per-handoff command counts from `INFO commandstats` deltas (INFO itself left out). */
function perHandoff(deltas: Map<string, number>, count: number): CommandCounts {
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [name, delta] of deltas) {
    if (delta <= 0 || name === 'info') continue;
    byCommand[name] = Math.round((delta / count) * 10) / 10;
    total += delta;
  }
  return { total: Math.round((total / count) * 10) / 10, byCommand };
}

function addDelta(into: Map<string, number>, before: Map<string, number>, after: Map<string, number>): void {
  for (const [name, calls] of after) into.set(name, (into.get(name) ?? 0) + calls - (before.get(name) ?? 0));
}

const root = fileURLToPath(new URL('..', import.meta.url));
// A killed worker's jobs run again within about twice this.
const jobLockMs = 5_000;

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
  return calls;
}

/** The bridge's redis-server CPU time so far (`INFO cpu`: used_cpu_sys + used_cpu_user), ms. */
async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (field('used_cpu_sys') + field('used_cpu_user')) * 1000;
}

/** Every bridge process's CPU time so far, ms (a killed one is left out). */
async function bridgeCpuMs(processes: readonly ChildBridge[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  await Promise.all(
    processes.map((p) =>
      p.cpuMs().then(
        (ms) => out.set(p.pid, ms),
        () => undefined,
      ),
    ),
  );
  return out;
}

interface CpuSnapshot {
  readonly redis: number;
  readonly bridge: Map<number, number>;
  readonly load: number;
  readonly sandbox: number;
}

const selfCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const cpuSnapshot = async (
  redis: Redis,
  processes: readonly ChildBridge[],
  loadPid?: number,
): Promise<CpuSnapshot> => ({
  redis: await redisCpuMs(redis),
  bridge: await bridgeCpuMs(processes),
  load: loadPid === undefined ? 0 : await cpuMs(loadPid).catch(() => 0),
  sandbox: selfCpuMs(),
});

interface CpuTotals {
  redis: number;
  bridge: Map<number, number>;
  load: number;
  sandbox: number;
}

const cpuTotals = (): CpuTotals => ({ redis: 0, bridge: new Map(), load: 0, sandbox: 0 });

/** Adds after − before into `into`: Redis, the load, this process, and each bridge process present in both. */
function addCpu(into: CpuTotals, before: CpuSnapshot, after: CpuSnapshot): void {
  into.redis += after.redis - before.redis;
  into.load += after.load - before.load;
  into.sandbox += after.sandbox - before.sandbox;
  for (const [pid, ms] of after.bridge) {
    const from = before.bridge.get(pid);
    if (from !== undefined) into.bridge.set(pid, (into.bridge.get(pid) ?? 0) + ms - from);
  }
}

const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const per = (ms: number, n: number) => Math.round((ms / n) * 1000) / 1000;

/**
 * With BENCH_MONITOR=<file>: every command Redis runs during the reply phases, one line each
 * (MONITOR slows Redis down: for breaking the commands down, not for rates).
 */
async function startMonitor(redis: Redis, file: string) {
  const { createWriteStream } = await import('node:fs');
  const out = createWriteStream(file);
  const monitor = await redis.duplicate().monitor();
  let recording = false;
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (recording) out.write(`${args.map((a) => (a.length > 80 ? `${a.slice(0, 80)}…` : a)).join(' ')}\n`);
  });
  return {
    set(on: boolean) {
      recording = on;
    },
    async stop() {
      monitor.disconnect();
      await new Promise<void>((resolve) => out.end(() => resolve()));
    },
  };
}

async function auditEndings(redis: Redis, prefix: string, ids: readonly string[]) {
  const endings = new Map<string, number>();
  let from = '-';
  for (;;) {
    const rows = await redis.xrange(createKeys(prefix).audit(), from, '+', 'COUNT', 5_000);
    for (const [, f] of rows) {
      const event = f[f.indexOf('event') + 1];
      if (event !== 'handoff.completed' && event !== 'handoff.failed') continue;
      const id = f[f.indexOf('handoffId') + 1]!;
      endings.set(id, (endings.get(id) ?? 0) + 1);
    }
    if (rows.length < 5_000) break;
    from = `(${rows.at(-1)![0]}`;
  }
  const n = (id: string) => endings.get(id) ?? 0;
  return {
    once: ids.filter((id) => n(id) === 1).length,
    twice: ids.filter((id) => n(id) > 1).length,
    missing: ids.filter((id) => n(id) === 0).length,
  };
}

export async function runMultiProcess(options: {
  servers: number;
  workers: number;
  count: number;
  batch: number;
  killAt?: number;
  serviceUrl: string;
  sandbox: Sandbox;
  logDir: string;
  prefix: string;
  /** Node flags for every bridge process (`--cpu-prof --cpu-prof-dir …`). */
  nodeArgs?: readonly string[];
  /**
   * Pin the bridge's processes and its redis-server to CPUs of their own, and the load process,
   * the agent's redis-server and this process (the service) to the others (bench/cpu-pinning.ts
   * `pinLayout`: CPU 1 and CPU 0 on two CPUs; CPUs 0–1 and the rest on more).
   */
  pinned?: boolean;
  progress(msg: string): void;
}): Promise<MultiProcessRun> {
  const bridgeRedis = await startAgentRedis();
  const agentRedis = await startAgentRedis();
  const pinned = options.pinned === true;
  const layout = pinLayout();
  const bridgeCpu = layout.bridge;
  const loadCpu = layout.load;
  if (pinned) {
    pin(bridgeRedis.pid, bridgeCpu);
    pin(agentRedis.pid, loadCpu);
    pin(process.pid, loadCpu);
  }
  const processes: ChildBridge[] = [];
  const apiToken = `bench-${randomBytes(16).toString('hex')}`;
  const vaultKey = randomBytes(32);
  const exchangedBefore = new Set(options.sandbox.state.successfulExchanges.keys());
  try {
    const start = (role: 'server' | 'worker', n: number) =>
      startChildBridge({
        prefix: options.prefix,
        redisUrl: bridgeRedis.url,
        logFile: join(options.logDir, `${options.prefix}-${role}${n}.log`),
        apiToken,
        vaultKey,
        env: { HANDOFF_ROLE: role, HANDOFF_JOB_LOCK_MS: String(jobLockMs) },
        ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
      });
    for (let n = 0; n < options.servers; n++) processes.push(await start('server', n));
    const workers: ChildBridge[] = [];
    for (let n = 0; n < options.workers; n++) workers.push(await start('worker', n));
    processes.push(...workers);
    if (pinned) processes.forEach((p) => pin(p.pid, bridgeCpu));
    const before = await commandStats(bridgeRedis.connection);
    const cpuBefore = await cpuSnapshot(bridgeRedis.connection, processes);
    const monitor = process.env.BENCH_MONITOR
      ? await startMonitor(bridgeRedis.connection, `${process.env.BENCH_MONITOR}-${options.prefix}.log`)
      : undefined;

    const load = fork(join(root, 'bench/process-load.ts'), [], {
      cwd: root,
      execArgv: ['--import', 'tsx'],
      env: {
        PATH: process.env.PATH ?? '',
        ...(process.env.BENCH_CPU_PROF_WINDOW ? { BENCH_CPU_PROF_WINDOW: process.env.BENCH_CPU_PROF_WINDOW } : {}),
        PROC_LOAD: JSON.stringify({
          bridgeUrls: processes.slice(0, options.servers).map((p) => p.url),
          apiToken,
          serviceUrl: options.serviceUrl,
          agentRedisUrl: agentRedis.url,
          count: options.count,
          batch: options.batch,
        }),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    if (pinned) pin(load.pid!, loadCpu);
    let killed = false;
    const replyDeltas = new Map<string, number>();
    let replying: Promise<Map<string, number>> | undefined;
    let replyingCpu: Promise<CpuSnapshot> | undefined;
    const replyCpu = cpuTotals();
    // This process serves the service's side (the sandbox): profiled in the same windows.
    const profileDir = process.env.BENCH_CPU_PROF_WINDOW;
    const ownCpu = profileDir ? cpuWindow(profileDir, 'sandbox') : undefined;
    const result = await new Promise<LoadResult>((resolve, reject) => {
      load.on('message', (message: { kind: string; batch?: number }) => {
        if (message.kind === 'result') resolve(message as unknown as LoadResult);
        if (message.kind === 'replying') {
          monitor?.set(true);
          processes.forEach((p) => p.profile('profile-start'));
          ownCpu?.start().catch((err: Error) => options.progress(`sandbox profile: ${err.message}`));
          replying = commandStats(bridgeRedis.connection);
          replyingCpu = cpuSnapshot(bridgeRedis.connection, processes, load.pid);
        }
        if (message.kind === 'batched' && replying && replyingCpu) {
          monitor?.set(false);
          processes.forEach((p) => p.profile('profile-stop'));
          ownCpu?.stop().catch((err: Error) => options.progress(`sandbox profile: ${err.message}`));
          const from = replying;
          const fromCpu = replyingCpu;
          replying = undefined;
          replyingCpu = undefined;
          void Promise.all([from, commandStats(bridgeRedis.connection)]).then(([b, a]) => addDelta(replyDeltas, b, a));
          void Promise.all([fromCpu, cpuSnapshot(bridgeRedis.connection, processes, load.pid)]).then(([b, a]) =>
            addCpu(replyCpu, b, a),
          );
        }
        if (message.kind === 'replying' && message.batch === options.killAt && !killed) {
          killed = true;
          // Mid-batch: the replies are out and being handled.
          setTimeout(() => {
            options.progress(`SIGKILL worker pid ${workers[0]!.pid} during batch ${message.batch}`);
            void workers[0]!.kill();
          }, 300);
        }
      });
      load.once('exit', (code) => reject(new Error(`the load process exited with ${code} before its result`)));
    });
    const lifeDeltas = new Map<string, number>();
    addDelta(lifeDeltas, before, await commandStats(bridgeRedis.connection));
    const lifeCpu = cpuTotals();
    addCpu(lifeCpu, cpuBefore, await cpuSnapshot(bridgeRedis.connection, processes));
    await monitor?.stop();
    const exchanged = [...options.sandbox.state.successfulExchanges].filter(([id]) => !exchangedBefore.has(id));
    const wall = result.batches.reduce((a, b) => a + b.wallMs, 0);
    const resumed = result.batches.reduce((a, b) => a + b.resumed, 0);
    return {
      pinned,
      bridgeCpus: pinned ? layout.bridgeCpus : 0,
      servers: options.servers,
      workers: options.workers,
      count: options.count,
      load: { ...result, handoffIds: [] },
      perSecond: (resumed * 1000) / wall,
      commands: perHandoff(lifeDeltas, options.count),
      replyCommands: perHandoff(replyDeltas, resumed),
      audit: await auditEndings(bridgeRedis.connection, options.prefix, result.handoffIds),
      exchanges: {
        total: exchanged.reduce((a, [, n]) => a + n, 0),
        maxPerLogin: Math.max(0, ...exchanged.map(([, n]) => n)),
      },
      killed,
      cpuPerCompletion: {
        redis: per(replyCpu.redis, resumed),
        bridge: per(sum(replyCpu.bridge), resumed),
        byProcess: processes.map((p) => per(replyCpu.bridge.get(p.pid) ?? 0, resumed)),
        load: per(replyCpu.load, resumed),
        sandbox: per(replyCpu.sandbox, resumed),
      },
      cpuPerHandoff: { redis: per(lifeCpu.redis, options.count), bridge: per(sum(lifeCpu.bridge), options.count) },
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    await bridgeRedis.stop();
    await agentRedis.stop();
    if (pinned) pin(process.pid, allCpus());
  }
}
