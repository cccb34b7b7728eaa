import { invalidThreadRef, type ThreadAddress } from '../../src/core/thread-ref.js';

/**
 * `slack:<channel>/<thread_ts>`: the thread under the message whose `ts` is `thread_ts`.
 * Slack names a thread by its parent message's timestamp ("1700000000.000100": seconds, a dot,
 * six digits) and compares it as a string, so the canonical ref keeps exactly that form; a
 * reply event carries the same `thread_ts` and maps back to the same ref.
 */
export interface SlackThread extends ThreadAddress {
  readonly platform: 'slack';
  /** Conversation id: C… (channel), G… (private, legacy), D… (direct message). */
  readonly channel: string;
  /** The parent message's ts. */
  readonly threadTs: string;
}

const example = 'slack:C0123456789/1700000000.000100';
const channelPattern = /^[CGD][A-Z0-9]{2,20}$/;
const tsPattern = /^\d{10}\.\d{6}$/;

/** "p1700000000000100" (the form in a message's "Copy link" URL) → "1700000000.000100". */
function fromPermalinkTs(value: string): string | undefined {
  const digits = /^p(\d{10})(\d{6})$/.exec(value);
  return digits ? `${digits[1]}.${digits[2]}` : undefined;
}

/** The ref of a thread; `channel` and `threadTs` exactly as Slack sends them. */
export function slackThreadRef(channel: string, threadTs: string): string {
  return `slack:${channel}/${threadTs}`;
}

/**
 * Accepts `slack:C0123/1700000000.000100`, `slack:C0123/p1700000000000100`, and a message's
 * permalink after `slack:` (https://acme.slack.com/archives/C0123/p1700000000000100, with
 * `?thread_ts=` when the link points at a reply).
 */
export function parseSlackThread(ref: string): SlackThread {
  const match = /^slack:(.+)$/i.exec(ref.trim());
  let rest = match?.[1] ?? '';
  let threadTsParam: string | undefined;
  const permalink =
    /^https:\/\/[a-z0-9-]+(?:\.[a-z0-9-]+)*\.slack\.com\/archives\/([A-Za-z0-9]+)\/(p\d{16})(?:\?(.*))?$/i.exec(rest);
  if (permalink) {
    threadTsParam = new URLSearchParams(permalink[3] ?? '').get('thread_ts') ?? undefined;
    rest = `${permalink[1]}/${permalink[2]}`;
  }
  const [rawChannel = '', rawTs = '', ...extra] = rest.split('/');
  const channel = rawChannel.toUpperCase();
  const threadTs = threadTsParam ?? (tsPattern.test(rawTs) ? rawTs : fromPermalinkTs(rawTs));
  if (extra.length > 0 || !channelPattern.test(channel) || !threadTs || !tsPattern.test(threadTs))
    throw invalidThreadRef(ref, example);
  return { platform: 'slack', ref: slackThreadRef(channel, threadTs), channel, threadTs };
}

/**
 * Message ids in MessageRefs: `<channel>:<ts>` for messages (a ts is unique only within its
 * channel, and this is also the `channel:ts` the inbound side deduplicates on), `view:<view
 * id>` for a modal's submission (a code, a deny reason) and `click:<trigger id>` for a button
 * click, neither of which is a message at all.
 */
export type SlackMessageId =
  | { readonly kind: 'message'; readonly channel: string; readonly ts: string }
  | { readonly kind: 'view'; readonly viewId: string }
  | { readonly kind: 'click'; readonly triggerId: string };

export const slackMessageId = (channel: string, ts: string): string => `${channel}:${ts}`;
export const slackViewMessageId = (viewId: string): string => `view:${viewId}`;
export const slackClickMessageId = (triggerId: string): string => `click:${triggerId}`;

export function parseSlackMessageId(id: string): SlackMessageId | undefined {
  if (id.startsWith('view:')) return { kind: 'view', viewId: id.slice(5) };
  if (id.startsWith('click:')) return { kind: 'click', triggerId: id.slice(6) };
  const match = /^([A-Z0-9]+):(\d+\.\d+)$/.exec(id);
  return match ? { kind: 'message', channel: match[1]!, ts: match[2]! } : undefined;
}
