import { Cluster, Redis as SingleRedis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { parseRedisTarget, redactUrl } from '../core/redis-target.js';
import { CoalescingConnector } from './coalesced-writes.js';

export { redactUrl };

/** A connection to the bridge's Redis: one server, or a Redis Cluster. */
export type Redis = SingleRedis | Cluster;

/**
 * A Redis connection with the options BullMQ needs (`maxRetriesPerRequest: null` so blocking
 * commands survive reconnects): to one server, or an ioredis Cluster client for a
 * `redis+cluster://` URL (src/store/redis-target.ts). `lazyConnect` lets callers check
 * reachability first. Every connection, and every one duplicated from it, sends the commands
 * of one event-loop turn in one write (src/store/coalesced-writes.ts).
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const target = parseRedisTarget(url);
  if (target.kind === 'single') {
    return new SingleRedis(url, {
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      Connector: CoalescingConnector,
      ...options,
    });
  }
  const nodeOptions: RedisOptions = {
    maxRetriesPerRequest: null,
    Connector: CoalescingConnector,
    enableReadyCheck: true,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  };
  return new Cluster(
    target.nodes.map((n) => ({ host: n.host, port: n.port })),
    clusterOptions({ redisOptions: nodeOptions, enableReadyCheck: true }, options),
  );
}

/**
 * Cluster options with connection options laid over them: the ones ioredis's Cluster takes
 * itself go on top, the rest to every node's connection.
 */
function clusterOptions(base: ClusterOptions, options: RedisOptions): ClusterOptions {
  const { lazyConnect, enableAutoPipelining, retryStrategy, ...perNode } = options;
  return {
    ...base,
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) ?? null } : {}),
    redisOptions: { ...base.redisOptions, ...perNode },
  };
}

/** True for a Redis Cluster client. */
export function isCluster(redis: Redis): redis is Cluster {
  return redis instanceof Cluster;
}

/** Another connection to the same Redis (or cluster) with `options` laid over the original's. */
export function duplicateConnection(redis: Redis, options: RedisOptions = {}): Redis {
  return isCluster(redis) ? redis.duplicate([], clusterOptions(redis.options, options)) : redis.duplicate(options);
}

/**
 * The connections that hold keys: the cluster's masters, or the one server. What must visit
 * every key (SCAN, memory figures) runs on each.
 */
export function mastersOf(redis: Redis): SingleRedis[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}

/**
 * Every key matching `match` (of `type`, when given), a page at a time, on every master (SCAN
 * is per node on a cluster).
 */
export async function* scanKeys(
  redis: Redis,
  match: string,
  options: { readonly count?: number; readonly type?: string } = {},
): AsyncGenerator<string[]> {
  const typed = options.type ? ['TYPE', options.type] : [];
  for (const node of mastersOf(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = (await node.call(
        'SCAN',
        cursor,
        'MATCH',
        match,
        'COUNT',
        options.count ?? 1_000,
        ...typed,
      )) as [string, string[]];
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
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
  if (isCluster(redis) || redis.status !== 'reconnecting') return;
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

/**
 * Connects and PINGs within `timeoutMs`, or throws a ConfigError that says how to fix it. A
 * cluster must report `cluster_state:ok`; a single-server URL must not name a cluster's node
 * (its keys would be refused with MOVED).
 */
export async function connectRedis(url: string, timeoutMs = 3_000): Promise<Redis> {
  const redis = createRedis(url, { lazyConnect: true, retryStrategy: () => null, connectTimeout: timeoutMs });
  redis.on('error', () => undefined); // reported below, once
  let problem: string | undefined;
  try {
    await redis.connect();
    await redis.ping();
    problem = await shapeProblem(redis);
  } catch (err) {
    redis.disconnect();
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError('REDIS_URL', `Redis is not reachable at ${redactUrl(url)} (${reason}). ${howToStartRedis}`);
  }
  redis.disconnect();
  if (problem) throw new ConfigError('REDIS_URL', `REDIS_URL ${redactUrl(url)}: ${problem}`);
  const ready = createRedis(url);
  ready.on('error', () => undefined); // ioredis reconnects; callers see failures on commands
  return ready;
}

async function shapeProblem(redis: Redis): Promise<string | undefined> {
  if (isCluster(redis)) {
    const info = String(await redis.cluster('INFO'));
    const state = /cluster_state:(\w+)/.exec(info)?.[1];
    return state === 'ok'
      ? undefined
      : `the cluster reports cluster_state:${state ?? 'unknown'}; check it with \`redis-cli -c cluster info\` ` +
          'and create it with `redis-cli --cluster create … --cluster-replicas 0` (README: "Redis Cluster").';
  }
  const info = await redis.info('cluster').catch(() => '');
  return /cluster_enabled:1/.test(info)
    ? 'this server is a node of a Redis Cluster; name the cluster as redis+cluster://host:port[,host:port…].'
    : undefined;
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
