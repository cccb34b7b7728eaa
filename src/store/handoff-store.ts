import type { Redis } from './redis.js';
import { isTerminal, sourcesOf, type HandoffRecord, type HandoffStatus } from '../core/handoff.js';
import { platformOf } from '../core/thread-ref.js';
import { decodeRecord, encodePatch, encodeRecord, type HandoffPatch } from './handoff-codec.js';
import { createApprovalVotes, type ApprovalVotesStore } from './approval-votes.js';
import { appendEndingLua, feedMaxAgeMs, feedMaxLength } from './agent-feed.js';
import { appendEndingAuditLua, auditMaxLength } from './audit-log.js';
import type { AuditOrigin } from '../core/caller.js';
import type { Keys } from './keys.js';
import { LuaScript } from './lua-script.js';

/** Handoffs kept in the recent listing. */
export const recentIndexSize = 1_000;

/** How long finished handoffs stay readable, ms (7 days). */
export const finishedRetentionMs = 7 * 24 * 3_600_000;

/**
 * Compare-and-set on one handoff record. Succeeds only when the current status is one of the
 * allowed sources (and the version matches, when given); bumps the version, merges the patch,
 * publishes the status change, and returns the whole record either way. A transition to a
 * terminal status also appends the ending to the agent's feed (src/store/agent-feed.ts) in
 * the same script, so an ending never exists without its feed entry; and, when the request
 * names who ended it (`audit`), its `handoff.<status>` audit entry (src/store/audit-log.ts).
 *
 * KEYS[1] record, KEYS[2] (terminal transitions only) the agent's feed stream, KEYS[3] (with
 * `audit` only) the audit stream; ARGV: from
 * statuses (comma-separated), new status or '', expected version or '', now (ms), events
 * channel, retention ms when the new status is terminal or '', patch JSON (fields to set), JSON
 * array of fields to remove, the record's agent id, feed max length, feed max age (ms), then
 * (with KEYS[3]) the ending's actor, source, request id, audit max length.
 *
 * The status message is `<id> <status>`, and `<id> <status> <agent id>` for an ending (the
 * agent id last: it may contain spaces). Returns {-2} when KEYS[2] is not the record's agent's.
 */
const transitionScript = new LuaScript(`${appendEndingLua}${appendEndingAuditLua}
local raw = redis.call('GET', KEYS[1])
if not raw then return {-1} end
local rec = cjson.decode(raw)
if KEYS[2] and rec.agentId ~= ARGV[9] then return {-2} end
local ok = (ARGV[3] == '' or tonumber(ARGV[3]) == rec.version)
if ok then
  ok = false
  for s in string.gmatch(ARGV[1], '[^,]+') do if s == rec.status then ok = true end end
end
if not ok then return {0, raw} end
local before = rec.status
rec.version = rec.version + 1
rec.updatedAt = tonumber(ARGV[4])
if ARGV[2] ~= '' then rec.status = ARGV[2] end
for k, v in pairs(cjson.decode(ARGV[7])) do rec[k] = v end
for _, k in ipairs(cjson.decode(ARGV[8])) do rec[k] = nil end
-- cjson writes each '/' as an escaped '\\/' (never bare), so turning them back is exact.
local out = string.gsub(cjson.encode(rec), '\\\\/', '/')
redis.call('SET', KEYS[1], out, 'KEEPTTL')
if ARGV[6] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[6]) end
if rec.status ~= before then
  local message = rec.id .. ' ' .. rec.status
  if KEYS[2] then
    append_ending(KEYS[2], rec, ARGV[4], ARGV[10], ARGV[11])
    if KEYS[3] then append_ending_audit(KEYS[3], ARGV[15], rec, ARGV[12], ARGV[13], ARGV[14]) end
    message = message .. ' ' .. rec.agentId
  end
  redis.call('PUBLISH', ARGV[5], message)
end
return {1, out}
`);

export interface TransitionRequest {
  /** Target status; omit to update fields without changing status. */
  readonly to?: HandoffStatus;
  /** Statuses the record must be in. Default: every status that may reach `to`. */
  readonly from?: readonly HandoffStatus[];
  /** Fail unless the record is at exactly this version. */
  readonly expectVersion?: number;
  readonly set?: HandoffPatch;
  /**
   * The record's agent (it never changes), for the feed entry of a terminal transition; read
   * from the record first when absent (one more round trip).
   */
  readonly agentId?: string;
  /**
   * Who ended it, for a terminal transition's `handoff.<status>` audit entry, written by the
   * same script (only the sink's copy is left to the caller: AuditLog.copyToSink). Without
   * it, a terminal transition is not audited as an ending.
   */
  readonly audit?: AuditOrigin;
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
  /** One agent's most recently created handoffs, newest first. */
  recentOf(agentId: string, limit: number): Promise<HandoffRecord[]>;
  /** Threads of a platform that have open handoffs (for inbound polling). */
  openThreads(platform: string): Promise<string[]>;
  /**
   * The key that exists exactly while the thread has a handoff that has not ended, for
   * scripts that check it atomically with their own work (the inbound intake does).
   */
  openMarker(threadRef: string): string;
  /** The key of a handoff's record: it exists while the record is kept (its retention included). */
  recordKey(handoffId: string): string;
  /**
   * The bookkeeping after an ending written by another script (an approval's settling vote,
   * src/store/approval-votes.ts): out of the thread's open set and the agent's open count.
   */
  ended(record: HandoffRecord): Promise<void>;
  /** One vote on an approval, counted and settled atomically (src/store/approval-votes.ts). */
  vote: ApprovalVotesStore['vote'];
}

