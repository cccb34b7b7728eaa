import { randomHex } from '../../src/core/random-pool.js';
import type { KeyValueStore } from '../../src/core/key-value.js';
import { decodeLocalMessage as parse, encodeLocalMessage as serialise } from './local-message-codec.js';

/** One message in a local thread, as the page and the JSON routes show it. */
export interface LocalMessage {
  readonly id: string;
  readonly author: string;
  readonly text: string;
  /** The one link in a bridge post (its approval link, a checked http(s) URL); the page links nothing else. */
  readonly link?: string;
  /** An approval request's tag (`#h-4f2a`): the page shows Approve and Deny buttons that reply with it. */
  readonly decide?: string;
  /** A login request's tag (`#h-4f2a`): when its link is opened the page tells the bridge, which polls sooner. */
  readonly opens?: string;
  /** `bot` for the bridge's own posts. */
  readonly kind: 'human' | 'bot';
  /** Epoch ms. */
  readonly at: number;
  readonly reactions: readonly string[];
  readonly redacted: boolean;
  /** True once the bridge edited its post (an approval request showing votes or its outcome). */
  readonly edited?: boolean;
}

/** Messages kept per thread; older ones fall off. */
export const localThreadLimit = 1000;

/**
 * Local threads in the bridge's store: one list of messages per thread, each stored compactly
 * (local-message-codec.ts). Threads are small and local, so edits (reactions, redaction)
 * rewrite the one message in place.
 */
export interface LocalThreadStore {
  append(name: string, message: Omit<LocalMessage, 'id' | 'reactions' | 'redacted'>): Promise<LocalMessage>;
  list(name: string, afterId?: string): Promise<LocalMessage[]>;
  update(name: string, id: string, change: (m: LocalMessage) => LocalMessage): Promise<LocalMessage | undefined>;
}

export function createLocalThreadStore(store: KeyValueStore): LocalThreadStore {
  const key = (name: string) => `thread:${name}`;
  const all = async (name: string) => (await store.list(key(name))).map(parse);
  return {
    async append(name, message) {
      const full: LocalMessage = {
        ...message,
        id: `${name}.${randomHex(8)}`,
        reactions: [],
        redacted: false,
      };
      await store.append(key(name), serialise(full), localThreadLimit);
      return full;
    },
    async list(name, afterId) {
      const messages = await all(name);
      if (!afterId) return messages;
      const index = messages.findIndex((m) => m.id === afterId);
      return index < 0 ? messages : messages.slice(index + 1);
    },
    async update(name, id, change) {
      const messages = await all(name);
      const index = messages.findIndex((m) => m.id === id);
      if (index < 0) return undefined;
      const next = change(messages[index]!);
      await store.replaceAt(key(name), index, serialise(next));
      return next;
    },
  };
}
