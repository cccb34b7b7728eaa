import { join } from 'node:path';

/** The Redis the tests use; every test writes under its own random prefix. */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Every log line of the suite (ours and child processes') lands here and is scanned at the end. */
export const logDir = join(process.cwd(), 'test-results', 'logs');
