import { HandoffError } from '../core/errors.js';
import { looksLikeAnswer, mentionsApprovalLink, parseReply } from '../core/parsed-reply.js';
import type { ApproverVerdict, InboundReply, ThreadAdapter } from '../core/thread-adapter.js';
import { clickedHandoff, handleApprovalReply, type ApprovalReplyResult } from './approval-reply.js';
import { claimWithAnswer } from './claim.js';
import type { ClaimOutcome } from './claim-types.js';
import type { EngineDeps } from './engine-deps.js';
import { handleFreshLinkRequest, type FreshLinkResult } from './fresh-link.js';
import { notices } from './notices.js';
import { routeReply, type Candidate } from './reply-routing.js';
import { checkApprover } from './approver-check.js';
import { askWhich, auditContext, refuse, requestPoll } from './reply-outcomes.js';
import { withSeenIfSlow } from './seen-reaction.js';

/**
 * What happens to a person's reply in a thread. Most replies are conversation and are left
 * alone; only a reply that answers an open handoff (a code, "done", or the link pasted back
 * by mistake) gets a response. A reply reaches at most one handoff (reply-routing.ts); only
 * that handoff's approvers can finish it, and a wrong code counts on it alone. The text is
 * parsed once and the thread's adapter resolved once, whatever the number of open handoffs.
 */
export type ReplyResult =
  | 'no_open_handoff'
  | 'not_an_answer'
  | 'hinted'
  | 'poll_requested'
  | 'refused'
  /** Several handoffs could take it, or it named none that waits: the thread was asked which. */
  | 'asked_which'
  | ClaimOutcome['kind']
  /** A vote on an approval (issue #13, approval-reply.ts). */
  | ApprovalReplyResult
  /** `new link` (issue #14, fresh-link.ts). */
  | FreshLinkResult;

/** How long a reply waits when its handoff is busy (starting, or another answer being checked), ms. */
export const busyRetryMs = 1_000;
/** After this long a busy handoff's reply is handled as it stands, ms (a start retries for ~4 min). */
export const busyPatienceMs = 10 * 60_000;

