import type { Redis } from './redis.js';
import type { Keys } from './keys.js';
import { LuaScript } from './lua-script.js';

/** How long a delivery or message id is remembered, ms (3 days: beyond any platform retry). */
export const dedupeWindowMs = 3 * 24 * 3_600_000;
/** How long an unconfirmed claim blocks duplicates, ms: a crash before confirm frees it. */
export const dedupeClaimMs = 60_000;

export interface InboundIdentity {
  readonly platform: string;
  readonly deliveryId: string;
  readonly messageId: string;
}

/**
 * Remembers inbound deliveries by delivery id and by platform message id. `claim` is atomic:
 * of several concurrent deliveries of one reply, exactly one gets `true`. The claim is short
 * until `confirm` (after the reply is safely queued), and `release` frees it when queueing
 * failed, so a failure makes the platform's redelivery count instead of losing the reply.
 */
export type ClaimVerdict = 'claimed' | 'duplicate' | 'ignored';

export interface DedupeStore {
  /**
   * `ignored` (and nothing written) when `whileExists` names a key that does not exist, so a
   * caller's precondition and the claim cost one round trip.
   */
  claim(id: InboundIdentity, options?: { whileExists?: string }): Promise<ClaimVerdict>;
  confirm(id: InboundIdentity): Promise<void>;
  release(id: InboundIdentity): Promise<void>;
}

// KEYS: delivery marker, message marker[, key that must exist]. ARGV: claim ms.
const claimScript = new LuaScript(`
if KEYS[3] and redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1
`);

// KEYS: delivery marker, message marker. ARGV: window ms. Both or neither, one command
// (a MULTI of two PEXPIREs costs four).
const confirmScript = new LuaScript(`
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
`);

export function createDedupeStore(deps: { redis: Redis; keys: Keys }): DedupeStore {
  const { redis, keys } = deps;
  const keysOf = (id: InboundIdentity): [string, string] => [
    keys.seen(id.platform, 'delivery', id.deliveryId),
    keys.seen(id.platform, 'message', id.messageId),
  ];
  return {
    async claim(id, options = {}) {
      const scriptKeys = options.whileExists ? [...keysOf(id), options.whileExists] : keysOf(id);
      const result = await claimScript.run(redis, scriptKeys, [dedupeClaimMs]);
      return result === 1 ? 'claimed' : result === 0 ? 'duplicate' : 'ignored';
    },
    async confirm(id) {
      await confirmScript.run(redis, keysOf(id), [dedupeWindowMs]);
    },
    async release(id) {
      await redis.del(...keysOf(id));
    },
  };
}
