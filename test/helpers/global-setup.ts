import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { findSecrets } from '../../src/core/secret-patterns.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/store/embedded-redis.js';
import { resolveChromium } from './chromium.js';
import { logDir } from './log-dir.js';
import { leftBehind, recordRunningBefore, runMarker, stopLeftBehind } from './leftover-processes.js';
// Registers the secret shapes of every login protocol, so the scan knows them too.
import '../../src/main.js'; // and every platform's token shapes

/**
 * Before the suite: with no REDIS_URL, a private in-memory redis-server of the suite's own is
 * started on a free port (the same code as `npm start` without REDIS_URL) and REDIS_URL points
 * every test file and child process at it; with REDIS_URL set, that server must answer (the
 * integration tests never skip). The Chromium the browser tests use is chosen (and unpacked
 * when it is the npm package's), and the log directory starts empty. Every process the suite
 * starts carries a run marker in its environment.
 *
 * After it: the private redis-server is stopped; no redis-server or Chromium started by the
 * suite may still be running; every line any test or child process logged is scanned for
 * secret-shaped values. Each of these fails the run.
 */
let privateRedis: { server: EmbeddedRedis; dir: string } | undefined;

export async function setup(): Promise<void> {
  process.env[runMarker.name] = randomBytes(8).toString('hex');
  await recordRunningBefore();
  if (!process.env.REDIS_URL) {
    const dir = await mkdtemp(join(tmpdir(), 'handoff-test-redis-'));
    try {
      const server = await startEmbeddedRedis({ dataDir: dir, pathEnv: process.env.PATH, persist: false });
      privateRedis = { server, dir };
      process.env.REDIS_URL = server.url;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(
        `The tests need Redis: REDIS_URL is not set, so they start a private redis-server, and could not.\n${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  const redisUrl = process.env.REDIS_URL;
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `The integration tests need Redis at ${redisUrl} and could not reach it (${(err as Error).message}).\n` +
        'Unset REDIS_URL to let the tests start a private redis-server (Debian: `sudo apt-get install redis-server`), ' +
        'or start one with `redis-server --daemonize yes`, or `docker compose up -d redis`.',
      { cause: err },
    );
  } finally {
    redis.disconnect();
  }
  const chromium = await resolveChromium();
  process.stdout.write(
    `test setup: Redis ${privateRedis ? `private redis-server at ${redisUrl}` : 'from REDIS_URL'}; ` +
      `Chromium ${chromium.executablePath} (${chromium.source})\n`,
  );
  await rm(logDir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
}

export async function teardown(): Promise<void> {
  if (privateRedis) {
    await privateRedis.server.stop();
    await rm(privateRedis.dir, { recursive: true, force: true });
    privateRedis = undefined;
  }
  const problems: string[] = [];
  const leftovers = await leftBehind();
  if (leftovers.length > 0) {
    await stopLeftBehind(leftovers);
    problems.push(
      `The suite left processes it started running (now killed):\n  ${leftovers.map((p) => `${p.pid} ${p.command}`).join('\n  ')}`,
    );
  }

  const files = await readdir(logDir).catch(() => [] as string[]);
  const hits: string[] = [];
  for (const file of files) {
    const text = await readFile(join(logDir, file), 'utf8');
    for (const secret of findSecrets(text)) hits.push(`${file}: ${secret.slice(0, 8)}…`);
  }
  if (hits.length > 0) {
    problems.push(`Secret-shaped values were logged during the suite:\n  ${hits.slice(0, 20).join('\n  ')}`);
  } else {
    process.stdout.write(`log scan: ${files.length} log files checked, no secrets found\n`);
  }
  if (problems.length > 0) {
    // Vitest reports an error thrown here but still exits 0: set the exit code too.
    process.exitCode = 1;
    throw new Error(problems.join('\n'));
  }
}
