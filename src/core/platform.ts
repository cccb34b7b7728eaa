import type { z } from 'zod';
import type { Clock } from './clock.js';
import type { Route } from './http-route.js';
import type { InboundPoller } from './inbound-poller.js';
import type { KeyValueStore } from './key-value.js';
import type { Logger } from './logger.js';
import type { InboundSink, LinkOpenedSink, ThreadAdapter } from './thread-adapter.js';
import type { ThreadAddress } from './thread-ref.js';

/**
 * The platform contract. A platform is one folder, `adapters/<name>/`, whose `index.ts` exports
 * one `PlatformDescriptor`; `src/main.ts` lists the descriptors in one array, and everything
 * the bridge knows about platforms (config variables, secret shapes, thread prefixes, help
 * text, public-thread policy, the banner) comes from that array. See docs/adding-a-platform.md.
 */

/** What a platform gets to build itself, once the bridge's Redis is connected. */
export interface PlatformContext {
  /** The platform's own storage, scoped to `<HANDOFF_PREFIX>:<name>:` on the bridge's Redis. */
  readonly store: KeyValueStore;
  /** Where verified inbound replies go (dedupe, seal, enqueue). */
  readonly sink: InboundSink;
  /** Where the platform reports that someone opened a post's link (the bridge then polls sooner). */
  readonly linkOpened: LinkOpenedSink;
  readonly clock: Clock;
  /** Already carries `platform: <name>`. */
  readonly logger: Logger;
  /** The longest a handoff may wait, ms: what the platform remembers about a thread must outlast it. */
  readonly maxHandoffLifetimeMs: number;
  /**
   * The bridge's own web address: HANDOFF_PUBLIC_URL, else where this process listens once it
   * does; undefined in a worker-only process without HANDOFF_PUBLIC_URL.
   */
  readonly publicBaseUrl: () => string | undefined;
}

/** One configured platform, built: its adapter, its inbound routes, and any background inbound. */
export interface PlatformModule {
  readonly adapter: ThreadAdapter;
  /** Webhook routes (mounted without the API token: they verify their own signatures). */
  readonly routes?: readonly Route[];
  /** Inbound by polling, run as a repeatable job (only in processes that run workers). */
  readonly poller?: InboundPoller;
  /** Starts background inbound such as a socket connection (only in processes that run workers). */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/** What the bridge does with an approval link in a thread that outsiders can read. */
export interface PublicThreadPolicy {
  /** `refuse` (400 `public_thread`) or post it with a warning. */
  readonly mode: 'refuse' | 'warn';
  /** The sentence telling an operator how to allow it, for the refusal. */
  readonly howToAllow: string;
}

/** A platform the environment configures: its settings bound, ready to create. */
export interface ConfiguredPlatform {
  readonly name: string;
  /** What the platform read from the environment (its own config type). */
  readonly settings: unknown;
  /** Absent: the platform has no public threads (or checks none). */
  readonly publicThreads?: PublicThreadPolicy;
  /** One line for the start-up banner (where its webhooks are, say), given the bridge's base URL. */
  bannerLine?(baseUrl: string): string | undefined;
  /** Builds the platform; may import its SDK lazily, so an unused platform costs nothing. */
  create(context: PlatformContext): Promise<PlatformModule>;
}

/** Everything the bridge knows about one platform, whether or not it is configured. */
export interface PlatformDescriptor {
  /** Lower-case name: the thread-ref prefix (`<name>:…`), queue and key names, logs. */
  readonly name: string;
  /** A valid thread ref, for help text and errors. */
  readonly threadExample: string;
  /**
   * Parses a thread ref of this platform (`<name>:…`) into its canonical form, whose `ref` is
   * the printed ref stored and compared; throws BadInputError (`invalid_thread_ref`).
   */
  parseThread(ref: string): ThreadAddress;
  /** The platform's part of the one configuration schema (merged in src/core/config.ts). */
  readonly env: Readonly<Record<string, z.ZodType>>;
  /** Its variables that hold secrets: each may also be given as `<NAME>_FILE`. */
  readonly secretVariables: readonly string[];
  /** Shapes of its tokens, masked in every log line and audit entry (global flag `g`). */
  readonly secretShapes: readonly RegExp[];
  /** How to enable it, for the error a request for one of its threads gets when it is not configured. */
  readonly howToEnable: string;
  /**
   * Reads its settings from the parsed environment: undefined when none of its variables is
   * set; throws ConfigError naming the variable when they are set wrong.
   */
  configure(env: Readonly<Record<string, unknown>>): ConfiguredPlatform | undefined;
}

/** The names of the registered platforms, checked: lower-case, distinct. */
export function platformNames(platforms: readonly PlatformDescriptor[]): string[] {
  const names = platforms.map((p) => p.name);
  for (const name of names) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name))
      throw new Error(`platform name "${name}" must be lower-case letters, digits and -`);
  }
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw new Error(`platform "${twice}" is registered twice`);
  return names;
}
