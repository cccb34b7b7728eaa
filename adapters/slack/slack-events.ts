import type { InboundReply } from '../../src/core/thread-adapter.js';
import { slackMessageId, slackThreadRef } from './slack-thread.js';

/**
 * Events API envelopes (the same JSON over HTTP and inside a Socket Mode `events_api` frame)
 * turned into replies. Only a person's new message inside a thread is a reply: Slack sends a
 * `message` event for every message in every channel the bot is in, for edits
 * (`message_changed`), deletions (`message_deleted`), thread bookkeeping (`message_replied`)
 * and for bots, this bridge included — all of which are ignored here.
 */

/** The part of an `event_callback` envelope this adapter reads. */
export interface SlackEventEnvelope {
  /** `event_callback` for events (`url_verification`, `app_rate_limited` are answered by the route). */
  readonly type?: unknown;
  /** Unique per event; Slack's retries of one event keep it. */
  readonly event_id?: unknown;
  /** The event itself; only `message` events matter here. */
  readonly event?: SlackMessageEvent;
}

interface SlackMessageEvent {
  readonly type?: unknown;
  readonly subtype?: unknown;
  readonly hidden?: unknown;
  readonly channel?: unknown;
  readonly user?: unknown;
  readonly bot_id?: unknown;
  readonly bot_profile?: unknown;
  readonly text?: unknown;
  readonly ts?: unknown;
  readonly thread_ts?: unknown;
}

export type SlackEventOutcome =
  { readonly kind: 'reply'; readonly reply: InboundReply } | { readonly kind: 'ignored'; readonly reason: string };

/**
 * Subtypes that are still a person writing in the thread: "also send to channel" replies and
 * replies with a file attached. Everything else with a subtype is bookkeeping or a bot.
 */
const replySubtypes = new Set(['thread_broadcast', 'file_share']);

const str = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const ignored = (reason: string): SlackEventOutcome => ({ kind: 'ignored', reason });

export function replyFromEvent(envelope: SlackEventEnvelope, receivedAt: number): SlackEventOutcome {
  if (envelope.type !== 'event_callback') return ignored(`envelope type ${String(envelope.type).slice(0, 40)}`);
  const event = envelope.event;
  if (!event || event.type !== 'message') return ignored('not a message event');
  if (event.subtype !== undefined && !(str(event.subtype) && replySubtypes.has(event.subtype)))
    return ignored(`subtype ${String(event.subtype).slice(0, 40)}`);
  if (event.hidden === true) return ignored('hidden message');
  if (event.bot_id !== undefined || event.bot_profile !== undefined) return ignored('bot message');
  if (!str(envelope.event_id) || !str(event.channel) || !str(event.user) || !str(event.ts))
    return ignored('missing ids');
  // A thread's parent has thread_ts === ts; a top-level message has none. Only replies count.
  if (!str(event.thread_ts) || event.thread_ts === event.ts) return ignored('not a thread reply');
  if (!str(event.text) || event.text.trim() === '') return ignored('no text');
  const thread = slackThreadRef(event.channel, event.thread_ts);
  return {
    kind: 'reply',
    reply: {
      platform: 'slack',
      thread,
      author: { id: event.user },
      // Raw mrkdwn (&amp; entities, <url|label> links): the engine's code extraction undoes both.
      text: event.text,
      messageRef: { platform: 'slack', thread, id: slackMessageId(event.channel, event.ts) },
      deliveryId: envelope.event_id,
      receivedAt,
    },
  };
}
