import type { HandoffRecord } from '../core/handoff.js';
import { handoffTag } from '../core/handoff-tag.js';
import type { ParsedReply } from '../core/parsed-reply.js';
import { say, value } from '../core/sentence.js';
import type { InboundReply } from '../core/thread-adapter.js';
import { textLimits } from '../core/untrusted-text.js';
import { castVote, type VoteOutcome } from './approval-vote.js';
import { voteOf } from './approval-words.js';
import type { EngineDeps } from './engine-deps.js';

/**
 * A reply that decides an approval (issue #13): its words (parsed once with the rest of the reply) and the one
 * approval it is for — the one the platform or the text names (tag or id), else the only
 * approval waiting in the thread. Several waiting and none named: the thread is asked which,
 * and nothing is counted. Returns undefined when the reply is not a vote on an approval
 * (the login path handles it).
 */
export type ApprovalReplyResult = `vote_${VoteOutcome}` | 'vote_asked_which';

export async function handleApprovalReply(
  deps: EngineDeps,
  reply: InboundReply,
  open: readonly HandoffRecord[],
  parsed: ParsedReply,
): Promise<ApprovalReplyResult | undefined> {
  const approvals = open.filter((r) => r.kind === 'approval');
  if (approvals.length === 0) return undefined;
  const choice = voteOf(parsed.decision);
  if (!choice) return undefined;
  const said = parsed.named;
  const named = reply.handoffId !== undefined || said.ids.length > 0 || said.tags.length > 0;
  // The handoff the platform names (its button, its comment) is the one: tags or ids in the
  // text (a deny reason's, say) name no other.
  const pool =
    reply.handoffId !== undefined
      ? approvals.filter((r) => r.id === reply.handoffId)
      : named
        ? approvals.filter((r) => said.ids.includes(r.id) || said.tags.includes(handoffTag(r.id)))
        : approvals.filter((r) => r.status === 'awaiting_human');
  if (pool.length === 1) {
    return `vote_${await castVote(deps, pool[0]!, reply.author, choice, {
      platform: reply.platform,
      messageRef: reply.messageRef,
      ...(reply.answerPrivately ? { answerPrivately: true } : {}),
    })}`;
  }
  if (named && pool.length === 0) return undefined;
  const waiting = pool.length > 0 ? pool : approvals;
  const tags = waiting.map((r) => value(handoffTag(r.id), textLimits.id));
  const list = tags.flatMap((t, i) => [...(i > 0 ? [', '] : []), t]);
  await deps.audit.append({
    event: 'reply.ambiguous',
    handoffId: waiting[0]!.id,
    agentId: waiting[0]!.agentId,
    correlationId: waiting[0]!.correlationId,
    actor: reply.author.id,
    detail: { platform: reply.platform, named, waiting: waiting.length, kind: 'approval' },
  });
  await deps.outbox.send({
    kind: 'post',
    handoffId: waiting[0]!.id,
    thread: waiting[0]!.thread,
    message: {
      kind: 'notice',
      handoffId: waiting[0]!.id,
      event: 'which_handoff',
      text: say`Several approval requests wait in this thread: ${list}. Nothing was counted: reply again with the tag of the one you mean (for example ${tags[0]!} approve).`,
    },
  });
  return 'vote_asked_which';
}

/**
 * The handoff a click names (InboundReply.answerPrivately with handoffId), open or not: a click
 * after the decision still hears "already approved by …", a "New link" click on a login that
 * ended hears that it ended. The id came back from the platform in the button, untrusted: a
 * handoff that is not of the very thread the click came from is `foreign` (audited, nothing
 * counted, nothing said). Undefined: not a click, or no such handoff.
 */
export async function clickedHandoff(
  deps: EngineDeps,
  reply: InboundReply,
  open: readonly HandoffRecord[],
): Promise<HandoffRecord | 'foreign' | undefined> {
  if (!reply.answerPrivately || reply.handoffId === undefined) return undefined;
  const record = open.find((r) => r.id === reply.handoffId) ?? (await deps.store.get(reply.handoffId));
  if (record?.thread === reply.thread) return record;
  if (record) {
    await deps.audit.append({
      event: 'reply.refused',
      handoffId: record.id,
      agentId: record.agentId,
      correlationId: record.correlationId,
      actor: reply.author.id,
      detail: { platform: reply.platform, code: 'not_this_thread' },
    });
  }
  return 'foreign';
}
