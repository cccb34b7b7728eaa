import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './processes.js';
import { redisAnswers } from './redis.js';
import { waitFor } from './wait.js';

/**
 * A redis-server of a test's own on a free loopback port, in memory only (no snapshot, no
 * append-only file): the agent's Redis in tests that prove an agent never shares the
 * bridge's. Stopped (and its data gone) by `stop()`.
 */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** A new connection (BullMQ-ready: no retry limit per request). */
  connect(): Redis;
  stop(): Promise<void>;
}

/** Servers still running, so a failed test cannot leave one behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * `port`: a given port (to start a stopped server again where it was). `dir`: keep the data
 * there in an append-only file synced on every write, so a restart on the same `dir` finds it.
 */
export async function startPrivateRedis(options: { port?: number; dir?: string } = {}): Promise<PrivateRedis> {
  const port = options.port ?? (await freePort());
  const persistence = options.dir
    ? ['--dir', options.dir, '--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => (running.delete(child), resolve())));
  try {
    await waitFor(
      `a private redis-server on port ${port}`,
      async () => child.exitCode === null && (await redisAnswers(port)),
      10_000,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(
      `${(err as Error).message}; redis-server said: ${stderr.trim() || 'nothing'} (is redis-server on PATH?)`,
      { cause: err },
    );
  }
  const connections: Redis[] = [];
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    connect() {
      const redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null });
      connections.push(redis);
      return redis;
    },
    async stop() {
      for (const redis of connections) redis.disconnect();
      // SIGTERM: redis-server's clean shutdown (the append-only file is synced).
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
