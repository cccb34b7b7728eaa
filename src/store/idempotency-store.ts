import type { Redis } from './redis.js';
import type { Keys } from './keys.js';
import { LuaScript } from './lua-script.js';

export type Reservation =
  | { readonly kind: 'reserved' }
  | {
      readonly kind: 'existing';
      readonly handoffId: string;
      readonly sameRequest: boolean;
      /** What the first request stored beside the id (its fingerprint; a join key's reservation time). */
      readonly fingerprint: string;
    };

/**
 * Idempotency keys, scoped per agent: the first request under a key reserves it for a new
 * handoff id; later ones get that id back, and learn whether they asked for the same thing.
 */
export interface IdempotencyStore {
  reserve(agentId: string, key: string, handoffId: string, fingerprint: string, ttlMs: number): Promise<Reservation>;
  /** Gives back a key reserved for `handoffId` that was then refused (a limit): a retry may use it. */
  release(agentId: string, key: string, handoffId: string): Promise<void>;
  /**
   * Points a key reserved for `fromId` at `toId` instead (a join key whose handoff ended,
   * src/engine/login-join.ts); false when it no longer names `fromId` (another request won).
   */
  replace(
    agentId: string,
    key: string,
    fromId: string,
    toId: string,
    fingerprint: string,
    ttlMs: number,
  ): Promise<boolean>;
}

const releaseScript = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then return redis.call('DEL', KEYS[1]) end
return 0
`);

// KEYS: the key. ARGV: the id it must name, its new value, ttl ms.
const replaceScript = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`);

export function createIdempotencyStore(deps: { redis: Redis; keys: Keys }): IdempotencyStore {
  return {
    async reserve(agentId, key, handoffId, fingerprint, ttlMs) {
      const redisKey = deps.keys.idempotency(agentId, key);
      const set = await deps.redis.set(redisKey, `${handoffId} ${fingerprint}`, 'PX', Math.max(1, ttlMs), 'NX');
      if (set === 'OK') return { kind: 'reserved' };
      const stored = (await deps.redis.get(redisKey)) ?? '';
      const [existingId = '', existingFingerprint = ''] = stored.split(' ');
      return {
        kind: 'existing',
        handoffId: existingId,
        sameRequest: existingFingerprint === fingerprint,
        fingerprint: existingFingerprint,
      };
    },
    async release(agentId, key, handoffId) {
      await releaseScript.run(deps.redis, [deps.keys.idempotency(agentId, key)], [handoffId]);
    },
    async replace(agentId, key, fromId, toId, fingerprint, ttlMs) {
      const args = [fromId, `${toId} ${fingerprint}`, String(Math.max(1, Math.round(ttlMs)))];
      return (await replaceScript.run(deps.redis, [deps.keys.idempotency(agentId, key)], args)) === 1;
    },
  };
}
