import { randomBytes } from 'node:crypto';
import type { InboundReply } from '../../src/core/thread-adapter.js';
import type { TestBridge } from './test-bridge.js';

/** A person's reply in a local thread, as the local adapter hands it to the bridge's sink. */
export function localReply(thread: string, who: string, text: string): InboundReply {
  return {
    platform: 'local',
    thread,
    author: { id: who, name: who },
    text,
    messageRef: { platform: 'local', thread, id: `${thread.slice(6)}.${randomBytes(8).toString('hex')}` },
    deliveryId: `d-${randomBytes(6).toString('hex')}`,
    receivedAt: Date.now(),
  };
}

/** The bridge's messages in a local thread that start with `prefix` (an emoji, usually). */
export async function botMessages(bridge: TestBridge, thread: string, prefix: string) {
  return (await bridge.messages(thread)).filter((m) => m.kind === 'bot' && m.text.startsWith(prefix));
}
