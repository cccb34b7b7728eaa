import type { OutboundMessage } from '../../src/core/messages.js';
import { approvalLink, renderPlainText } from '../../src/core/messages.js';
import { handoffTag } from '../../src/core/handoff-tag.js';
import { linkTarget } from '../../src/core/untrusted-text.js';
import type { MessageRef, Reaction, ThreadAdapter } from '../../src/core/thread-adapter.js';
import type { LocalMessage, LocalThreadStore } from './local-thread-store.js';
import { parseLocalThread, threadNameOfMessage, type LocalThread } from './local-thread.js';

const reactionEmoji: Record<Reaction, string> = { seen: '👀', ok: '✅', fail: '❌' };

/** Text that replaces a message whose code was spent. */
export const redactedText = '[code removed by handoff after use]';

/**
 * What a bridge post shows: its text, its one link, the Approve/Deny buttons of an approval
 * request, and for a login request's link the tag the page reports it opened with.
 */
function shown(msg: OutboundMessage): Pick<LocalMessage, 'text' | 'link' | 'decide' | 'opens'> {
  const link =
    msg.kind === 'approval_request'
      ? msg.linkSentPrivately
        ? undefined
        : approvalLink(msg)?.href
      : linkTarget(msg.link ?? msg.threadLink)?.href;
  // An approval request carries its tag, so the page shows Approve and Deny buttons for it.
  const decide = msg.kind === 'notice' && msg.event === 'approval_asked' ? handoffTag(msg.handoffId) : undefined;
  // A login request's link: the page reports it opened, and the bridge asks the service sooner.
  const opens = msg.kind === 'approval_request' && link ? handoffTag(msg.handoffId) : undefined;
  return {
    text: renderPlainText(msg),
    ...(link ? { link } : {}),
    ...(decide ? { decide } : {}),
    ...(opens ? { opens } : {}),
  };
}

/**
 * The reference adapter. Local threads have one reader (whoever runs the bridge), so there
 * is no private delivery and no public/private distinction; authorship is whatever the
 * reply form says, which is why local routes answer loopback clients only.
 */
export function createLocalAdapter(
  store: LocalThreadStore,
  now: () => number,
  baseUrl: () => string | undefined = () => undefined,
): ThreadAdapter<LocalThread> {
  return {
    platform: 'local',
    parseThread: parseLocalThread,
    /** The thread's page on this bridge (/threads/<name>), when the bridge's address is known. */
    async threadLink(thread: LocalThread): Promise<string | undefined> {
      const base = baseUrl();
      return base ? `${base.replace(/\/+$/, '')}/threads/${encodeURIComponent(thread.name)}` : undefined;
    },
    async post(thread: LocalThread, msg: OutboundMessage): Promise<MessageRef> {
      const stored = await store.append(thread.name, { author: 'handoff', kind: 'bot', at: now(), ...shown(msg) });
      return { platform: 'local', thread: thread.ref, id: stored.id };
    },
    async update(message: MessageRef, msg: OutboundMessage): Promise<void> {
      // Only the bridge's own posts are edited; a message gone is left alone.
      await store.update(threadNameOfMessage(message.id), message.id, (m) => {
        if (m.kind !== 'bot') return m;
        const { link: _link, decide: _decide, opens: _opens, ...rest } = m;
        return { ...rest, ...shown(msg), edited: true };
      });
    },
    async react(msg: MessageRef, reaction: Reaction): Promise<void> {
      const emoji = reactionEmoji[reaction];
      await store.update(threadNameOfMessage(msg.id), msg.id, (m) =>
        m.reactions.includes(emoji) ? m : { ...m, reactions: [...m.reactions, emoji] },
      );
    },
    async redact(msg: MessageRef) {
      const updated = await store.update(threadNameOfMessage(msg.id), msg.id, (m) => ({
        ...m,
        text: redactedText,
        redacted: true,
      }));
      return updated ? 'hidden' : 'unsupported';
    },
  };
}
