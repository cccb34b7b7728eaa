import type { Redis } from './redis.js';
import type { Keys } from './keys.js';
import { LuaScript } from './lua-script.js';

/** The window of the per-minute limit, ms. */
export const rateWindowMs = 60_000;

export type Admission =
  | { readonly kind: 'admitted' }
  /** The agent has this many open handoffs already. */
  | { readonly kind: 'too_many_open'; readonly open: number }
  /** The agent created its allowance within the last minute; the oldest leaves the window in `retryAfterMs`. */
  | { readonly kind: 'rate_limited'; readonly retryAfterMs: number };

/**
 * Per-agent counters that hold across processes: the open handoffs (a sorted set scored by
 * expiry, which the store's terminal transition also leaves) and the creations of the last
 * minute (a sliding window). Checking and counting are one script, so a burst of parallel
 * creates cannot all see room for one more.
 */
export interface AgentLimitsStore {
  /**
   * Counts a new handoff against the agent's limits, or refuses it. Undefined limits are not
   * checked (the admin token, handoffs the bridge re-opens), but the handoff still counts as open.
   */
  admit(
    agentId: string,
    handoffId: string,
    expiresAt: number,
    now: number,
    limits?: { maxOpen: number; maxPerMinute: number },
  ): Promise<Admission>;
  /** Takes back an admission whose handoff was never written. */
  release(agentId: string, handoffId: string): Promise<void>;
  /** An open handoff was given more time: it counts as open until its new expiry. */
  extend(agentId: string, handoffId: string, expiresAt: number): Promise<void>;
  /** Ids of the agent's open handoffs (not yet finished, not past expiry), oldest expiry first. */
  open(agentId: string, now: number): Promise<string[]>;
  /** Forgets an agent's counters (it was removed). */
  forget(agentId: string): Promise<void>;
}

// KEYS: open set, rate window. ARGV: now, handoff id, expiresAt, max open ('' = unchecked),
// max per minute ('' = unchecked), window ms.
const admitScript = new LuaScript(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
if ARGV[5] ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {2, tonumber(oldest[2]) + window - now}
  end
end
local open = redis.call('ZCARD', KEYS[1])
if ARGV[4] ~= '' and open >= tonumber(ARGV[4]) then return {1, open} end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], tonumber(last[2]) + 60000)
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[2], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[2], window)
end
return {0, open + 1}
`);

// KEYS: open set. ARGV: handoff id, new expiry. Only a handoff still counted is moved.
const extendScript = new LuaScript(`
if redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[1]) == 0 and redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', KEYS[1], tonumber(last[2]) + 60000)
end
return 0
`);

export function createAgentLimitsStore(deps: { redis: Redis; keys: Keys }): AgentLimitsStore {
  const { redis, keys } = deps;
  return {
    async admit(agentId, handoffId, expiresAt, now, limits) {
      const [kind, value] = (await admitScript.run(
        redis,
        [keys.agentOpen(agentId), keys.agentRate(agentId)],
        [
          String(now),
          handoffId,
          String(expiresAt),
          limits ? String(limits.maxOpen) : '',
          limits ? String(limits.maxPerMinute) : '',
          String(rateWindowMs),
        ],
      )) as [number, number];
      // Concurrent requests read the clock before the script runs: keep the wait within the window.
      if (kind === 2) return { kind: 'rate_limited', retryAfterMs: Math.min(rateWindowMs, Math.max(1, value)) };
      if (kind === 1) return { kind: 'too_many_open', open: value };
      return { kind: 'admitted' };
    },
    async release(agentId, handoffId) {
      await redis.multi().zrem(keys.agentOpen(agentId), handoffId).zrem(keys.agentRate(agentId), handoffId).exec();
    },
    async extend(agentId, handoffId, expiresAt) {
      await extendScript.run(redis, [keys.agentOpen(agentId)], [handoffId, String(expiresAt)]);
    },
    async open(agentId, now) {
      return redis.zrangebyscore(keys.agentOpen(agentId), now, '+inf');
    },
    async forget(agentId) {
      await redis.del(keys.agentOpen(agentId), keys.agentRate(agentId));
    },
  };
}
