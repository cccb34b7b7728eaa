import { cleanText, hostOf, textLimits } from './untrusted-text.js';

/**
 * What the bridge says, as structure rather than text: its own words, and beside them the
 * values that came from outside. Adapters render each kind for their platform — words as
 * text, values escaped and set apart (code spans in markdown), people as mentions where the
 * platform has them — so no value is ever pasted into markup that is parsed afterwards.
 */
export type TextPart =
  /** The bridge's own words (literal text in our code). Still escaped, never parsed as markup. */
  | string
  /** A value from an agent, a service or a person; cleaned to one line of at most `max` characters. */
  | ForeignValue
  /** A person the bridge identified itself (an approver, a reply's author): `id` is the platform id. */
  | PersonPart;

export interface ForeignValue {
  /** The raw value; renderers clean it (`cleanText`) before showing it. */
  readonly value: string;
  /** Longest shown, in characters. Default `textLimits.value`. */
  readonly max?: number;
  /** A name something gives itself: shown in quotes where values are not otherwise set apart. */
  readonly quoted?: boolean;
}

export interface PersonPart {
  /** Platform id (a user id, a login, a local author). */
  readonly person: string;
  /** Display name, when the platform told us one. */
  readonly name?: string;
  /**
   * The bridge calls on this person (a reminder to an approver): platforms whose notices show
   * people quietly mention them instead, where the id is one they can mention safely.
   */
  readonly mention?: boolean;
}

/** One sentence or line: parts in order. */
export type Sentence = readonly TextPart[];

type Interpolated = string | number | TextPart | Sentence;

/**
 * Builds a sentence from a template: the literal text is the bridge's words, every
 * interpolated string is a foreign value, numbers are words, parts and sentences are kept.
 * `say\`Logged in to ${host}.\`` can therefore never turn `host` into markup.
 */
export function say(words: TemplateStringsArray, ...values: readonly Interpolated[]): Sentence {
  const parts: TextPart[] = [];
  words.forEach((word, i) => {
    if (word) parts.push(word);
    if (i >= values.length) return;
    const value = values[i]!;
    if (typeof value === 'string') parts.push({ value });
    else if (typeof value === 'number') parts.push(String(value));
    else if (Array.isArray(value)) parts.push(...(value as Sentence));
    else parts.push(value as TextPart);
  });
  return parts;
}

/** Text of our own making (a duration, a count in words) that `say` would otherwise treat as foreign. */
export const words = (text: string): Sentence => [text];

/** A foreign value with its own length limit. */
export const value = (text: string, max: number = textLimits.value): ForeignValue => ({ value: text, max });

/** A name something gives itself (a service's `resource_name`, a display name): quoted, capped. */
export const selfName = (text: string): ForeignValue => ({ value: text, max: textLimits.name, quoted: true });

/** Foreign values joined by the bridge's separator, with "and N more" past `limit`. */
export function list(
  values: readonly string[],
  max: number = textLimits.value,
  limit: number = textLimits.scopes,
): Sentence {
  const shown = values.slice(0, limit);
  const parts: TextPart[] = [];
  shown.forEach((v, i) => parts.push(...(i > 0 ? [', '] : []), value(v, max)));
  if (values.length > limit) parts.push(` and ${values.length - limit} more`);
  return parts;
}

/** A list of people, joined by commas; `mention`: the bridge calls on them (see PersonPart). */
export function people(ids: readonly string[], options: { mention?: boolean } = {}): Sentence {
  const parts: TextPart[] = [];
  const extra = options.mention ? { mention: true } : {};
  ids.slice(0, textLimits.scopes).forEach((id, i) => parts.push(...(i > 0 ? [', '] : []), { person: id, ...extra }));
  if (ids.length > textLimits.scopes) parts.push(` and ${ids.length - textLimits.scopes} more`);
  return parts;
}

/**
 * A service as a person should read it: its host, which is the truth, then the name it gives
 * itself — labelled as its own claim — when that says something the host does not.
 */
export function describeService(serviceUrl: string, serviceName?: string): Sentence {
  const host = hostOf(serviceUrl);
  const name = serviceName === undefined ? '' : cleanText(serviceName, textLimits.name);
  const host_ = value(host, textLimits.host);
  return name && name.toLowerCase() !== host.toLowerCase() ? say`${host_} (calls itself ${selfName(name)})` : [host_];
}

export function isForeign(part: TextPart): part is ForeignValue {
  return typeof part === 'object' && 'value' in part;
}

/** The cleaned text of a foreign value. */
export const foreignText = (part: ForeignValue): string => cleanText(part.value, part.max ?? textLimits.value);

/** How one platform writes each kind of part. */
export interface SentenceStyle {
  /** The bridge's words, escaped for the platform. */
  words(text: string): string;
  /** A cleaned foreign value, escaped and set apart. */
  value(text: string, part: ForeignValue): string;
  /** A person: a mention where the platform makes one safely, else their name as a value. */
  person(part: PersonPart): string;
}

/** Renders a sentence in a platform's style. Words are cleaned too: a sentence is one line. */
export function renderSentence(sentence: Sentence, style: SentenceStyle): string {
  return sentence
    .map((part) => {
      if (typeof part === 'string') return style.words(cleanWords(part));
      if (isForeign(part)) return style.value(foreignText(part), part);
      return style.person(part);
    })
    .join('');
}

/** Words keep their spacing at the edges (they sit between values) but lose controls and newlines. */
function cleanWords(text: string): string {
  const lead = /^\s/.test(text) ? ' ' : '';
  const trail = /\s$/.test(text) && text.trim() ? ' ' : '';
  const inner = cleanText(text, 2_000);
  return inner ? `${lead}${inner}${trail}` : lead;
}

/** Plain text: words as they are, values bare (names in quotes), people by name or id. */
export const plainStyle: SentenceStyle = {
  words: (text) => text,
  value: (text, part) => (part.quoted ? `“${text}”` : text),
  person: (part) => cleanText(part.name ?? part.person, textLimits.name),
};

export const plainSentence = (sentence: Sentence): string => renderSentence(sentence, plainStyle);
