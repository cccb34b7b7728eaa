import { HandoffError } from '../core/errors.js';
import { isTerminal, maxFreshLinks, type HandoffRecord } from '../core/handoff.js';
import { handoffTag } from '../core/handoff-tag.js';
import type { ParsedReply } from '../core/parsed-reply.js';
import { say, value, type Sentence } from '../core/sentence.js';
import type { ApproverVerdict, InboundReply } from '../core/thread-adapter.js';
import { textLimits } from '../core/untrusted-text.js';
import { checkApprovalLink } from './approval-link.js';
import type { EngineDeps } from './engine-deps.js';
import { applyRestart, loginRequestFor } from './restart.js';
import { fromService } from './service-turn.js';

export { maxFreshLinks };

type ReplyAsked = 'asked_which';
export type FreshLinkResult = 'fresh_link' | 'refused' | ReplyAsked | 'not_an_answer';

const busy = (record: HandoffRecord) =>
  // Someone's code, a poll or another fresh link got there first: come back in a moment.
  new HandoffError(`Handoff ${record.id} changed meanwhile; the request for a new link waits.`, {
    code: 'handoff_busy',
    status: 409,
    retry: 'after_delay',
    retryAfterMs: 1_000,
  });

/**
 * A person asked for a fresh link (issue #14): a `new link` reply, or a platform's "New link"
 * button (a click: `reply.answerPrivately` with the handoff it was on). The service's link or
 * code timed out, or will not open. The login waiting in the thread (the one the reply or
 * click names, else the only one) is started again with the service — claimed first, so no
 * code is checked meanwhile — and the new instructions are posted the way a restart posts
 * them (restart.ts: new secret, link and expiry). Only its approvers may ask, at most
 * `maxFreshLinks` times; a request about an earlier link (a click on an older message, a reply
 * received before the link now shown was posted) is already answered, so a flood of clicks
 * restarts once; a failed start
 * leaves the old login as it was and says so. What concerns a clicker alone (a refusal, the
 * limit, a login that ended) is said to them privately.
 */
export async function handleFreshLinkRequest(
  deps: EngineDeps,
  reply: InboundReply,
  logins: readonly HandoffRecord[],
  parsed: ParsedReply,
  context: {
    readonly jobId: string;
    /** False once the reply has waited long enough on a busy handoff: it is then answered as things stand. */
    readonly patient: boolean;
    /** The reply handler's own steps, so a fresh link is refused and disambiguated like any answer. */
    readonly mayAnswer: (record: HandoffRecord) => Promise<ApproverVerdict>;
    readonly refuse: (record: HandoffRecord, verdict: ApproverVerdict) => Promise<'refused'>;
    readonly askWhich: (records: readonly HandoffRecord[]) => Promise<ReplyAsked>;
  },
): Promise<FreshLinkResult> {
  const said = parsed.named;
  const named = reply.handoffId !== undefined || said.ids.length > 0 || said.tags.length > 0;
  const clicked = reply.answerPrivately ? logins.find((r) => r.id === reply.handoffId) : undefined;
  const tell = (record: HandoffRecord, about: string, text: Sentence) =>
    deps.outbox.send(
      {
        kind: 'post',
        handoffId: record.id,
        thread: record.thread,
        message: { kind: 'notice', handoffId: record.id, event: 'info', text },
        ...(clicked ? { answerTo: reply.author } : {}),
      },
      // One answer per person (a click) or per thread, for each link shown: a flood is answered once.
      { dedupeKey: `fresh-${about}-${record.id}-${record.restarts ?? 0}${clicked ? `-${reply.author.id}` : ''}` },
    );
  if (clicked && clicked.status !== 'awaiting_human') {
    if (!isTerminal(clicked.status) && context.patient) throw busy(clicked);
    await tell(
      clicked,
      'ended',
      isTerminal(clicked.status)
        ? say`This login (${value(handoffTag(clicked.id), textLimits.id)}) is over (${[clicked.status]}); there is no link to renew.`
        : say`This login (${value(handoffTag(clicked.id), textLimits.id)}) is busy; ask for a new link again in a moment.`,
    );
    return 'refused';
  }
  const waiting = logins.filter(
    (r) =>
      r.status === 'awaiting_human' &&
      (!named || r.id === reply.handoffId || said.ids.includes(r.id) || said.tags.includes(handoffTag(r.id))),
  );
  if (waiting.length === 0) return 'not_an_answer';
  if (waiting.length > 1) return context.askWhich(waiting);
  const record = waiting[0]!;
  const verdict = await context.mayAnswer(record);
  const audit = { handoffId: record.id, agentId: record.agentId, correlationId: record.correlationId };
  if (!verdict.allowed) return context.refuse(record, verdict);
  const given = record.freshLinks ?? 0;
  if (given >= maxFreshLinks) {
    await tell(
      record,
      'limit',
      say`This login (${value(handoffTag(record.id), textLimits.id)}) already had ${[String(maxFreshLinks)]} fresh links, the most there is. Ask the agent to start a new one if this one no longer works.`,
    );
    return 'refused';
  }
  // Asked of a link already replaced: from an older message, or before the current one was posted.
  const shown = record.restarts ?? 0;
  const asked =
    reply.linkVersion !== undefined ? reply.linkVersion < shown : reply.receivedAt < (record.linkSince ?? 0);
  if (asked) {
    await tell(
      record,
      'posted',
      say`A fresh link for ${value(handoffTag(record.id), textLimits.id)} was posted after the one this request was about; use that one.`,
    );
    return 'refused';
  }
  const claimed = await deps.store.transition(record.id, {
    to: 'claiming',
    from: ['awaiting_human'],
    expectVersion: record.version,
    set: { claimedBy: context.jobId, freshLinks: given + 1 },
  });
  if (!claimed.ok) throw busy(record);
  const held = claimed.record;
  try {
    const protocol = deps.protocols.get(held.protocol);
    const signal = AbortSignal.timeout(deps.policy.startTimeoutMs);
    const started = await fromService(() => protocol.start({ ...loginRequestFor(held), signal }));
    checkApprovalLink(started, held.service, deps.policy.network);
    const who = { person: reply.author.id, ...(reply.author.name ? { name: reply.author.name } : {}) };
    await applyRestart(deps, held, started, say`A fresh link, as ${who} asked; the earlier one no longer counts.`);
    await deps.audit.append({
      event: 'login.fresh_link',
      ...audit,
      actor: reply.author.id,
      detail: { n: given + 1, ...(clicked ? { via: 'button' } : {}) },
    });
    return 'fresh_link';
  } catch (err) {
    await deps.store.transition(held.id, {
      to: 'awaiting_human',
      from: ['claiming'],
      set: { claimedBy: undefined, freshLinks: given },
    });
    deps.logger.warn('fresh link failed', { handoffId: held.id, error: err });
    const why = err instanceof HandoffError ? err.message : 'the service did not answer';
    await deps.outbox.send({
      kind: 'post',
      handoffId: held.id,
      thread: held.thread,
      message: {
        kind: 'notice',
        handoffId: held.id,
        event: 'info',
        text: say`The bridge could not get a fresh link from the service just now (${value(why, textLimits.message)}). The earlier link still stands; try "new link" again in a moment.`,
      },
    });
    return 'refused';
  }
}
