import { createHash } from 'node:crypto';
import type { Redis } from './redis.js';
import type { Keys } from './keys.js';

/**
 * A small Redis cache for public JSON values (never secrets: values are stored as they are).
 * Keys are hashed, so any string (a URL) can be a key. Used for discovered service metadata.
 */
export interface JsonCache {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
}

export function createJsonCache(deps: { redis: Redis; keys: Keys; namespace: string }): JsonCache {
  const keyOf = (key: string) =>
    deps.keys.cache(deps.namespace, createHash('sha256').update(key).digest('base64url').slice(0, 32));
  return {
    async get(key) {
      const raw = await deps.redis.get(keyOf(key));
      if (raw === null) return undefined;
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return undefined;
      }
    },
    async set(key, value, ttlMs) {
      await deps.redis.set(keyOf(key), JSON.stringify(value), 'PX', Math.max(1, Math.round(ttlMs)));
    },
  };
}
