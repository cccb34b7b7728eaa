import { BadInputError } from './errors.js';

/** Platforms a thread can live on. Each has one adapter that parses and prints its refs. */
export const platforms = ['local', 'slack', 'github', 'linear'] as const;
export type Platform = (typeof platforms)[number];

/**
 * A parsed thread ref. Adapters return richer objects (channel, issue number…); the engine
 * only reads `platform` and `ref` and hands the object back to the adapter that made it.
 */
export interface ThreadAddress {
  readonly platform: Platform;
  /** Canonical ref string, e.g. `slack:C0123/1700000000.000100`. Stored and compared as is. */
  readonly ref: string;
}

/** Splits `slack:C1/1.2` into its platform and the platform-specific rest. */
export function splitThreadRef(ref: unknown): { platform: Platform; rest: string } {
  if (typeof ref !== 'string' || ref.trim() === '') {
    throw new BadInputError('thread must be a string such as "local:demo" or "slack:C0123/1700000000.000100".', {
      code: 'invalid_thread_ref',
      details: { field: 'thread' },
    });
  }
  const trimmed = ref.trim();
  const colon = trimmed.indexOf(':');
  const prefix = colon < 0 ? '' : trimmed.slice(0, colon).toLowerCase();
  if (!(platforms as readonly string[]).includes(prefix)) {
    throw new BadInputError(
      `thread "${trimmed.slice(0, 80)}" has an unknown prefix; use one of ${platforms.map((p) => `${p}:`).join(', ')}.`,
      { code: 'unknown_thread_platform', details: { field: 'thread' } },
    );
  }
  return { platform: prefix as Platform, rest: trimmed.slice(colon + 1) };
}

/** The error every adapter throws for a ref it cannot parse, with an example of a good one. */
export function invalidThreadRef(ref: string, example: string): BadInputError {
  return new BadInputError(`thread "${ref.slice(0, 80)}" is not valid; expected something like "${example}".`, {
    code: 'invalid_thread_ref',
    details: { field: 'thread' },
  });
}
