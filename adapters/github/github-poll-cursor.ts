import type { KeyValueStore } from '../../src/core/key-value.js';

/**
 * Where polling of one repository stands, in the bridge's store so that every bridge process continues
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

export function createPollCursorStore(store: KeyValueStore): PollCursorStore {
  // One JSON value per repository (`cursor:`, not the hash that `poll:` keys held before).
  const key = (scope: string) => `cursor:${scope}`;
  return {
    async get(scope) {
      const raw = await store.get(key(scope));
      const h = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      const text = (name: string) => (typeof h[name] === 'string' && h[name] !== '' ? { [name]: h[name] } : {});
      return { ...text('since'), ...text('etag'), ...text('etagSince') };
    },
    async save(scope, cursor) {
      const fields: Record<string, string> = {};
      for (const [name, value] of Object.entries(cursor)) if (typeof value === 'string') fields[name] = value;
      if (Object.keys(fields).length === 0) await store.delete(key(scope));
      else await store.set([{ key: key(scope), value: JSON.stringify(fields), ttlMs: cursorTtlMs }]);
    },
    async touch(scope) {
      await store.touch(key(scope), cursorTtlMs);
    },
    async startAt(scope, since) {
      const entry = { key: key(scope), value: JSON.stringify({ since }), ttlMs: cursorTtlMs };
      if (!(await store.setIfAbsent(entry))) await store.touch(key(scope), cursorTtlMs);
    },
  };
}
