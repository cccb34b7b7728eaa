import type { HandoffRecord } from '../core/handoff.js';
import type { ApproverVerdict, InboundReply } from '../core/thread-adapter.js';
import type { EngineDeps } from './engine-deps.js';
import { notices } from './notices.js';

/**
 * What the bridge does with a reply it will not send to a service: refuse a person who may not
 * answer, ask the service now ("done"), or ask the thread which handoff a reply meant.
 */
export type Ctx = ReturnType<typeof auditContext>;
export const auditContext = (r: HandoffRecord, reply: InboundReply) => ({
  handoffId: r.id,
  agentId: r.agentId,
  correlationId: r.correlationId,
  actor: reply.author.id,
});

/** Tells the thread this person may not answer `record`, and audits it. */
export async function refuse(
  deps: EngineDeps,
  reply: InboundReply,
  record: HandoffRecord,
  verdict: ApproverVerdict,
): Promise<'refused'> {
  await deps.audit.append({
    event: 'reply.refused',
    ...auditContext(record, reply),
    detail: { platform: reply.platform },
  });
  // A click is refused to the clicker alone, once per person and handoff (a flood is one answer).
  await deps.outbox.send(
    {
      kind: 'post',
      handoffId: record.id,
      thread: record.thread,
      message: notices.refused(record, reply.author, verdict.reason),
      ...(reply.answerPrivately ? { answerTo: reply.author } : {}),
    },
    reply.answerPrivately ? { dedupeKey: `answer-refused-${record.id}-${reply.author.id}` } : {},
  );
  return 'refused';
}

/**
 * Asks the service now instead of at the next tick. An approver's "done" (`vouchedBy`) also
 * vouches for that one poll's result when the service cannot say who approved.
 */
export async function requestPoll(
  deps: EngineDeps,
  record: HandoffRecord,
  reply: InboundReply,
  vouchedBy: string | undefined,
  ctx?: Ctx,
  react = false,
): Promise<'poll_requested'> {
  const now = deps.clock.now();
  await deps.store.transition(record.id, {
    from: ['awaiting_human'],
    set: { nextPollAt: now, ...(vouchedBy ? { confirmedBy: vouchedBy, confirmedAt: now } : {}) },
  });
  await deps.jobs.wake(record.id);
  await deps.audit.append({
    event: 'reply.poll_requested',
    ...(ctx ?? auditContext(record, reply)),
    ...(vouchedBy ? { detail: { vouches: true } } : {}),
  });
  if (react)
    await deps.outbox.send({ kind: 'react', handoffId: record.id, message: reply.messageRef, reaction: 'seen' });
  return 'poll_requested';
}

/** Says which tags wait here; nothing is sent to any service and no attempt is counted. */
export async function askWhich(
  deps: EngineDeps,
  reply: InboundReply,
  records: readonly HandoffRecord[],
  named: boolean,
): Promise<'asked_which'> {
  const waiting = records.filter((r) => r.status === 'awaiting_human' || r.status === 'claiming');
  const list = waiting.length > 0 ? waiting : records;
  await deps.audit.append({
    event: 'reply.ambiguous',
    ...auditContext(list[0]!, reply),
    detail: { platform: reply.platform, named, waiting: list.length },
  });
  await deps.outbox.send({
    kind: 'post',
    handoffId: list[0]!.id,
    thread: list[0]!.thread,
    message: notices.whichHandoff(list, named),
  });
  return 'asked_which';
}
