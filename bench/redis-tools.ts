import { randomBytes } from 'node:crypto';
import { hashTags } from '../src/store/keys.js';
import { createRedis, mastersOf, scanKeys, type Redis } from '../src/store/redis.js';

/**
 * The Redis side of the bench: a random key prefix, the memory figures (INFO memory and
 * MEMORY USAGE over the prefix, grouped by kind of key), and deleting what the bench wrote.
 * On a Redis Cluster (`--cluster`, or REDIS_URL=redis+cluster://…) each figure is the sum over
 * the masters, and keys are scanned and measured on the master that holds them.
 */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function connectRedis(url = redisUrl): Redis {
  const redis = createRedis(url);
  redis.on('error', () => undefined); // ioredis reconnects; the figures fail on commands
  return redis;
}

/** A fresh prefix such as `bench-3fa2c1d0e9b8`, valid for HANDOFF_PREFIX. */
export function randomPrefix(label = 'bench'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

/** Each master with its keys under `prefix`, a page at a time. */
async function* ownKeys(redis: Redis, prefix: string) {
  for (const node of mastersOf(redis)) {
    for await (const keys of scanKeys(node, `${prefix}:*`, { count: 2000 })) yield { node, keys };
  }
}

export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  // One key per UNLINK: keys of one master may still lie in different slots.
  for await (const { node, keys } of ownKeys(redis, prefix)) {
    const pipeline = node.pipeline();
    for (const key of keys) pipeline.unlink(key);
    for (const [, n] of (await pipeline.exec()) ?? []) deleted += Number(n ?? 0);
  }
  return deleted;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export async function usedMemory(redis: Redis): Promise<number> {
  const each = await Promise.all(mastersOf(redis).map((node) => node.info('memory')));
  return sum(each.map((info) => Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN)));
}

export async function redisVersion(redis: Redis): Promise<string> {
  const info = await mastersOf(redis)[0]!.info('server');
  const version = /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
  return mastersOf(redis).length > 1 ? `${version} (cluster of ${mastersOf(redis).length} masters)` : version;
}

const groupTags = new Set([hashTags.handoffs, hashTags.agents, hashTags.credentials].map((tag) => `{${tag}}`));

/** Names a key by what it holds, with ids replaced, e.g. `q:handoffs:<job>` or `hf:<id>`. */
export function keyKind(prefix: string, key: string): string {
  const rest = key.slice(prefix.length + 1);
  // Hash tags (src/store/keys.ts) say where a key lives, not what it is: a group's tag (`{hf}`)
  // a service's or a poll schedule's, and a queue's (`q:{handoffs}:handoffs:…`) go; an adapter's (`{local}:thread:…`) is its name.
  const parts = rest
    .replace(/^\{(svc|poll):[^}]*\}:/, (_, group: string) => (group === 'svc' ? 'svc-' : ''))
    .split(':')
    .filter((part, i, all) => !(groupTags.has(part) || (all[i - 1] === 'q' && /^\{[^}]*\}$/.test(part))))
    .map((part) => part.replace(/^\{([^}]*)\}$/, '$1'));
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
  for await (const { node, keys: found } of ownKeys(redis, prefix)) {
    const batch = found.filter((key) => !seen.has(key));
    batch.forEach((key) => seen.add(key));
    const pipeline = node.pipeline();
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
  for await (const { keys } of ownKeys(redis, prefix)) keys.forEach((key) => ours.add(key));
  return sum(await Promise.all(mastersOf(redis).map((node) => node.dbsize()))) - ours.size;
}
