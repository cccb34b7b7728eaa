import type { Redis } from './redis.js';
import type { Keys } from './keys.js';
import { LuaScript } from './lua-script.js';

/** Takes a scope's lease only if the scope is due: checked and taken in one step. */
const claimScope = new LuaScript(`
local due = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if due > tonumber(ARGV[2]) then return 0 end
if redis.call('SET', KEYS[2], '1', 'PX', ARGV[3], 'NX') then return 1 end
return 0
`);

/**
 * When each poll scope of a platform is next due, and the short lease that lets one process
 * poll it at a time (however many bridge processes tick).
 */
export interface PollSchedule {
  /** Takes the scope's lease for `leaseMs` if it is due at `now`; false when not due or taken. */
  claim(platform: string, scope: string, now: number, leaseMs: number): Promise<boolean>;
  /** Sets when the scope is next due and drops its lease, in one step. */
  release(platform: string, scope: string, nextDueAt: number): Promise<void>;
}

export function createPollSchedule(redis: Redis, keys: Keys): PollSchedule {
  return {
    async claim(platform, scope, now, leaseMs) {
      const claimed = await claimScope.run(
        redis,
        [keys.pollDue(platform), keys.pollLease(platform, scope)],
        [scope, now, leaseMs],
      );
      return claimed === 1;
    },
    async release(platform, scope, nextDueAt) {
      await redis
        .multi()
        .hset(keys.pollDue(platform), scope, String(nextDueAt))
        .del(keys.pollLease(platform, scope))
        .exec();
    },
  };
}
