import { BadInputError, InternalError } from '../core/errors.js';
import type { LoginProtocol, ProtocolName } from '../core/login-protocol.js';
import type { ThreadAdapter } from '../core/thread-adapter.js';
import { splitThreadRef, type Platform, type ThreadAddress } from '../core/thread-ref.js';

/** The configured thread adapters, and what to set for the ones that are not. */
export interface AdapterRegistry {
  /** The adapter for a platform; throws `platform_not_configured` naming what to set. */
  get(platform: Platform): ThreadAdapter;
  /** Parses any thread ref with its platform's adapter. */
  parse(ref: string): { adapter: ThreadAdapter; thread: ThreadAddress };
  readonly platforms: readonly Platform[];
}

export function createAdapterRegistry(
  adapters: readonly ThreadAdapter[],
  /**
   * Every registered platform that is not configured, with the sentence telling an operator
   * how to enable it. A prefix neither configured nor here is unknown.
   */
  howToEnable: Readonly<Record<Platform, string>> = {},
): AdapterRegistry {
  const byPlatform = new Map(adapters.map((a) => [a.platform, a]));
  const known = [...byPlatform.keys(), ...Object.keys(howToEnable).filter((p) => !byPlatform.has(p))];
  const get = (platform: Platform): ThreadAdapter => {
    const adapter = byPlatform.get(platform);
    if (adapter) return adapter;
    throw new BadInputError(
      `${platform} threads are not configured on this bridge.${Object.hasOwn(howToEnable, platform) ? ` ${howToEnable[platform]}` : ''}`,
      { code: 'platform_not_configured', details: { field: 'thread' } },
    );
  };
  return {
    get,
    parse(ref) {
      const { platform } = splitThreadRef(ref, known);
      const adapter = get(platform);
      return { adapter, thread: adapter.parseThread(ref.trim()) };
    },
    platforms: [...byPlatform.keys()],
  };
}

export interface ProtocolRegistry {
  /** The protocol; `auto` (not yet chosen by discovery) is an internal error here. */
  get(name: ProtocolName | 'auto'): LoginProtocol;
  readonly names: readonly ProtocolName[];
}

export function createProtocolRegistry(protocols: readonly LoginProtocol[]): ProtocolRegistry {
  const byName = new Map(protocols.map((p) => [p.name, p]));
  return {
    get(name) {
      if (name === 'auto') throw new InternalError('The login protocol was used before discovery chose one.');
      const protocol = byName.get(name);
      if (!protocol) {
        throw new BadInputError(
          `protocol "${name}" is not supported here; use one of: ${[...byName.keys()].join(', ')}.`,
          {
            code: 'unsupported_protocol',
            details: { field: 'protocol' },
          },
        );
      }
      return protocol;
    },
    names: [...byName.keys()],
  };
}