export function createHandoffStore(deps: {
  redis: Redis;
  keys: Keys;
  now: () => number;
  /** Platforms that poll for replies and so need the open-threads index (default: all). */
  polledPlatforms?: readonly string[];
  /** Bounds of each agent's feed (default `feedMaxLength` entries, `feedMaxAgeMs`). */
  feedLimits?: { readonly maxLength: number; readonly maxAgeMs: number };
}): HandoffStore {
  const { redis, keys, now } = deps;
  const feedLimits = deps.feedLimits ?? { maxLength: feedMaxLength, maxAgeMs: feedMaxAgeMs };
  const indexed = (thread: string) => {
    const platform = platformOf(thread);
    return deps.polledPlatforms === undefined || deps.polledPlatforms.includes(platform) ? platform : undefined;
  };

  const ended = async (record: HandoffRecord) => {
    const threadKey = keys.threadHandoffs(record.thread);
    // It no longer counts against its agent's open-handoff limit either.
    const [, left] =
      (await redis
        .multi()
        .zrem(threadKey, record.id)
        .zcard(threadKey)
        .zrem(keys.agentOpen(record.agentId), record.id)
        .exec()) ?? [];
    const polled = indexed(record.thread);
    if (left?.[1] === 0 && polled) await redis.zrem(keys.openThreads(polled), record.thread);
  };

  const get = async (id: string) => decodeRecord(await redis.get(keys.handoff(id)));
  const getMany = async (ids: readonly string[]) =>
    ids.length === 0 ? [] : (await redis.mget(...ids.map((id) => keys.handoff(id)))).map(decodeRecord);

  return {
    async create(record) {
      const threadKey = keys.threadHandoffs(record.thread);
      const keepUntil = record.expiresAt + finishedRetentionMs;
      const polled = indexed(record.thread);
      const tx = redis.multi();
      if (polled) tx.zadd(keys.openThreads(polled), 'GT', record.expiresAt, record.thread);
      await tx
        .set(keys.handoff(record.id), encodeRecord(record), 'PXAT', keepUntil)
        // A small sorted set stays in Redis's compact listpack encoding (a set of strings does
        // not), and its scores keep a thread's handoffs in creation order.
        .zadd(threadKey, record.createdAt, record.id)
        .pexpireat(threadKey, keepUntil, 'GT')
        .pexpireat(threadKey, keepUntil, 'NX')
        .zadd(keys.handoffIndex(), record.createdAt, record.id)
        .zremrangebyrank(keys.handoffIndex(), 0, -recentIndexSize - 1)
        .zadd(keys.agentHandoffs(record.agentId), record.createdAt, record.id)
        .zremrangebyrank(keys.agentHandoffs(record.agentId), 0, -recentIndexSize - 1)
        .pexpireat(keys.agentHandoffs(record.agentId), keepUntil, 'GT')
        .pexpireat(keys.agentHandoffs(record.agentId), keepUntil, 'NX')
        .exec();
    },

    get,

    async transition(id, request) {
      const from = request.from ?? (request.to ? sourcesOf(request.to) : []);
      const patch = encodePatch(request.set ?? {});
      const terminal = request.to !== undefined && isTerminal(request.to);
      const agentId = terminal ? (request.agentId ?? (await get(id))?.agentId) : undefined;
      const audit = agentId === undefined ? undefined : request.audit;
      const scriptKeys = [keys.handoff(id)];
      if (agentId !== undefined) scriptKeys.push(keys.agentFeed(agentId));
      if (audit) scriptKeys.push(keys.audit());
      const args: string[] = [
        from.join(','),
        request.to ?? '',
        request.expectVersion === undefined ? '' : String(request.expectVersion),
        String(now()),
        keys.events(),
        terminal ? String(finishedRetentionMs) : '',
        patch.set,
        patch.unset,
        agentId ?? '',
        String(feedLimits.maxLength),
        String(feedLimits.maxAgeMs),
        ...(audit ? [audit.actor, audit.source ?? '', audit.requestId ?? '', String(auditMaxLength)] : []),
      ];
      const reply = (await transitionScript.run(redis, scriptKeys, args)) as [number, string?];
      if (reply[0] === -1) return { ok: false, reason: 'not_found' };
      if (reply[0] === -2) throw new Error(`transition of ${id}: agentId ${agentId} is not the record's agent`);
      const record = decodeRecord(reply[1]);
      if (!record) return { ok: false, reason: 'not_found' };
      if (reply[0] === 0) return { ok: false, reason: 'conflict', record };
      if (terminal) await ended(record);
      return { ok: true, record };
    },

    ended,

    vote: createApprovalVotes({ redis, keys, ended, retentionMs: finishedRetentionMs, feedLimits }).vote,

    async openInThread(threadRef) {
      const records = await getMany(await redis.zrange(keys.threadHandoffs(threadRef), 0, -1));
      return records
        .filter((r): r is HandoffRecord => r !== undefined && !isTerminal(r.status))
        .sort((a, b) => a.createdAt - b.createdAt);
    },

    openMarker: (threadRef) => keys.threadHandoffs(threadRef),
    recordKey: (handoffId) => keys.handoff(handoffId),

    async openThreads(platform) {
      const key = keys.openThreads(platform);
      // Threads whose every handoff has expired drop out even if no transition removed them.
      await redis.zremrangebyscore(key, '-inf', `(${now()}`);
      return redis.zrange(key, 0, -1);
    },

    async recent(limit) {
      const records = await getMany(await redis.zrevrange(keys.handoffIndex(), 0, Math.max(0, limit - 1)));
      return records.filter((r): r is HandoffRecord => r !== undefined);
    },

    async recentOf(agentId, limit) {
      const records = await getMany(await redis.zrevrange(keys.agentHandoffs(agentId), 0, Math.max(0, limit - 1)));
      return records.filter((r): r is HandoffRecord => r !== undefined);
    },
  };
}
