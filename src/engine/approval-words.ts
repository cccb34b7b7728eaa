import type { VoteChoice } from '../core/approval.js';
import { maxReasonLength } from '../core/approval.js';
import { withoutHandoffNames } from '../core/handoff-tag.js';
import { cleanText } from '../core/untrusted-text.js';

/**
 * The words that decide an approval (issue #13), read from the first line of a reply that is
 * not a quote, case-insensitively: `approve`, `approved`, `lgtm`, `/approve` (the whole line)
 * are a yes; `deny <reason>`, `reject <reason>`, `/deny <reason>` a no with an optional reason.
 * Tags and handoff ids are left out first, so `#h-4f2a approve` is a yes. Pure.
 */
const yes = /^\/?(?:approve|approved|lgtm)[.!]*$/i;
const no = /^\/?(?:deny|denied|reject|rejected)(?:[\s:,.!-]+(.*))?$/i;

export function parseVote(text: string): VoteChoice | undefined {
  const line = text
    .split(/\r?\n/)
    .filter((l) => !/^\s*>/.test(l))
    .map((l) => withoutHandoffNames(l).trim())
    .find((l) => l.length > 0);
  if (!line) return undefined;
  if (yes.test(line)) return { vote: 'approve' };
  const denied = no.exec(line);
  if (!denied) return undefined;
  const reason = cleanText(denied[1] ?? '', maxReasonLength);
  return reason ? { vote: 'deny', reason } : { vote: 'deny' };
}
