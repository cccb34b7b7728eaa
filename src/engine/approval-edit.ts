import type { HandoffRecord } from '../core/handoff.js';
import type { MessageRef, PostContext, ThreadAdapter } from '../core/thread-adapter.js';
import { approvalRequestNow } from './approval-notices.js';
import type { EngineDeps } from './engine-deps.js';
import type { OutboundAction } from './ports.js';

/**
 * The approval request edited in place (issue #13): after each counted vote and at the end
 * (approved, denied, expired, cancelled) the outbound queue edits the request the bridge
 * posted, through the adapter's `update`, to show the votes so far and then the outcome.
 *
 * The edit job carries no message: it renders the record as it is when the job runs, and
 * checks once more after editing, so a late edit can only repeat the latest state, never put
 * back an older one. Nothing is lost between the post and the first vote either: the post's
 * id is kept on the record by one atomic write (`rememberRequestMessage`), and whichever of
 * that write and a vote comes second queues the edit.
 */

/** Edits that find the record changed once more re-render this many times at most. */
const maxRounds = 3;

/** Queues an edit of the request, once per version of the record (a retried caller adds nothing). */
export async function queueRequestEdit(
  deps: Pick<EngineDeps, 'outbox'>,
  record: HandoffRecord,
  message?: MessageRef,
): Promise<void> {
  if (record.kind !== 'approval') return;
  // Not posted yet: the post's own bookkeeping queues the edit once it knows the message.
  if (!message && !record.requestMessage) return;
  await deps.outbox.send(
    { kind: 'edit', handoffId: record.id, thread: record.thread, ...(message ? { message } : {}) },
    { dedupeKey: message ? `approval-edit-posted-${record.id}` : `approval-edit-${record.id}-${record.version}` },
  );
}

/**
 * After the request is posted: keeps its id on the record while the approval is open; when
 * votes came meanwhile, or it ended before the post came back, queues the edit that shows it.
 */
export async function rememberRequestMessage(
  deps: Pick<EngineDeps, 'store' | 'outbox'>,
  handoffId: string,
  posted: MessageRef,
): Promise<void> {
  const saved = await deps.store.transition(handoffId, {
    from: ['pending', 'awaiting_human'],
    set: { requestMessage: posted.id },
  });
  if (saved.ok) {
    const votes = saved.record.votes;
    if ((votes?.approve.length ?? 0) + (votes?.deny.length ?? 0) > 0) await queueRequestEdit(deps, saved.record);
    return;
  }
  if (saved.reason === 'conflict') await queueRequestEdit(deps, saved.record, posted);
}

const sameMessage = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The outbound queue's `edit`: renders the record now and replaces the request's content with it. */
export async function editRequestMessage(
  deps: Pick<EngineDeps, 'store' | 'logger'>,
  adapter: ThreadAdapter,
  action: Extract<OutboundAction, { kind: 'edit' }>,
  context: PostContext,
): Promise<string> {
  if (!adapter.update) return 'unsupported';
  const unnamed = adapter.unnamedApprovers ?? 'anyone';
  let record = await deps.store.get(action.handoffId);
  for (let round = 0; round < maxRounds; round++) {
    if (!record || record.kind !== 'approval') return 'gone';
    const id = action.message?.id ?? record.requestMessage;
    if (!id) return 'not_posted';
    const message = approvalRequestNow(record, unnamed);
    await adapter.update({ platform: adapter.platform, thread: record.thread, id }, message, context);
    // Another edit may have run beside this one with an older picture: the last word is the latest.
    const after = await deps.store.get(action.handoffId);
    if (!after || sameMessage(approvalRequestNow(after, unnamed), message)) return record.status;
    record = after;
  }
  deps.logger.debug('approval request still changing after edits', { handoffId: action.handoffId });
  return 'edited';
}
