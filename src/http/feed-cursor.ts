import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { BadInputError } from '../core/errors.js';

/**
 * Cursors of the agents' feeds (GET /v1/events): `<stream id>.<mac>`, where the MAC binds the
 * position to one agent's feed. A cursor is therefore only good for the feed that issued it:
 * another agent's cursor, an altered one, or a made-up position is refused with 400
 * `invalid_cursor` instead of being read as a position in the caller's feed. The key is
 * derived from the vault key (a new vault key makes old cursors invalid; a resumer then starts
 * over from the oldest entry kept, which is safe: waking a job twice is harmless).
 */
export interface FeedCursors {
  /** The cursor for position `streamId` of `agentId`'s feed. */
  issue(agentId: string, streamId: string): string;
  /** The stream id a cursor names, after checking it was issued for `agentId`'s feed. */
  open(agentId: string, cursor: string): string;
}

/** Derives the cursor key from the vault key (HKDF-SHA256), so there is no new secret to keep. */
export function feedCursorKey(vaultKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', vaultKey, Buffer.alloc(0), 'handoff agent feed cursors v1', 32));
}

// Stream ids are `<ms>-<seq>`, each at most 20 digits as Redis prints them (64-bit unsigned).
const shape = /^(\d{1,20}-\d{1,20})\.([A-Za-z0-9_-]{22})$/;
const maxId = 2n ** 64n - 1n;

export function createFeedCursors(key: Buffer): FeedCursors {
  const mac = (agentId: string, streamId: string) =>
    createHmac('sha256', key).update(`${agentId}\n${streamId}`).digest('base64url').slice(0, 22);
  const invalid = (why: string) =>
    new BadInputError(
      `The cursor ${why}. Pass back a cursor this feed gave you, or leave out "after" to start from the oldest event kept.`,
      {
        code: 'invalid_cursor',
        details: { field: 'after' },
      },
    );
  return {
    issue: (agentId, streamId) => `${streamId}.${mac(agentId, streamId)}`,
    open(agentId, cursor) {
      const match = shape.exec(cursor);
      if (!match) throw invalid('is not one the bridge issues (expected <position>.<check>)');
      const streamId = match[1]!;
      if (streamId.split('-').some((part) => BigInt(part) > maxId)) throw invalid('names a position no feed has');
      const expected = Buffer.from(mac(agentId, streamId));
      if (!timingSafeEqual(expected, Buffer.from(match[2]!)))
        throw invalid("was not issued for this feed (another agent's, or altered)");
      return streamId;
    },
  };
}
