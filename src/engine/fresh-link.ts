import { HandoffError } from '../core/errors.js';
import type { HandoffRecord } from '../core/handoff.js';
import { handoffTag } from '../core/handoff-tag.js';
import type { ParsedReply } from '../core/parsed-reply.js';
import { say, value } from '../core/sentence.js';
import type { ApproverVerdict, InboundReply } from '../core/thread-adapter.js';
import { textLimits } from '../core/untrusted-text.js';
import { checkApprovalLink } from './approval-link.js';
import type { EngineDeps } from './engine-deps.js';
import { applyRestart, loginRequestFor } from './restart.js';
import { fromService } from './service-turn.js';

/** Fresh links a person may ask for, per handoff. */
export const maxFreshLinks = 3;

type ReplyAsked = 'asked_which';
export type FreshLinkResult = 'fresh_link' | 'refused' | ReplyAsked | 'not_an_answer';

/**
 * A person replied `new link` (issue #14): the service's link or code timed out, or will not
 * open. The login waiting in the thread (the one the reply names, else the only one) is
 * started again with the service — claimed first, so no code is checked meanwhile — and the
 * new instructions are posted the way a restart posts them (restart.ts: new secret, link and
 * expiry). Only its approvers may ask, at most `maxFreshLinks` times; a failed start leaves
 * the old login as it was and says so.
 */
export async function handleFreshLinkRequest(
  deps: EngineDeps,
  reply: InboundReply,
  logins: readonly HandoffRecord[],
  parsed: ParsedReply,
  context: {
    readonly jobId: string;
    /** The reply handler's own steps, so a fresh link is refused and disambiguated like any answer. */
    readonly mayAnswer: (record: HandoffRecord) => Promise<ApproverVerdict>;
    readonly refuse: (record: HandoffRecord, verdict: ApproverVerdict) => Promise<'refused'>;
    readonly askWhich: (records: readonly HandoffRecord[]) => Promise<ReplyAsked>;
  },
): Promise<FreshLinkResult> {
  const said = parsed.named;
  const named = reply.handoffId !== undefined || said.ids.length > 0 || said.tags.length > 0;
  const waiting = logins.filter(
    (r) =>
      r.status === 'awaiting_human' &&
      (!named || r.id === reply.handoffId || said.ids.includes(r.id) || said.tags.includes(handoffTag(r.id))),
  );
  if (waiting.length === 0) return 'not_an_answer';
  const tell = (record: HandoffRecord, text: ReturnType<typeof say>) =>
    deps.outbox.send({
      kind: 'post',
      handoffId: record.id,
      thread: record.thread,
      message: { kind: 'notice', handoffId: record.id, event: 'info', text },
    });
  if (waiting.length > 1) return context.askWhich(waiting);
  const record = waiting[0]!;
  const verdict = await context.mayAnswer(record);
  const audit = { handoffId: record.id, agentId: record.agentId, correlationId: record.correlationId };
  if (!verdict.allowed) return context.refuse(record, verdict);
  const given = record.freshLinks ?? 0;
  if (given >= maxFreshLinks) {
    await tell(
      record,
      say`This login (${value(handoffTag(record.id), textLimits.id)}) already had ${[String(maxFreshLinks)]} fresh links, the most there is. Ask the agent to start a new one if this one no longer works.`,
    );
    return 'refused';
  }
  const claimed = await deps.store.transition(record.id, {
    to: 'claiming',
    from: ['awaiting_human'],
    expectVersion: record.version,
    set: { claimedBy: context.jobId, freshLinks: given + 1 },
  });
  if (!claimed.ok) {
    // Someone's code or a poll got there first: let the reply come back in a moment.
    throw new HandoffError(`Handoff ${record.id} changed meanwhile; the request for a new link waits.`, {
      code: 'handoff_busy',
      status: 409,
      retry: 'after_delay',
      retryAfterMs: 1_000,
    });
  }
  const held = claimed.record;
  try {
    const protocol = deps.protocols.get(held.protocol);
    const signal = AbortSignal.timeout(deps.policy.startTimeoutMs);
    const started = await fromService(() => protocol.start({ ...loginRequestFor(held), signal }));
    checkApprovalLink(started, held.service, deps.policy.network);
    const who = { person: reply.author.id, ...(reply.author.name ? { name: reply.author.name } : {}) };
    await applyRestart(deps, held, started, say`A fresh link, as ${who} asked; the earlier one no longer counts.`);
    await deps.audit.append({ event: 'login.fresh_link', ...audit, actor: reply.author.id, detail: { n: given + 1 } });
    return 'fresh_link';
  } catch (err) {
    await deps.store.transition(held.id, {
      to: 'awaiting_human',
      from: ['claiming'],
      set: { claimedBy: undefined, freshLinks: given },
    });
    deps.logger.warn('fresh link failed', { handoffId: held.id, error: err });
    const why = err instanceof HandoffError ? err.message : 'the service did not answer';
    await tell(
      held,
      say`The bridge could not get a fresh link from the service just now (${value(why, textLimits.message)}). The earlier link still stands; try "new link" again in a moment.`,
    );
    return 'refused';
  }
}
