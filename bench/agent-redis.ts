import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '../test/helpers/free-port.js';

/**
 * The agent's own Redis for the bench: a redis-server on a free loopback port, in memory only,
 * so the bench agent shares nothing with the bridge but HTTP. Stopped by `stop()`.
 */
export interface AgentRedis {
  readonly url: string;
  /** The redis-server's process id. */
  readonly pid: number;
  readonly connection: Redis;
  stop(): Promise<void>;
}

export async function startAgentRedis(): Promise<AgentRedis> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.once('exit', () => child.kill('SIGKILL'));
  const connection = new Redis({
    port,
    host: '127.0.0.1',
    maxRetriesPerRequest: null,
    retryStrategy: (n) => (n > 50 ? null : 100),
  });
  connection.on('error', () => undefined); // refused while it starts; the ping below decides
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await connection.ping()) === 'PONG') break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      connection.disconnect();
      throw new Error("the agent's redis-server did not start (is redis-server on PATH?)");
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    connection,
    async stop() {
      connection.disconnect();
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
