import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { LocalMessage } from './local-thread-store.js';

/**
 * How a local thread's message is stored: its JSON without the defaults, as it is when short
 * (`plainUpTo`), else `z` and the JSON compressed (raw deflate with a preset dictionary,
 * base64). The local thread stands in for a chat platform that would hold these messages
 * itself; in Redis every waiting handoff keeps its login request here, so each byte counts
 * (issue #16: a 650-byte post stores in about 240). An edit finds its message by reading from
 * the newest back (local-thread-store.ts), which is usually one or two messages. Also read:
 * `y<id>\t` + the compressed JSON without its id (written for a few hours on 2026-12-03: the id
 * in clear saved those inflates, but made a bench thread's list cross jemalloc's next size
 * class, +55 B per waiting handoff), and plain JSON from before compression.
 */

/**
 * What a bridge post usually looks like: a login request as the bridge rendered it in
 * December 2026, with placeholder values, in the stored shape. Deflate finds the fixed wording
 * here, so a post costs little more than its own values; a later change of wording only
 * compresses less well. Every stored message depends on these exact bytes, so they are frozen
 * here (not rendered at run time) and pinned by a test: a new dictionary needs a new mark, and
 * the old mark keeps this one.
 */
export const localMessageDictionary = Buffer.from(
  '{"author":"handoff","kind":"bot","at":1700000000000,"text":"🔐 Agent agent asks you to log in to service.example (calls itself “Service”).\\nApprove here: https://service.example/authorize (The link opens service.example.)\\nOpen the link, sign in and approve, then paste the finish code here.\\nExpires at 2023-11-14 22:13 UTC. Only someone may answer.\\nTag #h-0000: if other requests wait in this thread, start your reply with it. (handoff hf_000000000000000000000000)","link":"https://service.example/authorize","opens":"#h-0000","id":"name.0000000000000000"}',
  'utf8',
);
const dictionary = localMessageDictionary;

/** Mark of the compressed form, id inside (JSON starts with `{`). */
const compressedMark = 'z';
/** Mark of the form with the id in front (`y<id>\t<compressed JSON>`), read only: message ids hold no tab. */
const idInFrontMark = 'y';
/**
 * Deflate's window and hash sizes: a 4 KiB window holds the dictionary and a post several
 * times over, so matches are found as with zlib's 32 KiB default (a bench login request: 150
 * bytes either way) at about half the CPU, most of which is zlib setting up its state for each
 * message. Inflate keeps zlib's default window, which reads every stored message whatever
 * window wrote it.
 */
const deflateOptions = { dictionary, level: 9, windowBits: 12, memLevel: 5 } as const;
/** Far above a message's size (text is capped long before); a corrupt entry cannot balloon. */
const maxInflated = 256 * 1024;

const inflate = (base64: string) =>
  inflateRawSync(Buffer.from(base64, 'base64'), { dictionary, maxOutputLength: maxInflated }).toString('utf8');

/**
 * Longest JSON stored as it is, in characters. Below about this, deflate's gain is eaten by
 * base64 (a 116-character reply with a code: 113 compressed; 155: 157), while compressing
 * costs 12–50 µs a message, nearly all zlib setting up: a person's short reply, and each edit
 * of it (a reaction, the code's redaction), stays plain JSON. A login request (~600) and the
 * bridge's longer notices are compressed as before.
 */
export const plainUpTo = 192;

/** Stored without its defaults (no reactions, not redacted): most messages never change. */
export function encodeLocalMessage(message: LocalMessage): string {
  const { reactions, redacted, ...rest } = message;
  const json = JSON.stringify({
    ...rest,
    ...(reactions.length ? { reactions } : {}),
    ...(redacted ? { redacted } : {}),
  });
  if (json.length <= plainUpTo) return json;
  return compressedMark + deflateRawSync(json, deflateOptions).toString('base64');
}

/** The id of a stored message when it is written in clear (the `y` form), without inflating it. */
export function storedId(raw: string): string | undefined {
  if (!raw.startsWith(idInFrontMark)) return undefined;
  const tab = raw.indexOf('\t');
  return tab < 0 ? undefined : raw.slice(idInFrontMark.length, tab);
}

export function decodeLocalMessage(raw: string): LocalMessage {
  const id = storedId(raw);
  const json =
    id !== undefined
      ? inflate(raw.slice(idInFrontMark.length + id.length + 1))
      : raw.startsWith(compressedMark)
        ? inflate(raw.slice(compressedMark.length))
        : raw;
  const parsed = JSON.parse(json) as Partial<LocalMessage>;
  return { reactions: [], redacted: false, ...parsed, ...(id !== undefined ? { id } : {}) } as LocalMessage;
}
