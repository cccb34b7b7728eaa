import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * Agent keys: `hak_` and 40 random letters and digits (about 238 bits), so they are long
 * enough that a plain SHA-256 is a safe way to store them (no salt or slow hash is needed
 * against guessing), recognisable in logs (src/core/secret-patterns.ts masks them), and
 * selectable with a double click. The bridge keeps only `sha256:<base64url>` of a key.
 */
export const agentKeyPrefix = 'hak_';
const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const keyLength = 40;

/** A new random agent key. Shown once; store only its hash. */
export function generateAgentKey(): string {
  let body = '';
  for (let i = 0; i < keyLength; i++) body += alphabet[randomInt(alphabet.length)];
  return `${agentKeyPrefix}${body}`;
}

/** True when `value` has the shape of an agent key. */
export function isAgentKey(value: string): boolean {
  return /^hak_[A-Za-z0-9]{32,128}$/.test(value);
}

/** What the bridge stores instead of the key: `sha256:` and the base64url digest. */
export function hashAgentKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('base64url')}`;
}

/** True when `value` has the shape of a key hash (as `handoff agents hash` prints it). */
export function isAgentKeyHash(value: string): boolean {
  return /^sha256:[A-Za-z0-9_-]{43}$/.test(value);
}

/** Constant-time comparison of two key hashes. */
export function sameKeyHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