export async function handleReply(
  deps: EngineDeps,
  reply: InboundReply,
  jobId: string,
  options: { finalAttempt?: boolean } = {},
): Promise<ReplyResult> {
  const all = await deps.store.openInThread(reply.thread);
  const clicked = await clickedHandoff(deps, reply, all);
  if (clicked === 'foreign') return 'refused';
  // A click on an approval that ended still hears who decided; one on a login, how it stands.
  const decided = clicked?.kind === 'approval' && !all.includes(clicked) ? clicked : undefined;
  const pressed = clicked?.kind === 'login' ? clicked : undefined;
  if (all.length === 0 && !decided && !pressed) return 'no_open_handoff';
  // Approvals take their own words (approve, deny…); logins never see approval records.
  // The reply is parsed once: approvals read its decision, logins its codes.
  const parsed = parseReply(reply.text);
  const voted = await handleApprovalReply(deps, reply, decided ? [...all, decided] : all, parsed);
  if (voted) return voted;
  const open = all.filter((r) => r.kind !== 'approval');
  const patient = deps.clock.now() - reply.receivedAt < busyPatienceMs;
  if (pressed && !parsed.asksNewLink) return 'not_an_answer';
  if (pressed || parsed.asksNewLink) {
    const adapter = deps.adapters.get(reply.platform);
    return handleFreshLinkRequest(deps, reply, pressed ? [pressed] : open, parsed, {
      jobId,
      patient,
      mayAnswer: (r) => checkApprover(adapter, r, reply.author),
      refuse: (r, verdict) => refuse(deps, reply, r, verdict),
      askWhich: (records) => askWhich(deps, reply, records, false),
    });
  }
  if (open.length === 0) return 'not_an_answer';
  const route = routeReply({ parsed, handoffId: reply.handoffId }, open, jobId);
  // Every open handoff here is in the reply's thread: one platform, one adapter.
  const adapter = deps.adapters.get(reply.platform);

  // A handoff that may take this reply is still starting or checking another answer: come back
  // in a second rather than decide without it (the checked answer may turn out wrong, and the
  // starting one may expect this very shape).
  if (route.busy.length > 0 && patient) {
    const busy = route.busy[0]!;
    throw new HandoffError(
      `Handoff ${busy.id} is ${busy.status === 'pending' ? 'still starting' : 'checking another answer'}; the reply waits.`,
      {
        code: 'handoff_busy',
        status: 409,
        retry: 'after_delay',
        retryAfterMs: busyRetryMs,
      },
    );
  }

  if (route.candidates.length === 0) {
    if (route.named && looksLikeAnswer(parsed)) return askWhich(deps, reply, open, true);
    const linked = open.find((r) => r.approvalUrl && mentionsApprovalLink(parsed, r.approvalUrl));
    if (linked) {
      await deps.outbox.send({
        kind: 'post',
        handoffId: linked.id,
        thread: linked.thread,
        message: notices.hintOpenLink(linked),
      });
      return 'hinted';
    }
    return 'not_an_answer';
  }

  // "done" on several logins the bridge polls: asking each service carries no code, so ask them
  // all (vouching for none); each one that cannot tell who approved then asks by its tag.
  if (route.candidates.length > 1 && route.candidates.every((c) => c.action.kind === 'poll')) {
    for (const c of route.candidates) await requestPoll(deps, c.record, reply, undefined);
    await deps.outbox.send({
      kind: 'react',
      handoffId: route.candidates[0]!.record.id,
      message: reply.messageRef,
      reaction: 'seen',
    });
    return 'poll_requested';
  }

  // Several could take it: the ones this person may answer decide, else ask which.
  let chosen: Candidate | undefined = route.candidates.length === 1 ? route.candidates[0] : undefined;
  let verdict: ApproverVerdict | undefined;
  if (!chosen) {
    const verdicts = await Promise.all(route.candidates.map((c) => checkApprover(adapter, c.record, reply.author)));
    const allowed = route.candidates.filter((_, i) => verdicts[i]!.allowed);
    if (allowed.length > 1)
      return askWhich(
        deps,
        reply,
        allowed.map((c) => c.record),
        false,
      );
    chosen = allowed[0] ?? route.candidates[0]!;
    verdict = allowed[0] ? { allowed: true } : verdicts[0];
  }
  return answer(
    deps,
    { reply, adapter },
    chosen,
    verdict ?? (await checkApprover(adapter, chosen.record, reply.author)),
    jobId,
    options,
  );
}

async function answer(
  deps: EngineDeps,
  { reply, adapter }: { reply: InboundReply; adapter: ThreadAdapter },
  chosen: Candidate,
  verdict: ApproverVerdict,
  jobId: string,
  options: { finalAttempt?: boolean },
): Promise<ReplyResult> {
  const { record, action } = chosen;
  const ctx = auditContext(record, reply);
  if (!verdict.allowed) {
    // Anyone's "done" may still prompt a poll: it carries nothing and vouches for nothing.
    if (action.kind === 'poll') return requestPoll(deps, record, reply, undefined, ctx, true);
    return refuse(deps, reply, record, verdict);
  }
  if (action.kind === 'poll') return requestPoll(deps, record, reply, reply.author.id, ctx, true);
  await deps.audit.append({ event: 'reply.accepted', ...ctx, detail: { platform: reply.platform } });
  const source = {
    kind: 'reply' as const,
    reply,
    adapter,
    jobId,
    ...(options.finalAttempt ? { finalAttempt: true } : {}),
  };
  // 👀 only when the answer is slow (seen-reaction.ts): a quick claim shows just its outcome.
  const outcome = await withSeenIfSlow(deps, record.id, reply.messageRef, () =>
    action.kind === 'confirm'
      ? claimWithAnswer(deps, record, { held: true }, { ...source, saidDone: action.saidDone })
      : claimWithAnswer(deps, record, { code: action.code }, source, { onWrongCode: 'count' }),
  );
  return outcome.kind;
}
