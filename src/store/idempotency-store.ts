import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

export type Reservation =
  | { readonly kind: 'reserved' }
  | { readonly kind: 'existing'; readonly handoffId: string; readonly sameRequest: boolean };

/**
 * Idempotency keys, scoped per agent: the first request under a key reserves it for a new
 * handoff id; later ones get that id back, and learn whether they asked for the same thing.
 */
export interface IdempotencyStore {
  reserve(agentId: string, key: string, handoffId: string, fingerprint: string, ttlMs: number): Promise<Reservation>;
}

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
  };
}
