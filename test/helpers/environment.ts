/**
 * The Redis the tests use; every test writes under its own random prefix. The suite's global
 * setup sets REDIS_URL (to a private redis-server of its own when it was unset).
 */
export const redisUrl = requireRedisUrl();

function requireRedisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set: run the tests through vitest, whose global setup provides it.');
  return url;
}

export { logDir } from './log-dir.js';
