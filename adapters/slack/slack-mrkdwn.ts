import type { MrkdwnElement, PlainTextElement } from '@slack/web-api';
import { renderSentence, type PersonPart, type Sentence, type SentenceStyle } from '../../src/core/sentence.js';
import { cleanText, textLimits } from '../../src/core/untrusted-text.js';

/**
 * Slack's mrkdwn, written so that text from outside can never become a mention, a channel
 * ping or a link. Slack parses `<…>` sequences (`<@U…>`, `<!here>`, `<#C…>`, `<url|label>`)
 * and decodes `&amp;`, `&lt;`, `&gt;`; escaping those three characters leaves no way to open
 * one. Values from outside are inline code on top of that, and every mrkdwn object is sent
 * with `verbatim: true`, so Slack does not link-ify bare URLs or channel names in it either.
 * A person becomes a mention only from an id the bridge resolved (`<@U…>`), never from text.
 */

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// U/W + 8–11 upper-case letters and digits, at least one digit (so shouted words stay words).
const userIdPattern = /^[UW](?=[A-Z0-9]*\d)[A-Z0-9]{8,11}$/;

export function isSlackUserId(value: string): boolean {
  return userIdPattern.test(value);
}

/** A value as inline code: one line, no backtick to close it early, escaped. */
export function slackCode(text: string): string {
  const inner = escapeMrkdwn(cleanText(text, 4_000).replace(/`/g, 'ˋ'));
  return inner ? `\`${inner}\`` : '(empty)';
}

/** A person: a mention when the id is a Slack user id the bridge holds, else their name as code. */
export function slackPerson(part: PersonPart): string {
  return isSlackUserId(part.person)
    ? `<@${part.person}>`
    : slackCode(cleanText(part.name ?? part.person, textLimits.name));
}

const style: SentenceStyle = { words: escapeMrkdwn, value: (text) => slackCode(text), person: slackPerson };

/** A sentence as mrkdwn. */
export const slackSentence = (sentence: Sentence): string => renderSentence(sentence, style);

/** Slack's limit for a section's or a context element's text. */
const maxText = 3_000;

/** A mrkdwn text object for the bridge's own structure; `verbatim` stops Slack's auto-linking. */
export const mrkdwn = (text: string): MrkdwnElement => ({
  type: 'mrkdwn',
  text: text.slice(0, maxText),
  verbatim: true,
});

/** A plain_text object: Slack shows it as typed, parsing nothing. */
export const plainText = (text: string, max: number = textLimits.value): PlainTextElement => ({
  type: 'plain_text',
  text: cleanText(text, max) || '–',
});
