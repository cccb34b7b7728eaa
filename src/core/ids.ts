import { randomHex } from './random-pool.js';

/** Resource id kinds and their prefixes; ids are opaque, unguessable and URL-safe. */
const prefixes = {
  handoff: 'hf',
  credential: 'cr',
  message: 'msg',
  request: 'req',
} as const;

export type IdKind = keyof typeof prefixes;

/** A new random id such as `hf_6f1c0a9e4b2d7c35a1e0f2b8` (96 bits of entropy). */
export function newId(kind: IdKind): string {
  return `${prefixes[kind]}_${randomHex(12)}`;
}

/** True when `value` has the shape of an id of this kind. */
export function isId(kind: IdKind, value: string): boolean {
  return new RegExp(`^${prefixes[kind]}_[0-9a-f]{24}$`).test(value);
}
