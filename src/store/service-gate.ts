import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { LuaScript } from './lua-script.js';

/**
 * Fairness between agents (one agent's handoffs to a slow or hanging service must not hold
 * the workers everyone shares): per service origin, at most `limit` login starts and polls in
 * flight at once across every bridge process, each holding a lease that expires on its own if
 * its process dies; and a circuit breaker that, after `threshold` transport failures in a row
 * (timeouts, refused connections, 5xx), stops calling the origin for `openMs`, then lets one
 * call through to see whether it recovered. Work that finds the gate busy or the circuit open
 * parks as a delayed job instead of waiting in a worker. The same slots, keyed by agent, cap
 * how many such calls one agent has in flight over all services (so spreading a flood over
 * many hanging origins does not take every worker either).
 */
export type GateEntry =
  | {
      readonly kind: 'entered';
      /**
       * Gives the slot back. A transport failure counts towards the breaker, a success resets
       * it; undefined (the call never reached the service) leaves it as it is.
       */
      leave(
        outcome?: { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string },
      ): Promise<void>;
    }
  /** Every slot of the origin is taken (by handoffs of any agent). */
  | { readonly kind: 'busy'; readonly inFlight: number }
  /** The circuit is open until `untilMs` (epoch ms) after repeated failures, the last being `code`. */
  | { readonly kind: 'open'; readonly untilMs: number; readonly code: string; readonly message: string };

export interface ServiceGate {
  /**
   * Takes a slot of `key` (a service origin, or `agent:<id>` for an agent's own share) for at
   * most `leaseMs`; `limit` overrides the gate's default number of slots.
   */
  enter(key: string, leaseMs: number, limit?: number): Promise<GateEntry>;
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

/**
 * KEYS[1] slots (sorted set: lease id → expiry), KEYS[2] breaker (hash). ARGV: now, lease ms,
 * limit, lease id, threshold. An open circuit answers `open`; once it has tripped, only one
 * call at a time gets through (half-open) until a success resets it.
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
if inFlight >= limit then return {'busy', tostring(inFlight)} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
return {'entered'}
`);

/**
 * KEYS[1] slots, KEYS[2] breaker. ARGV: lease id, ok ('1' | '0' | '' = no verdict), now, threshold, open ms, code,
 * message. Failures are forgotten a minute after the last one.
 */
const leaveScript = new LuaScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] == '' then return 0 end
if ARGV[2] == '1' then redis.call('DEL', KEYS[2]) return 0 end
local failures = redis.call('HINCRBY', KEYS[2], 'failures', 1)
redis.call('HSET', KEYS[2], 'code', ARGV[6], 'message', ARGV[7])
if failures >= tonumber(ARGV[4]) then redis.call('HSET', KEYS[2], 'openUntil', tonumber(ARGV[3]) + tonumber(ARGV[5])) end
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[5]) + 60000)
return failures
`);

export function createServiceGate(o: ServiceGateOptions): ServiceGate {
  const threshold = o.threshold ?? 4;
  const openMs = o.openMs ?? 15_000;
  const keysOf = (origin: string) => {
    const id = createHash('sha256').update(origin).digest('base64url').slice(0, 22);
    return [o.keys.serviceSlots(id), o.keys.serviceBreaker(id)];
  };
  return {
    async enter(key, leaseMs, limit = o.limit) {
      const keys = keysOf(key);
      const lease = randomBytes(9).toString('base64url');
      const answer = (await enterScript.run(o.redis, keys, [
        o.now(),
        Math.max(1, Math.round(leaseMs)),
        limit,
        lease,
        threshold,
      ])) as string[];
      if (answer[0] === 'open')
        return { kind: 'open', untilMs: Number(answer[1]), code: answer[2]!, message: answer[3]! };
      if (answer[0] === 'busy') return { kind: 'busy', inFlight: Number(answer[1]) };
      let left = false;
      return {
        kind: 'entered',
        async leave(outcome) {
          if (left) return;
          left = true;
          const failure = outcome && !outcome.ok ? outcome : undefined;
          const verdict = outcome === undefined ? '' : outcome.ok ? '1' : '0';
          await leaveScript.run(o.redis, keys, [
            lease,
            verdict,
            o.now(),
            threshold,
            openMs,
            failure?.code ?? '',
            (failure?.message ?? '').slice(0, 300),
          ]);
        },
      };
    },
  };
}
