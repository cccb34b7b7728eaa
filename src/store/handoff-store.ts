import type { Redis } from './redis.js';
import { isTerminal, sourcesOf, type HandoffRecord, type HandoffStatus } from '../core/handoff.js';
import { platformOf } from '../core/thread-ref.js';
import { decodeRecord, encodePatch, encodeRecord, type HandoffPatch } from './handoff-codec.js';
import { createApprovalVotes, type ApprovalVotesStore } from './approval-votes.js';
import { feedMaxAgeMs, feedMaxLength, feedScopes } from './agent-feed.js';
import { auditMaxLength } from './audit-log.js';
import type { AuditOrigin } from '../core/caller.js';
import type { Keys } from './keys.js';
import { transitionScript } from './transition-script.js';

/** Handoffs kept in the recent listing. */
export const recentIndexSize = 1_000;

/** How long finished handoffs stay readable, ms (7 days). */
export const finishedRetentionMs = 7 * 24 * 3_600_000;

export interface TransitionRequest {
  /** Target status; omit to update fields without changing status. */
  readonly to?: HandoffStatus;
  /** Statuses the record must be in. Default: every status that may reach `to`. */
  readonly from?: readonly HandoffStatus[];
  /** Fail unless the record is at exactly this version. */
  readonly expectVersion?: number;
  readonly set?: HandoffPatch;
  /**
   * The record's agent and thread (they never change), for the feed entry and the bookkeeping
   * of a terminal transition; read from the record first when either is absent (one more
   * round trip).
   */
  readonly agentId?: string;
  readonly thread?: string;
  /**
   * Who ended it, for a terminal transition's `handoff.<status>` audit entry, written by the
   * same script (only the sink's copy is left to the caller: AuditLog.copyToSink). Without
   * it, a terminal transition is not audited as an ending.
   */
  readonly audit?: AuditOrigin;
  /**
   * The scopes of the credential a login completes with, for its feed entry (agent-feed.ts):
   * with them the entry names the credential, and the agent needs no second request.
   */
  readonly credentialScopes?: readonly string[];
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
      const read =
        terminal && (request.agentId === undefined || request.thread === undefined) ? await get(id) : undefined;
      const agentId = terminal ? (request.agentId ?? read?.agentId) : undefined;
      const thread = request.thread ?? read?.thread;
      const owner = agentId !== undefined && thread !== undefined ? { agentId, thread } : undefined;
      if (terminal && !owner) return { ok: false, reason: 'not_found' };
      const scriptKeys = [keys.handoff(id)];
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
      ];
      if (owner) {
        const audit = request.audit;
        const polled = indexed(owner.thread);
        scriptKeys.push(
          keys.agentFeed(owner.agentId),
          keys.audit(),
          keys.threadHandoffs(owner.thread),
          keys.agentOpen(owner.agentId),
          keys.openThreads(polled ?? platformOf(owner.thread)),
        );
        args.push(
          audit?.actor ?? '',
          audit?.source ?? '',
          audit?.requestId ?? '',
          String(auditMaxLength),
          audit ? '1' : '',
          owner.thread,
          polled ? '1' : '',
        );
        const scopes =
          request.to === 'completed' && request.credentialScopes ? feedScopes(request.credentialScopes) : undefined;
        if (scopes !== undefined) args.push(scopes);
      }
      const reply = (await transitionScript.run(redis, scriptKeys, args)) as [number, string?];
      if (reply[0] === -1) return { ok: false, reason: 'not_found' };
      if (reply[0] === -2)
        throw new Error(`transition of ${id}: agentId ${agentId} is not the record's agent, or ${thread} its thread`);
      const record = decodeRecord(reply[1]);
      if (!record) return { ok: false, reason: 'not_found' };
      if (reply[0] === 0) return { ok: false, reason: 'conflict', record };
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
