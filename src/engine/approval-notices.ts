import type { ApprovalDecision } from '../core/approval.js';
import type { HandoffRecord } from '../core/handoff.js';
import { handoffTag } from '../core/handoff-tag.js';
import { formatUtc, type NoticeMessage } from '../core/messages.js';
import { people, say, value, words, type Sentence } from '../core/sentence.js';
import type { Person } from '../core/thread-adapter.js';
import { linkTarget, textLimits } from '../core/untrusted-text.js';

/**
 * What the bridge says about approvals (issue #13). Everything the agent wrote (title,
 * description, details, link) is a foreign value, shown as the agent's words and escaped by
 * each platform, the same rules as a login's request. The request says who may decide, how
 * many approvals it needs, and when it expires.
 */
const agent = (r: HandoffRecord) => value(r.agentId, textLimits.id);
const title = (r: HandoffRecord) => value(r.approval?.action.title ?? '', 200);
const tag = (r: HandoffRecord) => value(handoffTag(r.id), textLimits.id);
const plural = (n: number, one: string, many: string) => words(`${n} ${n === 1 ? one : many}`);

function notice(
  record: HandoffRecord,
  text: Sentence,
  event: NoticeMessage['event'] = 'approval_settled',
): NoticeMessage {
  return { kind: 'notice', handoffId: record.id, event, text };
}

/** Who may decide, as the message states it. */
export function describeDeciders(record: HandoffRecord, unnamed: 'anyone' | 'platform_rule'): Sentence {
  const spec = record.approval!;
  const needed = spec.quorum;
  const who =
    record.approvers.length > 0
      ? say`from ${people(record.approvers)}`
      : unnamed === 'anyone'
        ? words('from anyone in this thread')
        : words('from people this platform lets approve here');
  const self = spec.requestedBy ? say` (not ${value(spec.requestedBy, textLimits.name)}, who asked)` : [];
  return say`Needs ${plural(needed, 'approval', 'approvals')} ${who}${self}; any one deny denies.`;
}

/** What is asked, in the agent's words: risk, description, details, link. */
function actionLines(record: HandoffRecord): { lines: Sentence[]; link?: string } {
  const { action } = record.approval!;
  const lines: Sentence[] = [];
  if (action.risk) lines.push(say`Risk: ${value(action.risk, 10)}`);
  if (action.description) lines.push(say`Description: ${value(action.description, 4_000)}`);
  for (const [key, v] of Object.entries(action.details ?? {}))
    lines.push(say`${value(key, 60)}: ${value(String(v), 500)}`);
  const link = linkTarget(action.link);
  if (link) lines.push(say`Link: ${value(link.href, 2_000)} (opens ${value(link.host, textLimits.host)})`);
  return { lines, ...(link ? { link: link.href } : {}) };
}

/** "Approvals so far: 1 of 2 (alice)"; nothing before the first approval. */
function approvalsSoFar(record: HandoffRecord): Sentence[] {
  const approvals = record.votes?.approve ?? [];
  if (approvals.length === 0) return [];
  const needed = record.approval!.quorum;
  return [say`Approvals so far: ${words(`${approvals.length} of ${needed}`)} (${people(approvals.map((v) => v.w))}).`];
}

/** The request itself: the agent's words, the votes so far, then who decides, how, and until when. */
export function approvalRequestNotice(record: HandoffRecord, unnamed: 'anyone' | 'platform_rule'): NoticeMessage {
  const { onTimeout } = record.approval!;
  const { lines, link } = actionLines(record);
  lines.push(...approvalsSoFar(record));
  lines.push(describeDeciders(record, unnamed));
  lines.push(
    words('Reply "approve" (or "lgtm", "/approve"), or "deny <reason>" (or "reject <reason>", "/deny <reason>").'),
  );
  lines.push(
    onTimeout === 'deny'
      ? say`Expires at ${words(formatUtc(record.expiresAt))}; no decision by then counts as denied.`
      : say`Expires at ${words(formatUtc(record.expiresAt))}; no decision by then means nothing is done.`,
  );
  lines.push(say`Tag ${tag(record)}: if other requests wait in this thread, put it in your reply.`);
  return {
    kind: 'notice',
    handoffId: record.id,
    event: 'approval_asked',
    text: say`🛂 Agent ${agent(record)} asks for approval: ${title(record)}`,
    lines,
    ...(link ? { link } : {}),
  };
}

