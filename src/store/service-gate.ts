import { createHash } from 'node:crypto';
import { randomBase64url } from '../core/random-pool.js';
import type { Redis } from './redis.js';
import type { Keys } from './keys.js';
import { LuaScript } from './lua-script.js';

/**
 * Fairness between agents (one agent's handoffs to a slow or hanging service must not hold
 * the workers everyone shares): per service origin, at most `limit` login starts and polls in
 * flight at once across every bridge process, each holding a lease that expires on its own if
 * its process dies; and a circuit breaker that, after `threshold` transport failures in a row
 * (timeouts, refused connections, 5xx), stops calling the origin for `openMs`, then lets one
 * call through to see whether it recovered. Work that finds the gate busy or the circuit open
 * parks as a delayed job instead of waiting in a worker; a login start that does so joins the
 * key's queue of waiters (by arrival), and each slot given back hands the turn to the oldest
 * of them (`leave` and `next` name it; the engine wakes its job). The same slots, keyed by
 * agent, cap how many such calls one agent has in flight over all services (so spreading a
 * flood over many hanging origins does not take every worker either).
 */
export type GateEntry =
  | {
      readonly kind: 'entered';
      /**
       * Gives the slot back. A transport failure counts towards the breaker, a success resets
       * it; undefined (the call never reached the service) leaves it as it is. Answers the
       * waiter whose turn it now is (taken off the queue), if any: the caller wakes it.
       */
      leave(
        outcome?: { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string },
      ): Promise<string | undefined>;
    }
  /**
   * Every slot of the origin is taken (by handoffs of any agent). `lastOkAt`: when a call last
   * succeeded with no failure since (epoch ms), i.e. the line is moving.
   */
  | { readonly kind: 'busy'; readonly inFlight: number; readonly lastOkAt?: number }
  /** The circuit is open until `untilMs` (epoch ms) after repeated failures, the last being `code`. */
  | { readonly kind: 'open'; readonly untilMs: number; readonly code: string; readonly message: string };

/** Who waits when the gate is busy: queued under `id`, in the order of `since` (epoch ms). */
export interface GateWaiter {
  readonly id: string;
  readonly since: number;
}

export interface ServiceGate {
  /**
   * Takes a slot of `key` (a service origin, or `agent:<id>` for an agent's own share) for at
   * most `leaseMs`; `limit` overrides the gate's default number of slots. With `waiter`, a busy
   * gate queues it (once, at `since`: a waiter that lost its turn keeps its place), and
   * entering takes it off the queue.
   */
  enter(key: string, leaseMs: number, limit?: number, waiter?: GateWaiter): Promise<GateEntry>;
  /** The next waiter of `key` (taken off the queue) when a slot is free now: for a woken waiter that no longer waits. */
  next(key: string, limit?: number): Promise<string | undefined>;
}

export interface ServiceGateOptions {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly now: () => number;
  /** Calls in flight per origin (HANDOFF_SERVICE_CONCURRENCY, default 4). */
  readonly limit: number;
  /** Transport failures in a row that open the circuit. Default 4. */
  readonly threshold?: number;
  /** How long an open circuit refuses calls, ms. Default 15 000. */
  readonly openMs?: number;
}

/** How long a queue of waiters outlives its last arrival, ms (a start waits at most its window). */
const waitersTtlMs = 15 * 60_000;

/**
 * Lua: when `limit` (a local; 1 once `threshold` failures in a row tripped the breaker) leaves
 * a slot free of KEYS[1] and the circuit (KEYS[2]) is not open at `now`, pops the oldest waiter of KEYS[3] into `nextWaiter`.
 */
const popWaiter = `
local nextWaiter = ''
local br = redis.call('HMGET', KEYS[2], 'failures', 'openUntil')
if tonumber(br[2] or '0') <= now then
  if tonumber(br[1] or '0') >= threshold then limit = 1 end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) < limit then
    local popped = redis.call('ZPOPMIN', KEYS[3])
    if popped[1] then nextWaiter = popped[1] end
  end
end
`;

/**
 * KEYS[1] slots (sorted set: lease id → expiry), KEYS[2] breaker (hash), KEYS[3] waiters
 * (sorted set: waiter id → arrival). ARGV: now, lease ms, limit, lease id, threshold, waiter id
 * ('' for none), its arrival. An open circuit answers `open`; once it has tripped, only one call
 * at a time gets through (half-open) until a success resets it.
 */
