import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalMessage } from '../../adapters/local/local-platform.js';
import { maskSecrets } from '../../src/core/secret-patterns.js';
import { logDir, redisUrl } from './environment.js';
import { freePort } from './free-port.js';
import { runMarker } from './leftover-processes.js';
import { connectTestRedis, deletePrefix, randomPrefix } from './redis.js';

/**
 * Real child processes for the end-to-end tests: the bridge (`bin/handoff.js serve`), the
 * `handoff` CLI and the example agent, each a `node` process with an explicit environment.
 * Every child's stdout and stderr go to a file in the suite's log directory (scanned for
 * secrets at the end of the run) and are kept in memory for assertions.
 */

/** The repository root (where `bin/`, `examples/` and `node_modules/` are). */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const handoffBin = join(repoRoot, 'bin', 'handoff.js');
export const agentWorkerScript = join(repoRoot, 'examples', 'agent-worker.ts');

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface LoggedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The file this process's stdout and stderr are written to. */
  readonly logFile: string;
  stdout(): string;
  stderr(): string;
  /** Undefined while running. */
  exit(): Exit | undefined;
  /** Resolves when the process has exited and its output is flushed to the log file. */
  readonly exited: Promise<Exit>;
  /** Resolves with the exit, or rejects (naming the process, with its output) after `timeoutMs`. */
  waitForExit(timeoutMs?: number): Promise<Exit>;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. */
  stop(graceMs?: number): Promise<Exit>;
  /** Output for failure messages. */
  describe(): string;
}

/** Children still running, so a failed test can't leave one behind. */
const running = new Set<LoggedProcess>();
let sequence = 0;

