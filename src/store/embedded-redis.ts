import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { connectRedis, howToStartRedis } from './redis.js';

/**
 * A private redis-server for `npm start` without REDIS_URL: data under `<dataDir>/redis`,
 * append-only file on, bound to loopback on a free port. A server left running by an earlier
 * start (for example after a crash) is reused rather than duplicated.
 */
export interface EmbeddedRedis {
  readonly url: string;
  /** True when this process started it (and will stop it). */
  readonly owned: boolean;
  stop(): Promise<void>;
}

export function findOnPath(command: string, pathEnv: string | undefined): string | undefined {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function reachable(url: string): Promise<boolean> {
  try {
    const redis = await connectRedis(url, 500);
    redis.disconnect();
    return true;
  } catch {
    return false;
  }
}

export async function startEmbeddedRedis(options: {
  dataDir: string;
  pathEnv: string | undefined;
  /** False: memory only (no append-only file), for a throwaway server such as the test suite's. */
  persist?: boolean;
}): Promise<EmbeddedRedis> {
  const binary = findOnPath('redis-server', options.pathEnv);
  const dir = resolve(options.dataDir, 'redis');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const portFile = join(dir, 'port');

  const previousPort = existsSync(portFile) ? Number((await readFile(portFile, 'utf8')).trim()) : NaN;
  if (Number.isInteger(previousPort) && previousPort > 0) {
    const url = `redis://127.0.0.1:${previousPort}`;
    if (await reachable(url)) return { url, owned: false, stop: async () => undefined };
  }

  if (!binary) {
    throw new ConfigError(
      'REDIS_URL',
      `REDIS_URL is not set and no redis-server was found on PATH to start a private one. ${howToStartRedis}`,
    );
  }

  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      options.persist === false ? 'no' : 'yes',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `redis://127.0.0.1:${port}`;

  const deadline = Date.now() + 10_000;
  while (!(await reachable(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new ConfigError(
        'REDIS_URL',
        `The private redis-server did not start (${stderr.trim() || 'no output'}). ${howToStartRedis}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await writeFile(portFile, `${port}\n`);

  return {
    url,
    owned: true,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
