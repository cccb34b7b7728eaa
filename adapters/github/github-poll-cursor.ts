import type { Redis } from 'ioredis';

/**
 * Where polling of one repository stands, in Redis so that every bridge process continues
 * where the last poll (by any process) stopped: `since` for `issues.listCommentsForRepo`, and
 * the ETag GitHub gave for that exact query, so an unchanged repository answers 304.
 */
export interface PollCursor {
  /** ISO time to list comments updated since. */
  readonly since?: string;
  readonly etag?: string;
  /** The `since` the ETag belongs to (an ETag only matches the same query). */
  readonly etagSince?: string;
}

export interface PollCursorStore {
  get(scope: string): Promise<PollCursor>;
  save(scope: string, cursor: PollCursor): Promise<void>;
  /** Keeps a cursor alive after a 304. */
  touch(scope: string): Promise<void>;
  /** Starts a repository's cursor at a comment the bridge posted, unless it has one. */
  startAt(scope: string, since: string): Promise<void>;
}

/**
 * A cursor nobody polled for this long is forgotten, ms. Polling runs while any handoff in the
 * repository is open (rate-limit waits last at most an hour), so an expired cursor means the
 * repository had nothing open meanwhile: the next handoff starts afresh at its own comment.
 */
export const cursorTtlMs = 3 * 3_600_000;

export function createPollCursorStore(redis: Redis, keyPrefix: string): PollCursorStore {
  const key = (scope: string) => `${keyPrefix}:poll:${scope}`;
  return {
    async get(scope) {
      const h = await redis.hgetall(key(scope));
      return {
        ...(h.since ? { since: h.since } : {}),
        ...(h.etag ? { etag: h.etag } : {}),
        ...(h.etagSince ? { etagSince: h.etagSince } : {}),
      };
    },
    async save(scope, cursor) {
      const fields: Record<string, string> = {};
      for (const [name, value] of Object.entries(cursor)) if (typeof value === 'string') fields[name] = value;
      if (Object.keys(fields).length === 0) await redis.del(key(scope));
      else await redis.multi().del(key(scope)).hset(key(scope), fields).pexpire(key(scope), cursorTtlMs).exec();
    },
    async touch(scope) {
      await redis.pexpire(key(scope), cursorTtlMs);
    },
    async startAt(scope, since) {
      await redis.multi().hsetnx(key(scope), 'since', since).pexpire(key(scope), cursorTtlMs).exec();
    },
  };
}
