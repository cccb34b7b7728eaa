import type { WebClient } from '@slack/web-api';
import { ConflictError } from '../../src/core/errors.js';
import type { OutboundMessage } from '../../src/core/messages.js';
import type { MessageRef, Person, Reaction, ThreadAdapter } from '../../src/core/thread-adapter.js';
import { callSlack, slackErrorCode } from './slack-errors.js';
import { hasSlackLogo, renderSlackMessage, type SlackContent } from './slack-format.js';
import type { SlackPeople } from './slack-people.js';
import type { SlackSharing } from './slack-sharing.js';
import { parseSlackMessageId, parseSlackThread, slackMessageId, type SlackThread } from './slack-thread.js';

/** Status reactions on the person's reply. */
export const slackReactions: Record<Reaction, string> = { seen: 'eyes', ok: 'white_check_mark', fail: 'x' };

export interface SlackAdapterOptions {
  /** The bot's WebClient (slack-client.ts). */
  readonly client: WebClient;
  /** Resolves approvers to Slack user ids. */
  readonly people: SlackPeople;
  /** Tells channels shared with other organizations (Slack Connect). */
  readonly sharing: SlackSharing;
  /** Send the approval link to each named approver alone (chat.postEphemeral). */
  readonly privateLinks: boolean;
  /** A named approver outside the channel gets the link as a direct message; else the post fails. Default false. */
  readonly dmOutsideChannel?: boolean;
  /** Add the "Paste finish code" button that opens the code modal. */
  readonly codeModal: boolean;
  /** Outbound calls per second for the platform queue's limiter. */
  readonly outboundPerSecond: number;
}

/**
 * Slack threads. Deliberately without `redact`: a bot token can delete only the bot's own
 * messages, so a pasted code stays in the channel history; the bridge exchanges it at once
 * and the success notice says it is spent (the code modal avoids the paste altogether).
 * Approvers are compared by Slack user id only — names are not unique and can be changed.
 */
