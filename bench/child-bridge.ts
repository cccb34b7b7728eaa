import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createBridgeClient, type BridgeClient } from '../src/client/bridge-client.js';
import { bridgeEnv } from './inproc-bridge.js';

/**
 * The bridge as its own process: `node bin/handoff.js serve` (which runs loadConfig() and
 * startHandoff()), so its memory is the bridge's alone. A preloaded probe answers with
 * process.memoryUsage() after a full GC; /proc/<pid>/status gives VmRSS from outside.
 */
export interface ChildMemory {
  /** VmRSS from /proc, bytes: median of 5 readings 0.5–0.9 s after the GC. */
  readonly vmRss: number;
  /** From inside (process.memoryUsage()), right after gc(). */
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
}

export interface ChildBridge {
  readonly pid: number;
  readonly url: string;
  /** A worker (HANDOFF_ROLE=worker) serves no HTTP: it has no client (reading it throws). */
  readonly client: BridgeClient;
  memory(): Promise<ChildMemory>;
  /** SIGKILL, as a crash would: nothing is closed, its jobs stay taken in Redis. */
  kill(): Promise<void>;
  /** CPU time the process has used so far (user + system, from /proc/<pid>/stat), ms. */
  cpuMs(): Promise<number>;
  /** Sends `profile-start` / `profile-stop` to the probe (bench/child-probe.ts). */
  profile(message: 'profile-start' | 'profile-stop'): void;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const root = fileURLToPath(new URL('..', import.meta.url));

async function vmRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN) * 1024;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux, whatever HZ the kernel runs at). */
const userHz = 100;

/** CPU time process `pid` has used so far (user + system), ms. */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, so read from its closing parenthesis):
  // state is field 3, utime field 14, stime field 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / userHz;
}

const live = new Set<ChildBridge>();

/** Stops every bridge process still running (for an interrupted bench). */
export async function stopChildBridges(): Promise<void> {
  await Promise.all([...live].map((bridge) => bridge.stop()));
}

/** The sandbox service in its own process (bench/sandbox-process.ts): its URL, and stop(). */
export async function startSandboxProcess(): Promise<{ serviceUrl: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/sandbox-process.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const serviceUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the sandbox process did not start within 20 s')), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /SANDBOX (\S+)/.exec(out)?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
  return {
    serviceUrl,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function startChildBridge(options: {
  prefix: string;
  redisUrl: string;
  logFile: string;
  env?: Record<string, string>;
  /** Shared by several processes of one bridge; fresh ones by default. */
  apiToken?: string;
  vaultKey?: Buffer;
  /** Node flags before the script (e.g. `--cpu-prof`). */
  nodeArgs?: readonly string[];
}): Promise<ChildBridge> {
  const apiToken = options.apiToken ?? `bench-${randomBytes(16).toString('hex')}`;
  const vaultKey = options.vaultKey ?? randomBytes(32);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...bridgeEnv({ prefix: options.prefix, redisUrl: options.redisUrl, apiToken, vaultKey }),
    ...options.env,
    ...(process.env.BENCH_CPU_PROF_WINDOW ? { BENCH_CPU_PROF_WINDOW: process.env.BENCH_CPU_PROF_WINDOW } : {}),
  };
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      '--expose-gc',
      '--import',
      'tsx',
      '--import',
      './bench/child-probe.ts',
      'bin/handoff.js',
      'serve',
    ],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  const log = createWriteStream(options.logFile, { flags: 'a' });
  child.stderr!.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    // Generous: on a machine loaded by other work a start can take tens of seconds.
    const timer = setTimeout(() => reject(new Error(`the bridge did not start within 60 s:\n${out}`)), 60_000);
    const look = (chunk: Buffer) => {
      out += chunk.toString();
      // A worker (HANDOFF_ROLE=worker) serves no HTTP: it says it runs.
      const found =
        /API\s+(http:\/\/\S+)\/v1\/handoffs/.exec(out)?.[1] ?? (/"worker running"/.test(out) ? '' : undefined);
      if (found !== undefined) {
        clearTimeout(timer);
        child.stdout!.off('data', look);
        child.stderr!.off('data', look);
        child.stdout!.resume(); // keep draining it
        resolve(found);
      }
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the bridge exited with ${code} before starting:\n${out}`));
    });
  });

  let client: BridgeClient | undefined;
  const bridge: ChildBridge = {
    pid: child.pid!,
    url,
    get client() {
      if (!url) throw new Error('a worker process serves no HTTP');
      return (client ??= createBridgeClient({ baseUrl: url, apiToken }));
    },
    async memory() {
      const inside = await new Promise<Omit<ChildMemory, 'vmRss'>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the bridge did not answer the memory probe')), 10_000);
        child.once('message', (msg) => {
          clearTimeout(timer);
          resolve(msg as Omit<ChildMemory, 'vmRss'>);
        });
        child.send('memory');
      });
      // Right after a GC the sweeper is still giving pages back: let VmRSS settle first.
      const samples: number[] = [];
      await sleep(500);
      for (let i = 0; i < 5; i++) {
        samples.push(await vmRss(child.pid!));
        await sleep(100);
      }
      const median = samples.sort((a, b) => a - b)[2]!;
      return {
        vmRss: median,
        rss: inside.rss,
        heapUsed: inside.heapUsed,
        heapTotal: inside.heapTotal,
        external: inside.external,
      };
    },
    async kill() {
      live.delete(bridge);
      child.kill('SIGKILL');
      await exited;
      await new Promise<void>((resolve) => log.end(resolve));
    },
    cpuMs: () => cpuMs(child.pid!),
    profile(message) {
      if (child.connected) child.send(message);
    },
    async stop() {
      if (!live.has(bridge)) return;
      live.delete(bridge);
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
      await new Promise<void>((resolve) => log.end(resolve));
    },
  };
  live.add(bridge);
  return bridge;
}
