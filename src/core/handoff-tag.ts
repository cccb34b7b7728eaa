import { createHash } from 'node:crypto';
import { normaliseReplyText } from './finish-code.js';

/**
 * The short tag each approval message shows (`#h-4f2a`), so a person can say which request a
 * reply answers when several wait in one thread. Derived from the handoff id (nothing to
 * store); 16 bits, so two open handoffs in one thread share a tag about once in 65,536 — then
 * naming it is ambiguous and the bridge asks, never guesses. A tag only routes a reply: the
 * approver rule still decides whether it counts.
 */
export function handoffTag(handoffId: string): string {
  const hex =
    /^hf_([0-9a-f]{4})/.exec(handoffId)?.[1] ?? createHash('sha256').update(handoffId).digest('hex').slice(0, 4);
  return `#h-${hex}`;
}

/** A tag exactly as handoffTag writes it. */
export const handoffTagPattern = /^#h-[0-9a-f]{4}$/;

const tagPattern = /(?<![\w-])#?h-([0-9a-f]{4})(?![\w-])/gi;
const idPattern = /(?<![\w-])(hf_[0-9a-f]{24})(?![\w-])/gi;
const quoted = /^\s*>/;
const urlPattern = /\b(?:https?:\/\/|www\.)\S+/gi;

/** What a reply says about which handoff it answers. */
export interface NamedHandoffs {
  /** Tags named (`#h-4f2a`, lower-case), outside quoted lines when there are any there. */
  readonly tags: readonly string[];
  /** Full handoff ids named, likewise. */
  readonly ids: readonly string[];
}

function scan(text: string): NamedHandoffs {
  const tags = [...new Set([...text.matchAll(tagPattern)].map((m) => `#h-${m[1]!.toLowerCase()}`))];
  const ids = [...new Set([...text.matchAll(idPattern)].map((m) => m[1]!.toLowerCase()))];
  return { tags, ids };
}

/**
 * The tags and ids a reply names. Lines of the person's own text win over quoted lines (`>`):
 * a "Quote reply" (as code hosts offer it) of an approval message carries that message's tag in the quote, and
 * a reply that quotes the bridge's "which one?" question names its choice outside the quote.
 */
export function namedHandoffs(raw: string): NamedHandoffs {
  return namesIn(normaliseReplyText(raw));
}

/** `namedHandoffs` of text already normalised (`normaliseReplyText`). */
export function namesIn(text: string): NamedHandoffs {
  // A tag-like piece of a URL is part of the URL.
  const lines = text.replace(urlPattern, ' ').split('\n');
  const own = scan(lines.filter((l) => !quoted.test(l)).join('\n'));
  return own.tags.length + own.ids.length > 0 ? own : scan(lines.filter((l) => quoted.test(l)).join('\n'));
}

/** The reply without tags and handoff ids, so neither is ever read as a code. */
export function withoutHandoffNames(raw: string): string {
  return raw.replace(idPattern, ' ').replace(tagPattern, ' ');
}
