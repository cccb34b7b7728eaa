import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { renderPlainText } from '../../src/core/messages.js';
import type { LocalMessage } from './local-thread-store.js';

/**
 * How a local thread's message is stored: its JSON without defaults, compressed (raw deflate
 * with a preset dictionary, base64) behind a `z` mark. The local thread stands in for a chat
 * platform that would hold these messages itself; in Redis every waiting handoff keeps its
 * login request here, so each byte counts (issue #16: a 650-byte post stores in about 240).
 * Messages written before this codec (plain JSON, `{…}`) are still read.
 */

/**
 * What a bridge post usually looks like: a login request rendered by the bridge's own
 * renderer with placeholder values, in the stored shape. Deflate finds the fixed wording
 * here, so a post costs little more than its own values; a changed wording only compresses
 * less well. Stored messages depend on this text: changing it makes old ones unreadable, so
 * a new dictionary needs a new mark.
 */
const dictionary = Buffer.from(
  JSON.stringify({
    author: 'handoff',
    kind: 'bot',
    at: 1_700_000_000_000,
    text: renderPlainText({
      kind: 'approval_request',
      handoffId: 'hf_000000000000000000000000',
      handoffTag: '#h-0000',
      serviceName: 'Service',
      serviceUrl: 'https://service.example',
      agentId: 'agent',
      scopes: [],
      approvalUrl: 'https://service.example/authorize',
      answer: 'finish_code',
      expiresAt: 1_700_000_000_000,
      approvers: ['someone'],
    }),
    link: 'https://service.example/authorize',
    opens: '#h-0000',
    id: 'name.0000000000000000',
  }),
);

/** Mark of the compressed form (JSON starts with `{`). */
const mark = 'z';
/** Far above a message's size (text is capped long before); a corrupt entry cannot balloon. */
const maxInflated = 256 * 1024;

/** Stored without its defaults (no reactions, not redacted): most messages never change. */
export function encodeLocalMessage(message: LocalMessage): string {
  const { reactions, redacted, ...rest } = message;
  const json = JSON.stringify({
    ...rest,
    ...(reactions.length ? { reactions } : {}),
    ...(redacted ? { redacted } : {}),
  });
  return mark + deflateRawSync(json, { dictionary, level: 9 }).toString('base64');
}

export function decodeLocalMessage(raw: string): LocalMessage {
  const json = raw.startsWith(mark)
    ? inflateRawSync(Buffer.from(raw.slice(mark.length), 'base64'), {
        dictionary,
        maxOutputLength: maxInflated,
      }).toString('utf8')
    : raw;
  return { reactions: [], redacted: false, ...(JSON.parse(json) as Partial<LocalMessage>) } as LocalMessage;
}
