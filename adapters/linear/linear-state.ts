import type { KeyValueStore } from '../../src/core/key-value.js';

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

export function createLinearState(store: KeyValueStore, ttlMs = defaultLinearStateTtlMs): LinearState {
  const key = (...parts: string[]) => parts.join(':');
  const entry = (value: string, ...parts: string[]) => ({ key: key(...parts), value, ttlMs });
  return {
    async beforePost(commentId, link) {
      await store.set([
        entry('1', 'ours', commentId),
        ...(link
          ? [entry(link.ref, 'issue-thread', link.issueUuid), entry(link.issueUuid, 'thread-issue', link.ref)]
          : []),
      ]);
    },
    async ours(ids) {
      return (await store.getMany(ids.map((id) => key('ours', id)))).map((v) => v !== undefined);
    },
    async linkIssue(ref, issueUuid) {
      await store.set([entry(ref, 'issue-thread', issueUuid), entry(issueUuid, 'thread-issue', ref)]);
    },
    async threadOfIssue(issueUuid) {
      return store.get(key('issue-thread', issueUuid));
    },
    async inbound(commentId, issueUuid, parentId) {
      const [ours, thread, handoffId] = await store.getMany([
        key('ours', commentId),
        key('issue-thread', issueUuid),
        key('approval-of', parentId ?? '-'),
      ]);
      return { ours: ours !== undefined, thread, handoffId: parentId ? handoffId : undefined };
    },
    async handoffsOfApprovals(commentIds) {
      return store.getMany(commentIds.map((id) => key('approval-of', id)));
    },
    async issuesOfThreads(refs) {
      return store.getMany(refs.map((ref) => key('thread-issue', ref)));
    },
    async rememberApproval(handoffId, commentId) {
      await store.set([entry(commentId, 'approval', handoffId), entry(handoffId, 'approval-of', commentId)]);
    },
    async approvalOf(handoffId) {
      return store.get(key('approval', handoffId));
    },
    async cursors(refs) {
      return (await store.getMany(refs.map((ref) => key('cursor', ref)))).map((v) =>
        v === undefined ? undefined : Number(v),
      );
    },
    async setCursors(cursors) {
      await store.set([...cursors].map(([ref, at]) => entry(String(at), 'cursor', ref)));
    },
    async startCursor(ref, at) {
      await store.setIfAbsent(entry(String(at), 'cursor', ref));
    },
  };
}
