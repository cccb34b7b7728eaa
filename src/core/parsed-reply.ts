import {
  answerFrom,
  answersIn,
  linkIn,
  normaliseReplyText,
  prefixedCodesIn,
  type AnswerKind,
  type FoundAnswers,
} from './finish-code.js';
import { namesIn, withoutHandoffNames, type NamedHandoffs } from './handoff-tag.js';
import { textLimits } from './untrusted-text.js';

/**
 * A reply's text, read once. Every platform's quirks are undone once (`normaliseReplyText`),
 * and everything any handoff might look for is found in that one pass: the handoffs it names,
 * the answers it carries (read with the names taken out, so a tag is never a code), and the
 * approve/deny words an approval handoff acts on. Routing then matches this value against each
 * open handoff without reading the text again.
 */

/** What a person decided, for handoffs that ask for a yes or no (login handoffs ignore it). */
export type ApprovalDecision =
  | { readonly kind: 'approve' }
  /** `reason` is what followed the word, trimmed; empty when they gave none. */
  | { readonly kind: 'deny'; readonly reason: string };

export interface ParsedReply extends FoundAnswers {
  /** The normalised text (entities, chat link wrapping, Unicode forms undone). */
  readonly text: string;
  /** Tags and ids the reply names (own lines before quoted ones). */
  readonly named: NamedHandoffs;
  /** `approve` / `deny <reason>` on the reply's first line of its own, when there is one. */
  readonly decision: ApprovalDecision | undefined;
  /** `new link` (or `fresh link`, `/newlink`) on that line: the person asks for a fresh login link (issue #14). */
  readonly asksNewLink: boolean;
}

const quoted = /^\s*>/;
const approvePattern = /^\/?(?:approve|approved|lgtm)$/i;
// The word, then nothing, or a separator and the reason ("deny: too broad", "/reject - no").
const denyPattern = /^\/?(?:deny|reject)(?:$|[\s:,.;!–—-]+([\s\S]*)$)/i;

const newLinkPattern = /^(?:\/?new ?link|fresh link)(?: please)?$/i;

/** The first non-empty line that is not a quote. */
const firstLine = (text: string): string | undefined =>
  text
    .split('\n')
    .filter((l) => !quoted.test(l))
    .map((l) => l.trim())
    .find((l) => l.length > 0);

/** The line as a word or two: no emphasis, quotes, emoji or final stops. */
const wordsOf = (line: string): string =>
  line
    .replace(/[`*_~"'“”‘’]/g, '')
    .replace(/[\p{Extended_Pictographic}\uFE0F]/gu, '')
    .replace(/[!.]+$/g, '')
    .trim();

/** The decision on the first non-empty line that is not a quote. */
function decisionIn(text: string): ApprovalDecision | undefined {
  const line = firstLine(text);
  if (line === undefined) return undefined;
  const word = wordsOf(line);
  if (approvePattern.test(word)) return { kind: 'approve' };
  const deny = denyPattern.exec(line.replace(/^[`*_~]+/, ''));
  if (deny) return { kind: 'deny', reason: (deny[1] ?? '').trim().slice(0, textLimits.message) };
  return undefined;
}

export function parseReply(raw: string): ParsedReply {
  const text = normaliseReplyText(raw);
  // Answers and decisions are read without the tags and ids, so neither is ever a code.
  const bare = withoutHandoffNames(text);
  return {
    ...answersIn(bare),
    prefixedCodes: prefixedCodesIn(bare),
    text,
    named: namesIn(text),
    decision: decisionIn(bare),
    asksNewLink: newLinkPattern.test(wordsOf(firstLine(bare) ?? '').replace(/\s+/g, ' ')),
  };
}

/** The one answer of `kind` in the reply, or undefined (none, or several: no guessing). */
export const answerOf = (reply: ParsedReply, kind: AnswerKind): string | undefined => answerFrom(reply, kind);

/** True when the reply has the shape of any answer at all. */
export const looksLikeAnswer = (reply: ParsedReply): boolean =>
  reply.finishCodes.length > 0 ||
  reply.oneTimeCodes.length > 0 ||
  reply.saysDone ||
  answerFrom(reply, 'finish_code') !== undefined;

/** True when the reply quotes this approval link back instead of a code. */
export const mentionsApprovalLink = (reply: ParsedReply, url: string): boolean => linkIn(reply.text, url);
