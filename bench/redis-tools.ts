import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * The Redis side of the bench: a random key prefix, the memory figures (INFO memory and
 * MEMORY USAGE over the prefix, grouped by kind of key), and deleting what the bench wrote.
 */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function connectRedis(): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null });
}

/** A fresh prefix such as `bench-3fa2c1d0e9b8`, valid for HANDOFF_PREFIX. */
export function randomPrefix(label = 'bench'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

export async function* scanKeys(redis: Redis, prefix: string): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 2000);
    cursor = next;
    if (keys.length) yield keys;
  } while (cursor !== '0');
}

export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of scanKeys(redis, prefix)) deleted += await redis.unlink(...keys);
  return deleted;
}

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
}

export async function redisVersion(redis: Redis): Promise<string> {
  const info = await redis.info('server');
  return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
}

/** Names a key by what it holds, with ids replaced, e.g. `q:handoffs:<job>` or `hf:<id>`. */
export function keyKind(prefix: string, key: string): string {
  const rest = key.slice(prefix.length + 1);
  const parts = rest.split(':');
  const [head = '', second = '', third] = parts;
  if (head === 'q') {
    // BullMQ: <prefix>:q:<queue>:<job id | meta key>
    const known = [
      'id',
      'meta',
      'events',
      'wait',
      'paused',
      'active',
      'delayed',
      'completed',
      'failed',
      'prioritized',
      'marker',
      'pc',
      'stalled-check',
      'limiter',
      'de',
      'repeat',
    ];
    if (third === undefined) return `q:${second}`;
    if (known.includes(third)) return `q:${second}:${third}`;
    return parts.length > 4 ? `q:${second}:<job>:${parts.slice(4).join(':')}` : `q:${second}:<job>`;
  }
  if (head === 'local') return 'local:thread:<name>';
  if (['hf', 'thread', 'cred'].includes(head)) return `${head}:<id>`;
  if (head === 'vault') return `vault:${second}:<id>`;
  if (head === 'idem') return 'idem:<agent>:<key>';
  if (head === 'seen') return `seen:${second}:${third ?? ''}:<id>`;
  if (head === 'feed') return 'feed:<agent>';
  return head;
}

export interface PrefixMemory {
  readonly keys: number;
  readonly bytes: number;
  /** Bytes and key counts per kind of key (see keyKind). */
  readonly byKind: Record<string, { keys: number; bytes: number }>;
}

/** Sum of `MEMORY USAGE key SAMPLES 0` (exact, nested values included) over the prefix. */
export async function prefixMemory(redis: Redis, prefix: string): Promise<PrefixMemory> {
  const byKind: Record<string, { keys: number; bytes: number }> = {};
  const seen = new Set<string>(); // SCAN may return a key twice
  let keys = 0;
  let bytes = 0;
  for await (const found of scanKeys(redis, prefix)) {
    const batch = found.filter((key) => !seen.has(key));
    batch.forEach((key) => seen.add(key));
    const pipeline = redis.pipeline();
    for (const key of batch) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    const results = (await pipeline.exec()) ?? [];
    batch.forEach((key, i) => {
      const size = Number(results[i]?.[1] ?? 0); // a key expired meanwhile answers null
      const kind = keyKind(prefix, key);
      const entry = (byKind[kind] ??= { keys: 0, bytes: 0 });
      entry.keys += 1;
      entry.bytes += size;
      keys += 1;
      bytes += size;
    });
  }
  return { keys, bytes, byKind };
}

/** Keys in the whole database that are not ours: a change means someone else wrote meanwhile. */
export async function foreignKeyCount(redis: Redis, prefix: string): Promise<number> {
  const ours = new Set<string>();
  for await (const batch of scanKeys(redis, prefix)) batch.forEach((key) => ours.add(key));
  return (await redis.dbsize()) - ours.size;
}
