/**
 * Pulls the approver's answer out of free text. People paste codes in every shape: bare,
 * in backticks or code fences, after "finish code:", with a trailing period, quoted by a
 * chat client, with zero-width characters from a copy button. Be lenient about the shape,
 * strict about the code itself.
 */

export type AnswerKind = 'finish_code' | 'email_code' | 'page_code' | 'done';

export interface ExtractedAnswers {
  /** Agent-sessions finish codes (`aae_` + 48 lowercase hex), normalised to lowercase. */
  readonly finishCodes: readonly string[];
  /** Six-digit one-time codes, digits only ("123 456" → "123456"). */
  readonly oneTimeCodes: readonly string[];
  /** The reply says the person finished in the browser ("done", "approved"…). */
  readonly saysDone: boolean;
}

const invisible = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;

/** Undoes what chat platforms do to text: entities, chat link wrapping, odd Unicode forms. */
export function normaliseReplyText(text: string): string {
  return (
    text
      .normalize('NFKC')
      .replace(invisible, '')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      // chat link wrapping: <https://x|label> and <https://x>
      .replace(/<((?:https?|mailto):[^|>\s]+)(?:\|[^>]*)?>/g, '$1')
  );
}

const finishCodePattern = /(?<![A-Za-z0-9_])aae_([0-9a-f]{48})(?![A-Za-z0-9_])/gi;
// Digits next to URL-ish or numeric punctuation belong to something else (ids, prices, phones).
// "555 123 4567" is a phone number, not the code 555123.
const oneTimeCodePattern = /(?<![\w#$€£@/.:+-])(\d{3})[ -]?(\d{3})(?![\w@]|[.,:/-]\d|\s\d{4}(?!\d))/g;
const urlPattern = /\b(?:https?:\/\/|www\.)\S+/gi;
// Other services' finish codes (auth.md browser claims): a short lowercase prefix, `_`, and
// 16+ letters or digits. Only read when no `aae_` code is present, never inside a URL, and
// never a mangled `aae_` code. Case is kept: such codes may be case-sensitive.
const prefixedCodePattern = /(?<![A-Za-z0-9_-])([a-z]{2,8}_[A-Za-z0-9]{16,128})(?![A-Za-z0-9_-])/g;
const donePattern =
  /^(?:(?:ok(?:ay)?|yes|yep|sure)[\s,!.-]*)?(?:i(?:'?ve|'?m|\s+have|\s+am)?\s+)?(?:(?:all\s+)?done|approved(?:\s+it)?|finished|completed?|all\s+set)(?:\s+(?:now|here|it))?$/i;

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

export function extractAnswers(raw: string): ExtractedAnswers {
  return answersIn(normaliseReplyText(raw));
}

/** `extractAnswers` of text already normalised (`normaliseReplyText`). */
export function answersIn(text: string): ExtractedAnswers {
  const finishCodes = unique([...text.matchAll(finishCodePattern)].map((m) => `aae_${m[1]!.toLowerCase()}`));
  const withoutUrls = text.replace(urlPattern, ' ').replace(finishCodePattern, ' ');
  const oneTimeCodes = unique([...withoutUrls.matchAll(oneTimeCodePattern)].map((m) => `${m[1]}${m[2]}`));
  const words = text
    .replace(/[`*_~>"'“”‘’]/g, '')
    .replace(/[\p{Extended_Pictographic}\uFE0F]/gu, '')
    .replace(/[!.]+$/g, '')
    .trim();
  const saysDone = words.length <= 60 && donePattern.test(words);
  return { finishCodes, oneTimeCodes, saysDone };
}

/** Prefixed finish codes of other services in a reply (see `prefixedCodePattern`). */
export function extractPrefixedCodes(raw: string): string[] {
  return prefixedCodesIn(normaliseReplyText(raw));
}

/** `extractPrefixedCodes` of text already normalised. */
export function prefixedCodesIn(text: string): string[] {
  const bare = text.replace(urlPattern, ' ');
  return unique([...bare.matchAll(prefixedCodePattern)].map((m) => m[1]!).filter((c) => !/^aae_/i.test(c)));
}

/** Every answer shape found in one reply, other services' prefixed codes included. */
export interface FoundAnswers extends ExtractedAnswers {
  readonly prefixedCodes: readonly string[];
}

/**
 * The one answer a handoff expecting `kind` should act on, or undefined. Several different
 * codes in one reply are ambiguous and yield undefined rather than a guess.
 */
export function pickAnswer(raw: string, kind: AnswerKind): string | undefined {
  const text = normaliseReplyText(raw);
  return answerFrom({ ...answersIn(text), prefixedCodes: prefixedCodesIn(text) }, kind);
}

/** `pickAnswer` over answers already found. */
export function answerFrom(found: FoundAnswers, kind: AnswerKind): string | undefined {
  switch (kind) {
    case 'finish_code': {
      if (found.finishCodes.length > 0) return found.finishCodes.length === 1 ? found.finishCodes[0] : undefined;
      return found.prefixedCodes.length === 1 ? found.prefixedCodes[0] : undefined;
    }
    case 'email_code':
    case 'page_code':
      return found.oneTimeCodes.length === 1 ? found.oneTimeCodes[0] : undefined;
    case 'done':
      return found.saysDone ? 'done' : undefined;
  }
}

/** True when the reply quotes the approval link back instead of a code. */
export function mentionsLink(raw: string, url: string): boolean {
  return linkIn(normaliseReplyText(raw), url);
}

/** `mentionsLink` of text already normalised. */
export function linkIn(text: string, url: string): boolean {
  const bare = url.replace(/^https?:\/\//, '');
  return text.includes(bare);
}
