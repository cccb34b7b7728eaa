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

/** The request itself: the agent's words, then who decides, how, and until when. */
export function approvalRequestNotice(record: HandoffRecord, unnamed: 'anyone' | 'platform_rule'): NoticeMessage {
  const { action, onTimeout } = record.approval!;
  const lines: Sentence[] = [];
  if (action.risk) lines.push(say`Risk: ${value(action.risk, 10)}`);
  if (action.description) lines.push(say`Description: ${value(action.description, 4_000)}`);
  for (const [key, v] of Object.entries(action.details ?? {}))
    lines.push(say`${value(key, 60)}: ${value(String(v), 500)}`);
  const link = linkTarget(action.link);
  if (link) lines.push(say`Link: ${value(link.href, 2_000)} (opens ${value(link.host, textLimits.host)})`);
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
    ...(link ? { link: link.href } : {}),
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
