import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { LuaScript } from './lua-script.js';

export type Reservation =
  | { readonly kind: 'reserved' }
  | { readonly kind: 'existing'; readonly handoffId: string; readonly sameRequest: boolean };

/**
 * Idempotency keys, scoped per agent: the first request under a key reserves it for a new
 * handoff id; later ones get that id back, and learn whether they asked for the same thing.
 */
export interface IdempotencyStore {
  reserve(agentId: string, key: string, handoffId: string, fingerprint: string, ttlMs: number): Promise<Reservation>;
  /** Gives back a key reserved for `handoffId` that was then refused (a limit): a retry may use it. */
  release(agentId: string, key: string, handoffId: string): Promise<void>;
}

const releaseScript = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then return redis.call('DEL', KEYS[1]) end
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
      return { kind: 'existing', handoffId: existingId, sameRequest: existingFingerprint === fingerprint };
    },
    async release(agentId, key, handoffId) {
      await releaseScript.run(deps.redis, [deps.keys.idempotency(agentId, key)], [handoffId]);
    },
  };
}
