import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { addSecretShapes, findSecrets } from '../../src/core/secret-patterns.js';
import { platforms } from '../../src/main.js';
import { logDir, redisUrl } from './environment.js';

// The scan looks for every registered platform's token shapes too.
addSecretShapes(platforms.flatMap((p) => p.secretShapes));

/**
 * Before the suite: Redis must answer (the integration tests never skip), and the log
 * directory starts empty. After it: every line any test or child process logged is scanned
 * for secret-shaped values; one hit fails the run.
 */
export async function setup(): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `The integration tests need Redis at ${redisUrl} and could not reach it (${(err as Error).message}).\n` +
        'Start one with `redis-server --daemonize yes` (Debian: `sudo apt-get install redis-server`), ' +
        'or `docker compose up -d redis`, or point REDIS_URL at a server.',
      { cause: err },
    );
  } finally {
    redis.disconnect();
  }
  await rm(logDir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
}

export async function teardown(): Promise<void> {
  const files = await readdir(logDir).catch(() => [] as string[]);
  const hits: string[] = [];
  for (const file of files) {
    const text = await readFile(join(logDir, file), 'utf8');
    for (const secret of findSecrets(text)) hits.push(`${file}: ${secret.slice(0, 8)}…`);
  }
  if (hits.length > 0) {
    throw new Error(`Secret-shaped values were logged during the suite:\n  ${hits.slice(0, 20).join('\n  ')}`);
  }
  process.stdout.write(`log scan: ${files.length} log files checked, no secrets found\n`);
}
