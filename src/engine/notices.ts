import { maxAttempts, type HandoffRecord } from '../core/handoff.js';
import type { NoticeEvent, NoticeMessage } from '../core/messages.js';
import { describeApprovers } from '../core/messages.js';
import { handoffTag } from '../core/handoff-tag.js';
import type { ApprovedBy } from '../core/login-protocol.js';
import { maskedEmail } from './approver-binding.js';

/**
 * The sentences the bridge says in threads. Never a token, a code or a poll secret: only the
 * service, scopes, counts and what to do next.
 */
function notice(record: HandoffRecord, event: NoticeEvent, text: string): NoticeMessage {
  return { kind: 'notice', handoffId: record.id, event, text };
}

export const serviceLabel = (record: HandoffRecord): string => record.serviceName ?? hostOf(record.service);

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export const notices = {
  completed(record: HandoffRecord, scopes: readonly string[], codeRemoved: boolean, codeInThread = record.answer !== 'done'): NoticeMessage {
    const scopeText = scopes.length ? ` with scopes ${scopes.join(', ')}` : '';
    const spent = !codeInThread ? '' : codeRemoved ? ' The code is now spent and was removed from this thread.' : ' The code is now spent.';
    return notice(record, 'completed', `✅ Logged in to ${serviceLabel(record)}${scopeText} for agent ${record.agentId}.${spent} The agent is resuming.`);
  },
  wrongCode(record: HandoffRecord, reason: string, attempts: number): NoticeMessage {
    return notice(
      record,
      'wrong_code',
      `That code did not work for ${handoffTag(record.id)}: ${reason} (attempt ${attempts} of ${maxAttempts}). Check it and paste it again.`,
    );
  },
  failed(record: HandoffRecord, message: string): NoticeMessage {
    return notice(record, 'failed', `❌ The login to ${serviceLabel(record)} failed: ${message} The agent was told.`);
  },
  expired(record: HandoffRecord): NoticeMessage {
    return notice(record, 'expired', `⌛ The login request for ${serviceLabel(record)} expired before it was finished. The agent was told and can ask again.`);
  },
  cancelled(record: HandoffRecord, by: string): NoticeMessage {
    return notice(record, 'cancelled', `The login request for ${serviceLabel(record)} was cancelled by ${by}. Any link or code from it no longer matters.`);
  },
  refused(record: HandoffRecord, author: string, reason?: string): NoticeMessage {
    return notice(record, 'refused', `${author}, you cannot answer request ${handoffTag(record.id)}: ${reason ?? describeApprovers(record.approvers)} Nothing changed.`);
  },
  /** The service reports an approval the bridge cannot tie to an approver: it waits for a word. */
  serviceReady(record: HandoffRecord, approvedBy: ApprovedBy | undefined): NoticeMessage {
    const account = maskedEmail(approvedBy?.email);
    const who = record.approvers.length ? record.approvers.join(', ') : 'someone who may answer here';
    return notice(
      record,
      'service_ready',
      `🔔 ${serviceLabel(record)} says the login ${handoffTag(record.id)} was approved${account ? ` by the account ${account}` : ''}, but the bridge cannot tell whether an approver did it. ` +
        `${who}: if you approved it, reply "done" here to finish. Otherwise ignore this: nothing is used until you do.`,
    );
  },
  /** The service names an account that is none of the approvers: refused, and started over or ended. */
  serviceApprovalRefused(record: HandoffRecord, approvedBy: ApprovedBy | undefined, next: 'fresh_link' | 'ended'): NoticeMessage {
    const account = maskedEmail(approvedBy?.email);
    return notice(
      record,
      'refused',
      `⛔ ${serviceLabel(record)} says the login ${handoffTag(record.id)} was approved by an account that is not an approver of this request${account ? ` (${account})` : ''}, so the bridge did not use it. ` +
        (next === 'fresh_link' ? `${describeApprovers(record.approvers)} A fresh link follows.` : 'The request is over; the agent can ask again.'),
    );
  },
  /** Several handoffs could take this reply: say which tags exist, send nothing anywhere. */
  whichHandoff(records: readonly HandoffRecord[], named: boolean): NoticeMessage {
    const tags = records.map((r) => handoffTag(r.id));
    const unique = new Set(tags).size === tags.length;
    const list = records.map((r, i) => `${unique ? tags[i] : r.id} (${hostOf(r.service)})`).join(', ');
    const first = unique ? tags[0] : records[0]!.id;
    return notice(
      records[0]!,
      'which_handoff',
      named
        ? `No request waiting in this thread has the tag you named, so your reply went nowhere. Waiting here: ${list}.`
        : `Several login requests wait in this thread: ${list}. Your reply went nowhere: send it again starting with the tag of the one you mean (for example ${first} and then the code, or "${first} done").`,
    );
  },
  hintOpenLink(record: HandoffRecord): NoticeMessage {
    return notice(record, 'hint_open_link', 'That is the approval link itself. Open it in your browser, approve, and paste the code the page shows.');
  },
  polling(record: HandoffRecord): NoticeMessage {
    return notice(record, 'info', `Checking with ${serviceLabel(record)} now…`);
  },
};
