import { maxAttempts, type HandoffRecord } from '../core/handoff.js';
import type { NoticeEvent, NoticeMessage } from '../core/messages.js';
import { describeApprovers } from '../core/messages.js';
import { describeService, list, say, value, words, type Sentence } from '../core/sentence.js';
import type { Person } from '../core/thread-adapter.js';
import { textLimits } from '../core/untrusted-text.js';

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
export const serviceLabel = (record: Pick<HandoffRecord, 'service' | 'serviceName'>): Sentence => describeService(record.service, record.serviceName);

const agent = (record: Pick<HandoffRecord, 'agentId'>) => value(record.agentId, textLimits.id);
const message = (text: string) => value(text, textLimits.message);

export const notices = {
  completed(record: HandoffRecord, scopes: readonly string[], codeRemoved: boolean): NoticeMessage {
    const scopeText = scopes.length ? say` with scopes ${list(scopes, textLimits.scope)}` : [];
    const spent = record.answer === 'done' ? '' : codeRemoved ? ' The code is now spent and was removed from this thread.' : ' The code is now spent.';
    return notice(record, 'completed', say`✅ Logged in to ${serviceLabel(record)}${scopeText} for agent ${agent(record)}.${words(spent)} The agent is resuming.`);
  },
  wrongCode(record: HandoffRecord, reason: string, attempts: number): NoticeMessage {
    return notice(record, 'wrong_code', say`That code did not work: ${message(reason)} (attempt ${attempts} of ${maxAttempts}). Check it and paste it again.`);
  },
  failed(record: HandoffRecord, error: string): NoticeMessage {
    return notice(record, 'failed', say`❌ The login to ${serviceLabel(record)} failed: ${message(error)} The agent was told.`);
  },
  expired(record: HandoffRecord): NoticeMessage {
    return notice(record, 'expired', say`⌛ The login request for ${serviceLabel(record)} expired before it was finished. The agent was told and can ask again.`);
  },
  cancelled(record: HandoffRecord, by: string): NoticeMessage {
    return notice(record, 'cancelled', say`The login request for ${serviceLabel(record)} was cancelled by ${value(by, textLimits.id)}. Any link or code from it no longer matters.`);
  },
  refused(record: HandoffRecord, author: Person, reason?: Sentence): NoticeMessage {
    const who = { person: author.id, ...(author.name !== undefined ? { name: author.name } : {}) };
    return notice(record, 'refused', say`${who}, you cannot answer this request: ${reason ?? describeApprovers(record.approvers)} Nothing changed.`);
  },
  hintOpenLink(record: HandoffRecord): NoticeMessage {
    return notice(record, 'hint_open_link', ['That is the approval link itself. Open it in your browser, approve, and paste the code the page shows.']);
  },
  polling(record: HandoffRecord): NoticeMessage {
    return notice(record, 'info', say`Checking with ${serviceLabel(record)} now…`);
  },
};
