import type { KeyValueStore } from '../../src/core/key-value.js';
import type { Route } from '../../src/core/http-route.js';
import type { InboundSink, LinkOpenedSink, ThreadAdapter } from '../../src/core/thread-adapter.js';
import { createLocalAdapter } from './local-adapter.js';
import { localRoutes } from './local-routes.js';
import { createLocalThreadStore, type LocalThreadStore } from './local-thread-store.js';
import type { LocalThread } from './local-thread.js';

export { parseLocalThread, type LocalThread } from './local-thread.js';
export { redactedText } from './local-adapter.js';
export type { LocalMessage, LocalThreadStore } from './local-thread-store.js';

export interface LocalPlatformOptions {
  /** The platform's own storage (src/core/key-value.ts), scoped to its keys. */
  readonly store: KeyValueStore;
  readonly sink: InboundSink;
  readonly linkOpened: LinkOpenedSink;
  readonly now: () => number;
  /** The bridge's own web address, where the thread pages are (undefined: not known here). */
  readonly baseUrl?: () => string | undefined;
}

export interface LocalPlatform {
  readonly adapter: ThreadAdapter<LocalThread>;
  readonly routes: readonly Route[];
  readonly store: LocalThreadStore;
}

/** The local platform: threads stored in the bridge's Redis, a page to read and reply. */
export function createLocalPlatform(options: LocalPlatformOptions): LocalPlatform {
  const store = createLocalThreadStore(options.store);
  return {
    adapter: createLocalAdapter(store, options.now, options.baseUrl),
    routes: localRoutes({ store, sink: options.sink, linkOpened: options.linkOpened, now: options.now }),
    store,
  };
}
