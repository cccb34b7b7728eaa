import type { Redis } from 'ioredis';

/**
 * What the Linear adapter remembers, in the bridge's Redis under `<prefix>:linear:`:
 *
 * - `ours:<comment id>`: comments the bridge created, written *before* creating them (the
 *   id is ours to choose), so our own comments are never taken for replies, even when the
 *   webhook arrives before Linear's answer to the create;
 * - `issue-thread:<issue uuid>` → the thread ref the engine uses, and `thread-issue:<ref>` →
 *   the issue's UUID: webhooks and polls name issues by UUID, handoffs by key or UUID;
 * - `approval:<handoff id>` → the approval comment's id, so notices are threaded under it, and
 *   `approval-of:<comment id>` → the handoff, so a reply under it answers that handoff alone;
 * - `cursor:<ref>`: for polling, the time (epoch ms) up to which the thread's comments were read.
 *
 * Every key expires on its own, `ttlMs` after its last write (longer than any handoff can
 * wait, so a link never lapses under a waiting handoff): nothing here needs cleaning.
 */
export const defaultLinearStateTtlMs = 8 * 24 * 3_600_000;

/** A polling cursor starts this long before the approval was posted, and trails each poll by as much (clock skew, late comments), ms. */
export const cursorSlackMs = 60_000;

export interface LinearState {
  /** Marks a comment id as the bridge's own; and, when known, links a thread to its issue. */
  beforePost(commentId: string, link?: { readonly ref: string; readonly issueUuid: string }): Promise<void>;
  /** Which of these comment ids the bridge created. */
  ours(commentIds: readonly string[]): Promise<boolean[]>;
  /** Links a thread ref and its issue UUID both ways. */
  linkIssue(ref: string, issueUuid: string): Promise<void>;
  /** The thread ref a handoff used for this issue, if the bridge ever posted there. */
  threadOfIssue(issueUuid: string): Promise<string | undefined>;
  /**
   * For an incoming comment, in one round trip: is it ours, which thread is its issue, and —
   * when it replies under an approval comment (`parentId`) — which handoff that approval is.
   */
  inbound(
    commentId: string,
    issueUuid: string,
    parentId?: string,
  ): Promise<{ ours: boolean; thread: string | undefined; handoffId: string | undefined }>;
  /** The handoffs whose approval comments these are (undefined where none). */
  handoffsOfApprovals(commentIds: readonly string[]): Promise<Array<string | undefined>>;
  /** The issue UUIDs of these refs, where known. */
  issuesOfThreads(refs: readonly string[]): Promise<Array<string | undefined>>;
  rememberApproval(handoffId: string, commentId: string): Promise<void>;
  approvalOf(handoffId: string): Promise<string | undefined>;
  /** Polling cursors, epoch ms. */
  cursors(refs: readonly string[]): Promise<Array<number | undefined>>;
  setCursors(cursors: ReadonlyMap<string, number>): Promise<void>;
  /** Starts a thread's cursor at `at` unless it already has one. */
  startCursor(ref: string, at: number): Promise<void>;
}

export function createLinearState(redis: Redis, keyPrefix: string, ttlMs = defaultLinearStateTtlMs): LinearState {
  const key = (...parts: string[]) => [keyPrefix, ...parts].join(':');
  const ttl = String(ttlMs);
  return {
    async beforePost(commentId, link) {
      const tx = redis.multi().set(key('ours', commentId), '1', 'PX', ttl);
      if (link) {
        tx.set(key('issue-thread', link.issueUuid), link.ref, 'PX', ttl).set(
          key('thread-issue', link.ref),
          link.issueUuid,
          'PX',
          ttl,
        );
      }
      await tx.exec();
    },
    async ours(ids) {
      if (ids.length === 0) return [];
      const found = await redis.mget(...ids.map((id) => key('ours', id)));
      return found.map((v) => v !== null);
    },
    async linkIssue(ref, issueUuid) {
      await redis
        .multi()
        .set(key('issue-thread', issueUuid), ref, 'PX', ttl)
        .set(key('thread-issue', ref), issueUuid, 'PX', ttl)
        .exec();
    },
    async threadOfIssue(issueUuid) {
      return (await redis.get(key('issue-thread', issueUuid))) ?? undefined;
    },
    async inbound(commentId, issueUuid, parentId) {
      const [ours, thread, handoffId] = await redis.mget(
        key('ours', commentId),
        key('issue-thread', issueUuid),
        key('approval-of', parentId ?? '-'),
      );
      return {
        ours: ours !== null && ours !== undefined,
        thread: thread ?? undefined,
        handoffId: parentId ? (handoffId ?? undefined) : undefined,
      };
    },
    async handoffsOfApprovals(commentIds) {
      if (commentIds.length === 0) return [];
      return (await redis.mget(...commentIds.map((id) => key('approval-of', id)))).map((v) => v ?? undefined);
    },
    async issuesOfThreads(refs) {
      if (refs.length === 0) return [];
      return (await redis.mget(...refs.map((ref) => key('thread-issue', ref)))).map((v) => v ?? undefined);
    },
    async rememberApproval(handoffId, commentId) {
      await redis
        .multi()
        .set(key('approval', handoffId), commentId, 'PX', ttl)
        .set(key('approval-of', commentId), handoffId, 'PX', ttl)
        .exec();
    },
    async approvalOf(handoffId) {
      return (await redis.get(key('approval', handoffId))) ?? undefined;
    },
    async cursors(refs) {
      if (refs.length === 0) return [];
      return (await redis.mget(...refs.map((ref) => key('cursor', ref)))).map((v) =>
        v === null ? undefined : Number(v),
      );
    },
    async setCursors(cursors) {
      if (cursors.size === 0) return;
      const tx = redis.multi();
      for (const [ref, at] of cursors) tx.set(key('cursor', ref), String(at), 'PX', ttl);
      await tx.exec();
    },
    async startCursor(ref, at) {
      await redis.set(key('cursor', ref), String(at), 'PX', ttl, 'NX');
    },
  };
}
