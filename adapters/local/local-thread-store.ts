import { randomHex } from '../../src/core/random-pool.js';
import type { KeyValueStore } from '../../src/core/key-value.js';
import { HandoffError } from '../../src/core/errors.js';
import { decodeLocalMessage as parse, encodeLocalMessage as serialise, storedId } from './local-message-codec.js';

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

/** Times an edit re-reads its thread when the message changed under it (another edit, a trim). */
const editTries = 8;

/**
 * Local threads in the bridge's store: one list of messages per thread, each stored compactly
 * (local-message-codec.ts). Threads are small and local, so edits (reactions, redaction)
 * rewrite the one message in place: found newest first, inflating entries only until it is
 * found (the edited message is usually the newest or next to it), and written back
 * only if the entry is still what was read, so two edits of one message at once (a reaction
 * and a redaction) both land, and a trim that shifted the list is never written over.
 */
export interface LocalThreadStore {
  append(name: string, message: Omit<LocalMessage, 'id' | 'reactions' | 'redacted'>): Promise<LocalMessage>;
  list(name: string, afterId?: string): Promise<LocalMessage[]>;
  update(name: string, id: string, change: (m: LocalMessage) => LocalMessage): Promise<LocalMessage | undefined>;
}

/** Index of the message `id` among stored entries, searched from the newest; -1 when absent. */
export function indexOfStored(raws: readonly string[], id: string): number {
  for (let i = raws.length - 1; i >= 0; i--) {
    const raw = raws[i]!;
    const inClear = storedId(raw);
    if (inClear !== undefined) {
      if (inClear === id) return i;
      continue;
    }
    // The id is inside the compressed entry: read it whole (a corrupt one is skipped).
    try {
      if (parse(raw).id === id) return i;
    } catch {
      // A corrupt entry is nobody's message.
    }
  }
  return -1;
}

export function createLocalThreadStore(store: KeyValueStore): LocalThreadStore {
  const key = (name: string) => `thread:${name}`;
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
      const raws = await store.list(key(name));
      const index = afterId ? indexOfStored(raws, afterId) : -1;
      return raws.slice(index + 1).map(parse);
    },
    async update(name, id, change) {
      for (let tries = 0; tries < editTries; tries++) {
        const raws = await store.list(key(name));
        const index = indexOfStored(raws, id);
        if (index < 0) return undefined;
        const next = change(parse(raws[index]!));
        if (await store.replaceIfSame(key(name), index, raws[index]!, serialise(next))) return next;
      }
      throw new HandoffError(`Local thread ${name} kept changing under an edit; the edit is retried.`, {
        code: 'local_thread_busy',
        status: 503,
        retry: 'backoff',
      });
    },
  };
}