const enterScript = new LuaScript(`
local now = tonumber(ARGV[1])
local b = redis.call('HMGET', KEYS[2], 'failures', 'openUntil', 'code', 'message')
local failures = tonumber(b[1] or '0')
local openUntil = tonumber(b[2] or '0')
if openUntil > now then return {'open', tostring(openUntil), b[3] or 'service_unreachable', b[4] or ''} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local limit = tonumber(ARGV[3])
if failures >= tonumber(ARGV[5]) then limit = 1 end
local inFlight = redis.call('ZCARD', KEYS[1])
if inFlight >= limit then
  if ARGV[6] ~= '' then
    redis.call('ZADD', KEYS[3], 'NX', tonumber(ARGV[7]), ARGV[6])
    redis.call('PEXPIRE', KEYS[3], ${waitersTtlMs})
  end
  local okAt = redis.call('HGET', KEYS[2], 'okAt')
  if failures > 0 then okAt = false end
  return {'busy', tostring(inFlight), okAt or ''}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
if ARGV[6] ~= '' then redis.call('ZREM', KEYS[3], ARGV[6]) end
return {'entered'}
`);

/**
 * KEYS[1] slots, KEYS[2] breaker, KEYS[3] waiters. ARGV: lease id, ok ('1' | '0' | '' = no
 * verdict), now, threshold, open ms, code, message, limit. Failures are forgotten a minute
 * after the last one; a success resets them and is remembered (`okAt`) for a minute. Answers the waiter whose turn it is ('' for none).
 */
const leaveScript = new LuaScript(`
local now = tonumber(ARGV[3])
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'okAt', now)
  redis.call('PEXPIRE', KEYS[2], 60000)
end
if ARGV[2] == '0' then
  local failures = redis.call('HINCRBY', KEYS[2], 'failures', 1)
  redis.call('HSET', KEYS[2], 'code', ARGV[6], 'message', ARGV[7])
  if failures >= tonumber(ARGV[4]) then redis.call('HSET', KEYS[2], 'openUntil', now + tonumber(ARGV[5])) end
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[5]) + 60000)
end
local limit = tonumber(ARGV[8])
local threshold = tonumber(ARGV[4])
${popWaiter}
return nextWaiter
`);

/** KEYS as for leave. ARGV: now, limit, threshold. Answers the next waiter ('' for none) when a slot is free. */
const nextScript = new LuaScript(`
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
${popWaiter}
return nextWaiter
`);

export function createServiceGate(o: ServiceGateOptions): ServiceGate {
  const threshold = o.threshold ?? 4;
  const openMs = o.openMs ?? 15_000;
  const keysOf = (origin: string) => {
    const id = createHash('sha256').update(origin).digest('base64url').slice(0, 22);
    return [o.keys.serviceSlots(id), o.keys.serviceBreaker(id), o.keys.serviceWaiters(id)];
  };
  return {
    async enter(key, leaseMs, limit = o.limit, waiter) {
      const keys = keysOf(key);
      const lease = randomBase64url(9);
      const answer = (await enterScript.run(o.redis, keys, [
        o.now(),
        Math.max(1, Math.round(leaseMs)),
        limit,
        lease,
        threshold,
        waiter?.id ?? '',
        Math.round(waiter?.since ?? 0),
      ])) as string[];
      if (answer[0] === 'open')
        return { kind: 'open', untilMs: Number(answer[1]), code: answer[2]!, message: answer[3]! };
      if (answer[0] === 'busy')
        return { kind: 'busy', inFlight: Number(answer[1]), ...(answer[2] ? { lastOkAt: Number(answer[2]) } : {}) };
      let left = false;
      return {
        kind: 'entered',
        async leave(outcome) {
          if (left) return undefined;
          left = true;
          const failure = outcome && !outcome.ok ? outcome : undefined;
          const verdict = outcome === undefined ? '' : outcome.ok ? '1' : '0';
          const next = (await leaveScript.run(o.redis, keys, [
            lease,
            verdict,
            o.now(),
            threshold,
            openMs,
            failure?.code ?? '',
            (failure?.message ?? '').slice(0, 300),
            limit,
          ])) as string;
          return next || undefined;
        },
      };
    },
    async next(key, limit = o.limit) {
      const next = (await nextScript.run(o.redis, keysOf(key), [o.now(), limit, threshold])) as string;
      return next || undefined;
    },
  };
}
