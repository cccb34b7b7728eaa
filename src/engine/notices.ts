import { maxAttempts, type HandoffRecord } from '../core/handoff.js';
import type { NoticeEvent, NoticeMessage } from '../core/messages.js';
import { describeApprovers } from '../core/messages.js';

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
  completed(record: HandoffRecord, scopes: readonly string[], codeRemoved: boolean): NoticeMessage {
    const scopeText = scopes.length ? ` with scopes ${scopes.join(', ')}` : '';
    const spent = record.answer === 'done' ? '' : codeRemoved ? ' The code is now spent and was removed from this thread.' : ' The code is now spent.';
    return notice(record, 'completed', `✅ Logged in to ${serviceLabel(record)}${scopeText} for agent ${record.agentId}.${spent} The agent is resuming.`);
  },
  wrongCode(record: HandoffRecord, reason: string, attempts: number): NoticeMessage {
    return notice(record, 'wrong_code', `That code did not work: ${reason} (attempt ${attempts} of ${maxAttempts}). Check it and paste it again.`);
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
    return notice(record, 'refused', `${author}, you cannot answer this request: ${reason ?? describeApprovers(record.approvers)} Nothing changed.`);
  },
  hintOpenLink(record: HandoffRecord): NoticeMessage {
    return notice(record, 'hint_open_link', 'That is the approval link itself. Open it in your browser, approve, and paste the code the page shows.');
  },
  polling(record: HandoffRecord): NoticeMessage {
    return notice(record, 'info', `Checking with ${serviceLabel(record)} now…`);
  },
};
