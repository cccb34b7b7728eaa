import { HandoffError } from '../core/errors.js';
import { extractAnswers, mentionsLink, pickAnswer } from '../core/finish-code.js';
import type { HandoffRecord } from '../core/handoff.js';
import type { ApproverVerdict, InboundReply, Person } from '../core/thread-adapter.js';
import { claimWithAnswer, type ClaimOutcome } from './claim.js';
import type { EngineDeps } from './engine-deps.js';
import { notices } from './notices.js';

/**
 * What happens to a person's reply in a thread. Most replies are conversation and are left
 * alone; only a reply that answers an open handoff (a code, "done", or the link pasted back
 * by mistake) gets a response. Only allowed approvers can finish a handoff.
 */
export type ReplyResult =
  | 'no_open_handoff'
  | 'not_an_answer'
  | 'hinted'
  | 'poll_requested'
  | 'refused'
  | ClaimOutcome['kind'];

const norm = (s: string) => s.trim().replace(/^@/, '').toLowerCase();

export async function checkApprover(deps: EngineDeps, record: HandoffRecord, author: Person): Promise<ApproverVerdict> {
  const { adapter, thread } = deps.adapters.parse(record.thread);
  if (adapter.checkApprover) return adapter.checkApprover(thread, author, record.approvers);
  if (record.approvers.length === 0) return { allowed: true };
  const names = new Set(record.approvers.map(norm));
  const allowed = names.has(norm(author.id)) || (author.name !== undefined && names.has(norm(author.name)));
  return { allowed };
}

/** How long a reply waits when its handoff is busy (starting, or another answer being checked), ms. */
export const busyRetryMs = 1_000;
/** After this long a busy handoff's reply is handled as it stands, ms (a start retries for ~4 min). */
export const busyPatienceMs = 10 * 60_000;

/** Anything that could be an answer: any code shape, or "done". */
function looksLikeAnswer(text: string, record: HandoffRecord): boolean {
  if (record.answer) return pickAnswer(text, record.answer) !== undefined;
  const found = extractAnswers(text);
  return found.finishCodes.length > 0 || found.oneTimeCodes.length > 0 || found.saysDone;
}

/** A "done" for a login the bridge can poll is a cue to ask the service now, not a code to claim with. */
const pollsForDone = (r: HandoffRecord) => r.answer === 'done' && r.nextPollAt !== undefined;

export async function handleReply(deps: EngineDeps, reply: InboundReply, jobId: string, options: { finalAttempt?: boolean } = {}): Promise<ReplyResult> {
  const open = await deps.store.openInThread(reply.thread);
  if (open.length === 0) return 'no_open_handoff';
  const ctx = (r: HandoffRecord) => ({ handoffId: r.id, agentId: r.agentId, correlationId: r.correlationId, actor: reply.author.id });

  // Waiting handoffs (or one this very job was claiming before a crash) that this reply answers.
  const answerable = open.filter((r) => r.status === 'awaiting_human' || (r.status === 'claiming' && r.claimedBy === jobId));
  const candidates = answerable
    .filter((r) => !pollsForDone(r))
    .map((record) => ({ record, code: record.answer ? pickAnswer(reply.text, record.answer) : undefined }))
    .filter((c): c is { record: HandoffRecord; code: string } => c.code !== undefined);

  if (candidates.length === 0) {
    // An answer for a handoff that is still starting (the request was posted moments before
    // the status changed) or whose other answer is being checked right now: come back in a
    // second rather than drop it; the checked answer may turn out wrong.
    const busy = open.find((r) => (r.status === 'pending' || (r.status === 'claiming' && r.claimedBy !== jobId)) && looksLikeAnswer(reply.text, r));
    if (busy && deps.clock.now() - reply.receivedAt < busyPatienceMs) {
      throw new HandoffError(`Handoff ${busy.id} is ${busy.status === 'pending' ? 'still starting' : 'checking another answer'}; the reply waits.`, {
        code: 'handoff_busy',
        status: 409,
        retry: 'after_delay',
        retryAfterMs: busyRetryMs,
      });
    }
    const linked = open.find((r) => r.approvalUrl && mentionsLink(reply.text, r.approvalUrl));
    if (linked) {
      await deps.outbox.send({ kind: 'post', handoffId: linked.id, thread: linked.thread, message: notices.hintOpenLink(linked) });
      return 'hinted';
    }
    // "done" on a handoff that polls: check with the service now instead of at the next tick.
    const pollable = extractAnswers(reply.text).saysDone ? answerable.filter((r) => r.nextPollAt !== undefined) : [];
    if (pollable.length > 0) {
      for (const record of pollable) {
        await deps.store.transition(record.id, { from: ['awaiting_human'], set: { nextPollAt: deps.clock.now() } });
        await deps.jobs.wake(record.id);
        await deps.audit.append({ event: 'reply.poll_requested', ...ctx(record) });
      }
      await deps.outbox.send({ kind: 'react', handoffId: pollable[0]!.id, message: reply.messageRef, reaction: 'seen' });
      return 'poll_requested';
    }
    return 'not_an_answer';
  }

  // The answer goes to the oldest waiting handoff that accepts it; a code wrong for all of
  // them counts as one wrong attempt on the newest.
  let last: ReplyResult = 'not_an_answer';
  for (const [index, { record, code }] of candidates.entries()) {
    const verdict = await checkApprover(deps, record, reply.author);
    if (!verdict.allowed) {
      await deps.audit.append({ event: 'reply.refused', ...ctx(record), detail: { platform: reply.platform } });
      await deps.outbox.send({
        kind: 'post',
        handoffId: record.id,
        thread: record.thread,
        message: notices.refused(record, reply.author, verdict.reason),
      });
      last = 'refused';
      continue;
    }
    await deps.audit.append({ event: 'reply.accepted', ...ctx(record), detail: { platform: reply.platform } });
    if (index === 0) await deps.outbox.send({ kind: 'react', handoffId: record.id, message: reply.messageRef, reaction: 'seen' });
    const isLast = index === candidates.length - 1;
    const source = { kind: 'reply' as const, reply, jobId, ...(options.finalAttempt ? { finalAttempt: true } : {}) };
    const outcome = await claimWithAnswer(deps, record, { code }, source, { onWrongCode: isLast ? 'count' : 'release' });
    last = outcome.kind;
    if (outcome.kind !== 'wrong_code') return outcome.kind;
  }
  return last;
}
