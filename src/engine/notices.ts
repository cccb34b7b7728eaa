import { maxAttempts, type HandoffRecord } from '../core/handoff.js';
import type { NoticeEvent, NoticeMessage } from '../core/messages.js';
import { describeApprovers } from '../core/messages.js';
import { describeService, list, say, value, words, type Sentence } from '../core/sentence.js';
import type { Person } from '../core/thread-adapter.js';
import { hostOf, textLimits } from '../core/untrusted-text.js';
import { handoffTag } from '../core/handoff-tag.js';
import type { ApprovedBy } from '../core/login-protocol.js';
import { maskedEmail } from './approver-binding.js';

/**
 * The sentences the bridge says in threads. Never a token, a code or a poll secret: only the
 * service, scopes, counts and what to do next. Built with `say`, so every value from outside
 * (service host and name, agent id, scopes, error messages, people) stays a value that each
 * platform escapes and sets apart.
 */
function notice(record: HandoffRecord, event: NoticeEvent, text: Sentence): NoticeMessage {
  return { kind: 'notice', handoffId: record.id, event, text };
}

/** The service as threads name it: its host, and the name it gives itself, labelled. */
export const serviceLabel = (record: Pick<HandoffRecord, 'service' | 'serviceName'>): Sentence =>
  describeService(record.service, record.serviceName);

const agent = (record: Pick<HandoffRecord, 'agentId'>) => value(record.agentId, textLimits.id);
const message = (text: string) => value(text, textLimits.message);
const tag = (record: Pick<HandoffRecord, 'id'>) => value(handoffTag(record.id), textLimits.id);

export const notices = {
  completed(
    record: HandoffRecord,
    scopes: readonly string[],
    codeRemoved: boolean,
    codeInThread = record.answer !== 'done',
  ): NoticeMessage {
    const scopeText = scopes.length ? say` with scopes ${list(scopes, textLimits.scope)}` : [];
    const spent = !codeInThread
      ? ''
      : codeRemoved
        ? ' The code is now spent and was removed from this thread.'
        : ' The code is now spent.';
    return notice(
      record,
      'completed',
      say`✅ Logged in to ${serviceLabel(record)}${scopeText} for agent ${agent(record)}.${words(spent)} The agent is resuming.`,
    );
  },
  wrongCode(record: HandoffRecord, reason: string, attempts: number): NoticeMessage {
    return notice(
      record,
      'wrong_code',
      say`That code did not work for ${tag(record)}: ${message(reason)} (attempt ${attempts} of ${maxAttempts}). Check it and paste it again.`,
    );
  },
  /** The service says it is too early for the answer (not a wrong one: no attempt counted). */
  notYet(record: HandoffRecord, hint: string): NoticeMessage {
    return notice(
      record,
      'wrong_code',
      say`Not yet for ${tag(record)}: ${message(hint)} Then send the code again (this did not count as a wrong attempt).`,
    );
  },
  failed(record: HandoffRecord, error: string): NoticeMessage {
    return notice(
      record,
      'failed',
      say`❌ The login to ${serviceLabel(record)} failed: ${message(error)} The agent was told.`,
    );
  },
  expired(record: HandoffRecord): NoticeMessage {
    return notice(
      record,
      'expired',
      say`⌛ The login request for ${serviceLabel(record)} expired before it was finished. The agent was told and can ask again.`,
    );
  },
  cancelled(record: HandoffRecord, by: string): NoticeMessage {
    return notice(
      record,
      'cancelled',
      say`The login request for ${serviceLabel(record)} was cancelled by ${value(by, textLimits.id)}. Any link or code from it no longer matters.`,
    );
  },
  refused(record: HandoffRecord, author: Person, reason?: Sentence): NoticeMessage {
    const who = { person: author.id, ...(author.name !== undefined ? { name: author.name } : {}) };
    return notice(
      record,
      'refused',
      say`${who}, you cannot answer request ${tag(record)}: ${reason ?? describeApprovers(record.approvers)} Nothing changed.`,
    );
  },
  /** The service reports an approval the bridge cannot tie to an approver: it waits for a word. */
  serviceReady(record: HandoffRecord, approvedBy: ApprovedBy | undefined): NoticeMessage {
    const account = maskedEmail(approvedBy?.email);
    const who = record.approvers.length
      ? list(record.approvers, textLimits.name)
      : words('someone who may answer here');
    return notice(
      record,
      'service_ready',
      say`🔔 ${serviceLabel(record)} says the login ${tag(record)} was approved${account ? say` by the account ${account}` : []}, but the bridge cannot tell whether an approver did it. ${who}: if you approved it, reply "done" here to finish. Otherwise ignore this: nothing is used until you do.`,
    );
  },
  /** The service names an account that is none of the approvers: refused, and started over or ended. */
  serviceApprovalRefused(
    record: HandoffRecord,
    approvedBy: ApprovedBy | undefined,
    next: 'fresh_link' | 'ended',
  ): NoticeMessage {
    const account = maskedEmail(approvedBy?.email);
    const after =
      next === 'fresh_link'
        ? say`${describeApprovers(record.approvers)} A fresh link follows.`
        : words('The request is over; the agent can ask again.');
    return notice(
      record,
      'refused',
      say`⛔ ${serviceLabel(record)} says the login ${tag(record)} was approved by an account that is not an approver of this request${account ? say` (${account})` : []}, so the bridge did not use it. ${after}`,
    );
  },
  /** Several handoffs could take this reply: say which tags exist, send nothing anywhere. */
  whichHandoff(records: readonly HandoffRecord[], named: boolean): NoticeMessage {
    const tags = records.map((r) => handoffTag(r.id));
    const unique = new Set(tags).size === tags.length;
    const waiting: Sentence = records.flatMap((r, i) => [
      ...(i > 0 ? [', '] : []),
      ...say`${value(unique ? tags[i]! : r.id, textLimits.id)} (${value(hostOf(r.service), textLimits.host)})`,
    ]);
    const first = value(unique ? tags[0]! : records[0]!.id, textLimits.id);
    return notice(
      records[0]!,
      'which_handoff',
      named
        ? say`No request waiting in this thread has the tag you named, so your reply went nowhere. Waiting here: ${waiting}.`
        : say`Several login requests wait in this thread: ${waiting}. Your reply went nowhere: send it again starting with the tag of the one you mean (for example ${first} and then the code, or ${first} followed by "done").`,
    );
  },
  hintOpenLink(record: HandoffRecord): NoticeMessage {
    return notice(record, 'hint_open_link', [
      'That is the approval link itself. Open it in your browser, approve, and paste the code the page shows.',
    ]);
  },
  polling(record: HandoffRecord): NoticeMessage {
    return notice(record, 'info', say`Checking with ${serviceLabel(record)} now…`);
  },
};