process.once('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});

/**
 * Only what a node process needs from the outside (and the suite's run marker, so a
 * redis-server it starts is found if left behind); everything else is passed explicitly.
 */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT', runMarker.name];
  // The tests run the TypeScript sources, never a dist/ build that may be stale (bin/handoff.js).
  const env: Record<string, string> = { HANDOFF_FROM_SOURCE: '1' };
  for (const name of keep) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

const tail = (text: string, n = 2000) => (text.length > n ? `…${text.slice(-n)}` : text);

/**
 * Spawns `node <args>` from the repository root with `env` (plus PATH/HOME only). `name`
 * labels the log file; file names are unique per call.
 */
export function spawnLogged(
  name: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
): LoggedProcess {
  mkdirSync(logDir, { recursive: true });
  sequence += 1;
  const logFile = join(logDir, `e2e-${name.replace(/[^A-Za-z0-9._-]/g, '_')}-${process.pid}-${sequence}.log`);
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  // Arguments can carry a finish code (`handoff reply … "<code>"`): the header is masked.
  log.write(`# ${name}: node ${maskSecrets(args.map((a) => a.replace(repoRoot, '')).join(' '))}\n`);

  const cleanEnv: Record<string, string> = { ...baseEnv() };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) cleanEnv[k] = v;

  const child = spawn(process.execPath, [...args], { cwd: repoRoot, env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let exit: Exit | undefined;
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    out += chunk;
    log.write(chunk);
  });
  child.stderr!.on('data', (chunk: string) => {
    err += chunk;
    log.write(chunk);
  });

  const exited = new Promise<Exit>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (e) => {
      spawnError = e;
    });
    // 'close' fires after the stdio streams are drained, so all output is captured.
    child.once('close', (code, signal) => {
      exit = { code, signal };
      running.delete(proc);
      log.end(
        `\n# ${name} exited: code ${code} signal ${signal}${spawnError ? ` (spawn error: ${spawnError.message})` : ''}\n`,
        () => resolve(exit!),
      );
    });
  });

  const proc: LoggedProcess = {
    name,
    child,
    logFile,
    stdout: () => out,
    stderr: () => err,
    exit: () => exit,
    exited,
    describe: () =>
      `${name} (pid ${child.pid}, ${exit ? `exited ${exit.code ?? exit.signal}` : 'running'})\n--- stdout\n${tail(out)}\n--- stderr\n${tail(err)}`,
    async waitForExit(timeoutMs = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${proc.describe()}`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async stop(graceMs = 5_000) {
      if (exit) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exit) child.kill('SIGKILL');
      }, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  running.add(proc);
  return proc;
}

/**
 * Stops every child this test file spawned that is still running, except `keep` (for
 * afterEach/afterAll). Returns the names of the ones it had to stop.
 */
export async function stopAllProcesses(keep: readonly (LoggedProcess | undefined)[] = []): Promise<string[]> {
  const targets = [...running].filter((p) => !keep.includes(p));
  await Promise.all(targets.map((p) => p.stop()));
  return targets.map((p) => p.name);
}

export { freePort };

/** Polls GET <url>/healthz until it answers 200; fails early if `proc` exits. */
export async function waitForHealth(url: string, proc: LoggedProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exit()) throw new Error(`${proc.name} exited before it was healthy:\n${proc.describe()}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${url}/healthz did not answer within ${timeoutMs} ms:\n${proc.describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface BridgeProcess {
  readonly proc: LoggedProcess;
  readonly url: string;
  readonly port: number;
  /** HANDOFF_PREFIX of this bridge. */
  readonly prefix: string;
  readonly apiToken: string;
  /** What a client (CLI, agent) needs to reach this bridge: its URL and a token, never its Redis. */
  readonly clientEnv: { readonly HANDOFF_URL: string; readonly HANDOFF_API_TOKEN: string };
  /** Messages of a local thread, through the bridge's JSON route. */
  messages(threadName: string): Promise<LocalMessage[]>;
  /** Stops the process and deletes its Redis keys. */
  stop(): Promise<void>;
}

/**
 * Starts `bin/handoff.js serve` on a free port with a fresh prefix, token and vault key,
 * and waits until /healthz answers. Retries on another port if the chosen one was taken.
 */
export async function startBridgeProcess(name: string, extraEnv: Record<string, string> = {}): Promise<BridgeProcess> {
  const prefix = randomPrefix(`e2e-${name.slice(0, 8)}`);
  const apiToken = `e2e-${randomBytes(16).toString('hex')}`;
  const vaultKey = randomBytes(32).toString('base64');
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = spawnLogged(`${name}-bridge`, [handoffBin, 'serve'], {
      REDIS_URL: redisUrl,
      HANDOFF_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      HANDOFF_API_TOKEN: apiToken,
      HANDOFF_VAULT_KEY: vaultKey,
      NODE_ENV: 'test',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      ...extraEnv,
    });
    try {
      await waitForHealth(url, proc);
    } catch (err) {
      lastError = err;
      await proc.stop();
      if (/EADDRINUSE/.test(proc.stderr())) continue;
      await deleteKeys(prefix);
      throw err;
    }
    return {
      proc,
      url,
      port,
      prefix,
      apiToken,
      clientEnv: { HANDOFF_URL: url, HANDOFF_API_TOKEN: apiToken },
      async messages(threadName) {
        const res = await fetch(`${url}/v1/threads/local/${encodeURIComponent(threadName)}/messages`);
        if (!res.ok) throw new Error(`GET messages of ${threadName}: HTTP ${res.status}`);
        return ((await res.json()) as { messages: LocalMessage[] }).messages;
      },
      async stop() {
        await proc.stop();
        await deleteKeys(prefix);
      },
    };
  }
  await deleteKeys(prefix);
  throw lastError;
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = connectTestRedis();
  try {
    await deletePrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly proc: LoggedProcess;
}

/** Starts `bin/handoff.js <args>` and returns at once (for commands that wait, like login). */
export function startCli(
  name: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
): LoggedProcess {
  return spawnLogged(`cli-${name}`, [handoffBin, ...args], env);
}

/** Runs `bin/handoff.js <args>` to completion. */
export async function runCli(
  name: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
  timeoutMs = 30_000,
): Promise<CliResult> {
  const proc = startCli(name, args, env);
  const { code } = await proc.waitForExit(timeoutMs);
  return { code, stdout: proc.stdout(), stderr: proc.stderr(), proc };
}

/** Starts the example agent worker (`node --import tsx examples/agent-worker.ts …`). */
export function startAgentWorker(
  name: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
): LoggedProcess {
  return spawnLogged(`${name}-agent`, ['--import', 'tsx', agentWorkerScript, ...args], env);
}
