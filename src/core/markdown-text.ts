import { escapeHtml } from './html.js';
import { renderSentence, type PersonPart, type Sentence, type SentenceStyle } from './sentence.js';
import { cleanText, textLimits } from './untrusted-text.js';

/**
 * Markdown for the platforms that render it (code hosts, issue trackers), built so that text can never become structure:
 *
 * - the bridge's words (literal text in our code, never a value) have the characters that
 *   start inline structure backslash-escaped (emphasis, code, links, images, HTML, entities,
 *   tables, headings), and `@` and `#` get a zero-width space, since code hosts link mentions
 *   and issue references in the rendered text, after the escapes are gone;
 * - every value from outside is a code span, which no markdown construct, autolinker, mention
 *   or reference filter looks into; it is one line (no blank line to end the span) and its
 *   backticks are replaced by a look-alike (ˋ), so it cannot close the span early;
 * - links are only the bridge's own: a checked http(s) href in an angle-bracket destination.
 */

const markdownSyntax = /[\\`*_[\]<>#|~!&@+]/g;

/** The bridge's words as literal markdown text. */
export function escapeMarkdownText(text: string): string {
  return text.replace(markdownSyntax, (c) => `\\${c}`).replace(/\\([@#])/g, '\\$1\u200b');
}

/** A value as an inline code span that nothing can break out of. */
export function markdownCode(text: string): string {
  const inner = cleanText(text, 4_000).replace(/`/g, 'ˋ');
  return inner ? `\`${inner}\`` : '(empty)';
}

/**
 * A link destination in angle brackets (CommonMark §6.3), which keeps the URL exactly as it
 * is, parentheses included. WHATWG serialisation leaves no space, newline or angle bracket in
 * an http(s) href; a backslash or an ampersand (possible in a query) is escaped so it stays
 * itself rather than starting an escape or an entity (`&#64;` would otherwise become `@`).
 */
export function markdownDestination(href: string): string {
  return `<${href.replace(/[\\&<>\s]/g, (c) => (c === '\\' || c === '&' ? `\\${c}` : encodeURIComponent(c)))}>`;
}

/** A link the bridge makes: its own label, a checked http(s) href. */
export const markdownLink = (label: string, href: string): string =>
  `[${escapeMarkdownText(label)}](${markdownDestination(href)})`;

/** An image as raw HTML (a code host sizes it; markdown cannot): the URL must be a checked http(s) href. */
export const htmlImage = (src: string, size: number): string =>
  `<img src="${escapeHtml(src)}" alt="" width="${size}" height="${size}">`;

/** Markdown style for sentences; `person` says how the platform shows a person without notifying them. */
export function markdownStyle(person: (part: PersonPart) => string): SentenceStyle {
  return { words: escapeMarkdownText, value: (text) => markdownCode(text), person };
}

/** A person by name (or id) as a code span: shown, never mentioned. */
export const quietPerson = (part: PersonPart): string =>
  markdownCode(cleanText(part.name ?? part.person, textLimits.name));

export const renderMarkdownSentence = (
  sentence: Sentence,
  person: (part: PersonPart) => string = quietPerson,
): string => renderSentence(sentence, markdownStyle(person));
