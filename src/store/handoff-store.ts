import type { Redis } from 'ioredis';
import { isTerminal, sourcesOf, type HandoffRecord, type HandoffStatus } from '../core/handoff.js';
import { splitThreadRef } from '../core/thread-ref.js';
import { decodeRecord, encodePatch, encodeRecord, pairsToFields, type HandoffPatch } from './handoff-codec.js';
import type { Keys } from './keys.js';
import { LuaScript } from './lua-script.js';

/** Handoffs kept in the recent listing. */
export const recentIndexSize = 10_000;

/** How long finished handoffs stay readable, ms (7 days). */
export const finishedRetentionMs = 7 * 24 * 3_600_000;

/**
 * Compare-and-set on one handoff hash. Succeeds only when the current status is one of the
 * allowed sources (and the version matches, when given); bumps the version, applies the
 * field changes, publishes the status change, and returns the whole record either way.
 */
const transitionScript = new LuaScript(`
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return {-1} end
local status = redis.call('HGET', key, 'status')
local version = tonumber(redis.call('HGET', key, 'version'))
local ok = (ARGV[3] == '' or tonumber(ARGV[3]) == version)
if ok then
  ok = false
  for s in string.gmatch(ARGV[1], '[^,]+') do if s == status then ok = true end end
end
if not ok then return {0, redis.call('HGETALL', key)} end
version = version + 1
local set = {'version', tostring(version), 'updatedAt', ARGV[4]}
if ARGV[2] ~= '' then set[#set + 1] = 'status'; set[#set + 1] = ARGV[2] end
for i = 8, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', key, ARGV[i])
  else set[#set + 1] = ARGV[i]; set[#set + 1] = ARGV[i + 1] end
end
redis.call('HSET', key, unpack(set))
if ARGV[6] ~= '' then redis.call('PEXPIRE', key, ARGV[6]) end
if ARGV[2] ~= '' and ARGV[2] ~= status then
  redis.call('PUBLISH', ARGV[5], redis.call('HGET', key, 'id') .. ' ' .. ARGV[2])
end
return {1, redis.call('HGETALL', key)}
`);

export interface TransitionRequest {
  /** Target status; omit to update fields without changing status. */
  readonly to?: HandoffStatus;
  /** Statuses the record must be in. Default: every status that may reach `to`. */
  readonly from?: readonly HandoffStatus[];
  /** Fail unless the record is at exactly this version. */
  readonly expectVersion?: number;
  readonly set?: HandoffPatch;
}

export type TransitionResult =
  | { readonly ok: true; readonly record: HandoffRecord }
  | { readonly ok: false; readonly reason: 'conflict'; readonly record: HandoffRecord }
  | { readonly ok: false; readonly reason: 'not_found' };

export interface HandoffStore {
  create(record: HandoffRecord): Promise<void>;
  get(id: string): Promise<HandoffRecord | undefined>;
  /** The atomic state change; two callers can never both move a record out of a status. */
  transition(id: string, request: TransitionRequest): Promise<TransitionResult>;
  /** Handoffs not yet finished in a thread, oldest first. */
  openInThread(threadRef: string): Promise<HandoffRecord[]>;
  /** Most recently created handoffs, newest first. */
  recent(limit: number): Promise<HandoffRecord[]>;
  /** Threads of a platform that have open handoffs (for inbound polling). */
  openThreads(platform: string): Promise<string[]>;
}

export function createHandoffStore(deps: { redis: Redis; keys: Keys; now: () => number }): HandoffStore {
  const { redis, keys, now } = deps;

  const get = async (id: string) => decodeRecord(await redis.hgetall(keys.handoff(id)));

  return {
    async create(record) {
      const threadKey = keys.threadHandoffs(record.thread);
      const keepUntil = record.expiresAt + finishedRetentionMs;
      await redis
        .multi()
        .hset(keys.handoff(record.id), encodeRecord(record))
        .pexpireat(keys.handoff(record.id), keepUntil)
        .sadd(threadKey, record.id)
        .pexpireat(threadKey, keepUntil, 'GT')
        .pexpireat(threadKey, keepUntil, 'NX')
        .zadd(keys.handoffIndex(), record.createdAt, record.id)
        .zadd(keys.openThreads(splitThreadRef(record.thread).platform), 'GT', record.expiresAt, record.thread)
        .zremrangebyrank(keys.handoffIndex(), 0, -recentIndexSize - 1)
        .exec();
    },

    get,

    async transition(id, request) {
      const from = request.from ?? (request.to ? sourcesOf(request.to) : []);
      const fields = encodePatch(request.set ?? {});
      const terminal = request.to !== undefined && isTerminal(request.to);
      const args: string[] = [
        from.join(','),
        request.to ?? '',
        request.expectVersion === undefined ? '' : String(request.expectVersion),
        String(now()),
        keys.events(),
        terminal ? String(finishedRetentionMs) : '',
        '', // reserved
        ...Object.entries(fields).flat(),
      ];
      const reply = (await transitionScript.run(redis, [keys.handoff(id)], args)) as [number, unknown[]?];
      if (reply[0] === -1) return { ok: false, reason: 'not_found' };
      const record = decodeRecord(pairsToFields(reply[1] ?? []));
      if (!record) return { ok: false, reason: 'not_found' };
      if (reply[0] === 0) return { ok: false, reason: 'conflict', record };
      if (terminal) {
        const threadKey = keys.threadHandoffs(record.thread);
        const [, left] = (await redis.multi().srem(threadKey, id).scard(threadKey).exec()) ?? [];
        if (left?.[1] === 0) await redis.zrem(keys.openThreads(splitThreadRef(record.thread).platform), record.thread);
      }
      return { ok: true, record };
    },

    async openInThread(threadRef) {
      const ids = await redis.smembers(keys.threadHandoffs(threadRef));
      const records = await Promise.all(ids.map(get));
      return records
        .filter((r): r is HandoffRecord => r !== undefined && !isTerminal(r.status))
        .sort((a, b) => a.createdAt - b.createdAt);
    },

    async openThreads(platform) {
      const key = keys.openThreads(platform);
      // Threads whose every handoff has expired drop out even if no transition removed them.
      await redis.zremrangebyscore(key, '-inf', `(${now()}`);
      return redis.zrange(key, 0, -1);
    },

    async recent(limit) {
      const ids = await redis.zrevrange(keys.handoffIndex(), 0, Math.max(0, limit - 1));
      const records = await Promise.all(ids.map(get));
      return records.filter((r): r is HandoffRecord => r !== undefined);
    },
  };
}