export function createSlackAdapter(options: SlackAdapterOptions): ThreadAdapter<SlackThread> {
  const { client, people } = options;
  const render = (thread: SlackThread, msg: OutboundMessage, logo = true): SlackContent =>
    renderSlackMessage(msg, { thread: thread.ref, codeModal: options.codeModal, logo });

  /** Sends with the service's logo; when Slack cannot fetch the image (invalid_blocks), once more without it. */
  async function withLogoFallback<T>(
    thread: SlackThread,
    msg: OutboundMessage,
    send: (content: SlackContent) => Promise<T>,
  ): Promise<T> {
    try {
      return await send(render(thread, msg));
    } catch (err) {
      if (slackErrorCode(err) !== 'invalid_blocks' || !hasSlackLogo(msg)) throw err;
      return send(render(thread, msg, false));
    }
  }

  async function postMessage(channel: string, content: SlackContent, threadTs?: string) {
    return callSlack('chat.postMessage', () =>
      client.chat.postMessage({
        channel,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        text: content.text,
        ...(content.blocks ? { blocks: content.blocks } : {}),
        // Link previews would make Slack's servers fetch the approval URL.
        unfurl_links: false,
        unfurl_media: false,
        // No server-side parsing of the fallback text: mentions come only from `<@U…>` we wrote.
        parse: 'none',
        link_names: false,
      }),
    );
  }

  const adapter: ThreadAdapter<SlackThread> = {
    platform: 'slack',
    parseThread: parseSlackThread,
    outboundRateLimit: { max: options.outboundPerSecond, durationMs: 1_000 },

    async post(thread: SlackThread, msg: OutboundMessage): Promise<MessageRef> {
      const res = await withLogoFallback(thread, msg, (content) =>
        postMessage(thread.channel, content, thread.threadTs),
      );
      return { platform: 'slack', thread: thread.ref, id: slackMessageId(res.channel ?? thread.channel, res.ts!) };
    },

    async update(message: MessageRef, msg: OutboundMessage): Promise<void> {
      const id = parseSlackMessageId(message.id);
      if (!id || id.kind !== 'message') return;
      try {
        // The whole message is replaced: a settled approval's rendering has no buttons left.
        await withLogoFallback(parseSlackThread(message.thread), msg, (content) =>
          callSlack('chat.update', () =>
            client.chat.update({
              channel: id.channel,
              ts: id.ts,
              text: content.text,
              blocks: content.blocks ?? [],
              parse: 'none',
              link_names: false,
            }),
          ),
        );
      } catch (err) {
        // Deleted meanwhile: there is nothing left to edit.
        if (slackErrorCode(err) === 'message_not_found') return;
        throw err;
      }
    },

    async react(msg: MessageRef, reaction: Reaction): Promise<void> {
      const id = parseSlackMessageId(msg.id);
      // A modal's submission or a click is no message: there is nothing to react to.
      if (!id || id.kind !== 'message') return;
      try {
        await callSlack('reactions.add', () =>
          client.reactions.add({ channel: id.channel, timestamp: id.ts, name: slackReactions[reaction] }),
        );
      } catch (err) {
        if (slackErrorCode(err) === 'already_reacted') return; // a retried job: the reaction is there
        throw err;
      }
    },

    async checkApprover(_thread: SlackThread, author: Person, named: readonly string[]) {
      return { allowed: named.length === 0 || named.includes(author.id) };
    },

    resolvePerson: (_thread: SlackThread, handle: string) => people.resolve(handle),

    /** An ephemeral answer to a click, in the thread; never a direct message. */
    async answerPrivately(thread: SlackThread, to: Person, msg: OutboundMessage): Promise<MessageRef> {
      const content = render(thread, msg, false);
      const res = await callSlack('chat.postEphemeral', () =>
        client.chat.postEphemeral({
          channel: thread.channel,
          user: to.id,
          thread_ts: thread.threadTs,
          text: content.text,
          ...(content.blocks ? { blocks: content.blocks } : {}),
          parse: 'none',
          link_names: false,
        }),
      );
      return { platform: 'slack', thread: thread.ref, id: slackMessageId(thread.channel, res.message_ts!) };
    },

    isPublic: (thread: SlackThread) => options.sharing.isExternallyShared(thread.channel),

    /** The thread's parent message, as Slack links it (`chat.getPermalink`). */
    async threadLink(thread: SlackThread): Promise<string | undefined> {
      const res = await callSlack('chat.getPermalink', () =>
        client.chat.getPermalink({ channel: thread.channel, message_ts: thread.threadTs }),
      );
      return res.permalink;
    },
  };

  /**
   * An ephemeral message in the thread, visible to `to` alone. Slack can show one only to a
   * member of the channel; anyone else gets the link as a direct message from the app, when
   * the operator allowed that (SLACK_DM_OUTSIDE_CHANNEL) — otherwise an agent could make the
   * app, which people trust, send an approval link to anyone in the workspace.
   */
  async function sendPrivately(thread: SlackThread, to: Person, content: SlackContent): Promise<MessageRef> {
    try {
      const res = await callSlack('chat.postEphemeral', () =>
        client.chat.postEphemeral({
          channel: thread.channel,
          user: to.id,
          thread_ts: thread.threadTs,
          text: content.text,
          ...(content.blocks ? { blocks: content.blocks } : {}),
          parse: 'none',
          link_names: false,
        }),
      );
      return { platform: 'slack', thread: thread.ref, id: slackMessageId(thread.channel, res.message_ts!) };
    } catch (err) {
      if (slackErrorCode(err) !== 'user_not_in_channel') throw err;
    }
    if (!options.dmOutsideChannel) {
      throw new ConflictError(
        `Approver ${to.id} is not a member of the thread's channel, and the bridge sends approval links only inside it. Invite them to the channel, or set SLACK_DM_OUTSIDE_CHANNEL=on to send them the link as a direct message.`,
        'approver_not_in_channel',
      );
    }
    const direct: SlackContent = {
      text: content.text,
      blocks: [
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: `For a login requested in <#${thread.channel}>.`, verbatim: true }],
        },
        ...(content.blocks ?? []),
      ],
    };
    const res = await postMessage(to.id, direct);
    return { platform: 'slack', thread: thread.ref, id: slackMessageId(res.channel ?? to.id, res.ts!) };
  }

  if (!options.privateLinks) return adapter;
  return {
    ...adapter,
    postPrivately: (thread: SlackThread, to: Person, msg: OutboundMessage) =>
      withLogoFallback(thread, msg, (content) => sendPrivately(thread, to, content)),
  };
}