/** How an ended request reads: the outcome, who, when and why; no way to vote is left in it. */
function outcomeOf(record: HandoffRecord): { head: Sentence; lines: Sentence[] } {
  const at = (ms: number) => words(formatUtc(ms));
  const decision = record.decision;
  if (record.status === 'completed' && decision?.outcome === 'approved')
    return {
      head: words('✅ Approved'),
      lines: [say`Approved by ${people(decision.by.map((b) => b.who))} at ${at(decision.at)}.`],
    };
  if (record.status === 'completed' && decision) {
    const who =
      decision.by.length > 0 ? say`by ${people(decision.by.map((b) => b.who))}` : words('(nobody decided in time)');
    const reason = decision.reason ? [say`Reason: ${value(decision.reason, 500)}`] : [];
    return {
      head: words('⛔ Denied'),
      lines: [say`Denied ${who} at ${at(decision.at)}.`, ...reason, ...approvalsSoFar(record)],
    };
  }
  if (record.status === 'expired')
    return {
      head: words('⌛ Expired'),
      lines: [say`Nobody decided by ${at(record.expiresAt)}: nothing is done.`, ...approvalsSoFar(record)],
    };
  const why = record.error ? [say`${value(record.error.message, 500)}`] : [];
  const [head, word] = record.status === 'cancelled' ? ['⏹ Cancelled', 'Cancelled'] : ['⚠️ Failed', 'Failed'];
  return { head: words(head), lines: [say`${words(word)} at ${at(record.updatedAt)}.`, ...why] };
}

/** The request as it stands now: open (with the votes so far) or ended (its outcome, without buttons). */
export function approvalRequestNow(record: HandoffRecord, unnamed: 'anyone' | 'platform_rule'): NoticeMessage {
  if (record.status === 'pending' || record.status === 'awaiting_human') return approvalRequestNotice(record, unnamed);
  const { lines, link } = actionLines(record);
  const outcome = outcomeOf(record);
  return {
    kind: 'notice',
    handoffId: record.id,
    event: 'approval_settled',
    text: say`${outcome.head}: agent ${agent(record)} asked for approval: ${title(record)}`,
    lines: [...outcome.lines, ...lines, say`Tag ${tag(record)}.`],
    ...(link ? { link } : {}),
  };
}

export const approvalNotices = {
  settled(record: HandoffRecord, decision: ApprovalDecision): NoticeMessage {
    const by = people(decision.by.map((b) => b.who));
    if (decision.outcome === 'approved')
      return notice(record, say`✅ Approved by ${by}: ${title(record)} (${tag(record)}). The agent is resuming.`);
    const reason = decision.reason ? say` Reason: ${value(decision.reason, 500)}` : [];
    return notice(record, say`⛔ Denied by ${by}: ${title(record)} (${tag(record)}).${reason}`);
  },
  counted(record: HandoffRecord, approvals: number, needed: number): NoticeMessage {
    return notice(
      record,
      say`👍 ${words(`${approvals} of ${needed}`)} approvals for ${title(record)} (${tag(record)}).`,
      'info',
    );
  },
  timedOut(record: HandoffRecord, denied: boolean): NoticeMessage {
    return notice(
      record,
      denied
        ? say`⌛ Nobody decided ${title(record)} (${tag(record)}) in time: denied (timed out).`
        : say`⌛ Nobody decided ${title(record)} (${tag(record)}) in time: the request expired, nothing is done.`,
    );
  },
  cancelled(record: HandoffRecord, by: string): NoticeMessage {
    return notice(
      record,
      say`The approval request ${title(record)} (${tag(record)}) was cancelled by ${value(by, textLimits.id)}.`,
    );
  },
  refused(
    record: HandoffRecord,
    author: Person,
    why: 'self_approval' | 'not_an_approver' | 'bridge',
    reason?: Sentence,
  ): NoticeMessage {
    const who = { person: author.id, ...(author.name ? { name: author.name } : {}) };
    const because =
      why === 'self_approval'
        ? words('the request is made on their behalf, and nobody approves their own request')
        : why === 'bridge'
          ? words("the bridge's own account never counts")
          : (reason ?? words('they are not among those who may decide'));
    return notice(record, say`🚫 ${who} may not decide ${title(record)} (${tag(record)}): ${because}.`, 'refused');
  },
  closed(record: HandoffRecord, author: Person): NoticeMessage {
    const who = { person: author.id, ...(author.name ? { name: author.name } : {}) };
    const decision = record.decision;
    const state = decision
      ? say`already ${words(decision.outcome)} by ${people(decision.by.map((b) => b.who))}`
      : say`already ${words(record.status)}`;
    return notice(
      record,
      say`${who}: ${title(record)} (${tag(record)}) is ${state}; nothing changed.`,
      'already_finished',
    );
  },
  repeated(record: HandoffRecord, author: Person, vote: 'approve' | 'deny'): NoticeMessage {
    const who = { person: author.id, ...(author.name ? { name: author.name } : {}) };
    return notice(
      record,
      say`${who}: your ${words(vote === 'approve' ? 'approval' : 'deny')} of ${title(record)} (${tag(record)}) is counted already; it counts once.`,
      'info',
    );
  },
  changedMind(record: HandoffRecord, author: Person): NoticeMessage {
    const who = { person: author.id, ...(author.name ? { name: author.name } : {}) };
    return notice(
      record,
      say`${who}: your earlier vote on ${title(record)} (${tag(record)}) stands; a vote is not taken back.`,
      'info',
    );
  },
};
