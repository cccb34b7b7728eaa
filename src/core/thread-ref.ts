import { BadInputError } from './errors.js';

/**
 * A platform's name, the prefix of its thread refs (`local:demo`). The platforms are the ones
 * registered with the bridge (src/core/platform.ts); each parses and prints its own refs.
 */
export type Platform = string;

/**
 * A parsed thread ref. Adapters return richer objects (channel, issue number…); the engine
 * only reads `platform` and `ref` and hands the object back to the adapter that made it.
 */
export interface ThreadAddress {
  readonly platform: Platform;
  /** Canonical ref string, e.g. `local:demo`. Stored and compared as is. */
  readonly ref: string;
}

/** The platform of a canonical ref the bridge stored itself (no check: it was parsed before). */
export function platformOf(ref: string): Platform {
  return ref.slice(0, Math.max(0, ref.indexOf(':'))).toLowerCase();
}

/** Splits `local:demo` into its platform, one of `known`, and the platform-specific rest. */
export function splitThreadRef(ref: unknown, known: readonly Platform[]): { platform: Platform; rest: string } {
  if (typeof ref !== 'string' || ref.trim() === '') {
    throw new BadInputError(
      `thread must be a string such as "local:demo" (a platform's prefix, a colon, the thread).`,
      {
        code: 'invalid_thread_ref',
        details: { field: 'thread' },
      },
    );
  }
  const trimmed = ref.trim();
  const colon = trimmed.indexOf(':');
  const prefix = colon < 0 ? '' : trimmed.slice(0, colon).toLowerCase();
  if (!known.includes(prefix)) {
    throw new BadInputError(
      `thread "${trimmed.slice(0, 80)}" has an unknown prefix; use one of ${known.map((p) => `${p}:`).join(', ')}.`,
      { code: 'unknown_thread_platform', details: { field: 'thread' } },
    );
  }
  return { platform: prefix, rest: trimmed.slice(colon + 1) };
}

/** The error every adapter throws for a ref it cannot parse, with an example of a good one. */
export function invalidThreadRef(ref: string, example: string): BadInputError {
  return new BadInputError(`thread "${ref.slice(0, 80)}" is not valid; expected something like "${example}".`, {
    code: 'invalid_thread_ref',
    details: { field: 'thread' },
  });
}
