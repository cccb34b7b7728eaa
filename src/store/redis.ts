import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export type { Redis };

/**
 * A Redis connection with the options BullMQ needs (`maxRetriesPerRequest: null` so blocking
 * commands survive reconnects). `lazyConnect` lets callers check reachability first.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}

/** What ioredis does itself when a manually closed connection's socket closes. */
interface ClosableInternals {
  setStatus?(status: 'end'): void;
  flushQueue?(error: Error): void;
}

/**
 * Ends a connection now and fails whatever waits on it. ioredis's `disconnect()` between two
 * reconnection attempts (status `reconnecting`) only clears the retry timer: the connection
 * never reaches `end`, and commands queued while Redis was down (a QUIT, BullMQ's set-up) wait
 * forever, so a stop that awaits them never ends. Then this ends it as ioredis ends a manually
 * closed connection: status `end` (its event), queued commands rejected.
 */
export function endConnection(redis: Redis): void {
  redis.disconnect();
  if (redis.status !== 'reconnecting') return;
  const internals = redis as unknown as ClosableInternals;
  internals.setStatus?.('end');
  internals.flushQueue?.(new Error('Connection is closed.'));
}

/**
 * How long a command of the agent API may wait for Redis, ms. A stalled or unreachable Redis
 * then makes the API answer 503 `store_unavailable` within about this long instead of hanging.
 */
export const storeTimeoutMs = 3_000;

/** True when `err` (or an error it wraps) is a Redis command that gave up after `storeTimeoutMs`. */
export function isStoreTimeout(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e.message === 'Command timed out') return true; // ioredis's commandTimeout
  }
  return false;
}

/** How to get a Redis, for error messages that must tell a person what to do. */
export const howToStartRedis =
  'Start one with `redis-server --daemonize yes` (Debian/Ubuntu: `sudo apt-get install redis-server`; ' +
  'macOS: `brew install redis && brew services start redis`; with Docker: `docker compose up -d redis`), ' +
  'or set REDIS_URL to a reachable server.';

/** Connects and PINGs within `timeoutMs`, or throws a ConfigError that says how to fix it. */
export async function connectRedis(url: string, timeoutMs = 3_000): Promise<Redis> {
  const redis = createRedis(url, { lazyConnect: true, retryStrategy: () => null, connectTimeout: timeoutMs });
  redis.on('error', () => undefined); // reported below, once
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError('REDIS_URL', `Redis is not reachable at ${redactUrl(url)} (${reason}). ${howToStartRedis}`);
  }
  redis.disconnect();
  const ready = createRedis(url);
  ready.on('error', () => undefined); // ioredis reconnects; callers see failures on commands
  return ready;
}

/** The URL with any password removed, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured REDIS_URL';
  }
}

/**
 * Says when a connection drops and when it is back, once each, rather than at every retry
 * (ioredis reconnects on its own; commands wait meanwhile). Also keeps ioredis from printing
 * "Unhandled error event" for connections nobody else listens to.
 */
export function reportConnection(redis: Redis, logger: Logger, name: string): void {
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger.warn('Redis connection lost; commands wait while it reconnects', { connection: name, reason: err.message });
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info('Redis connection restored', { connection: name });
  });
}
