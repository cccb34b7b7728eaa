import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Redis } from './redis.js';
import { HandoffError } from '../core/errors.js';
import type { Keys } from './keys.js';

/**
 * Secrets at rest: AES-256-GCM with a fresh 96-bit IV per value. The entry's own Redis key is
 * the associated data, so a ciphertext moved to another slot does not decrypt. The key id in
 * each blob lets a rotated key still open old entries (pass the old key in `previousKeys`).
 *
 * Blob format: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
export interface Vault {
  /** Encrypts `plaintext` (text, or bytes) bound to `context` (any string naming where it will live). */
  seal(plaintext: string | Uint8Array, context: string): string;
  /** Decrypts a blob made by `seal` with the same context; throws `vault_unreadable` otherwise. */
  open(blob: string, context: string): string;
  /** As `open`, the plaintext as bytes (for a value sealed as bytes). */
  openBytes(blob: string, context: string): Buffer;
  /**
   * The blob sealed again under the current key (same context), or undefined when it already
   * is; throws `vault_unreadable` when no key the vault holds opens it. For key rotation.
   */
  reseal(blob: string, context: string): string | undefined;
  /** Stores a JSON value encrypted under `slot`/`id`; `ttlMs` bounds its life. */
  put(slot: string, id: string, value: unknown, ttlMs?: number): Promise<void>;
  /**
   * What `put` would store, for a caller that writes it along with its own keys (one script):
   * the entry's Redis key and the JSON value sealed under it.
   */
  entry(slot: string, id: string, value: unknown): { readonly key: string; readonly blob: string };
  get<T>(slot: string, id: string): Promise<T | undefined>;
  delete(slot: string, id: string): Promise<void>;
}

/** The id a key's blobs carry (8 characters of its SHA-256; says nothing about the key). */
export function vaultKeyId(key: Buffer): string {
  return keyId(key);
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

export function createVault(deps: { redis: Redis; keys: Keys; key: Buffer; previousKeys?: readonly Buffer[] }): Vault {
  if (deps.key.length !== 32) throw new Error('vault key must be 32 bytes');
  const current = { id: keyId(deps.key), key: deps.key };
  const byId = new Map(
    [current, ...(deps.previousKeys ?? []).map((key) => ({ id: keyId(key), key }))].map((k) => [k.id, k.key]),
  );

  const seal = (plaintext: string | Uint8Array, context: string): string => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    cipher.setAAD(Buffer.from(context));
    const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const body = Buffer.concat([cipher.update(bytes), cipher.final()]);
    return [
      'v1',
      current.id,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      body.toString('base64url'),
    ].join('.');
  };

  const openBytes = (blob: string, context: string): Buffer => {
    const [version, kid, iv, tag, body] = blob.split('.');
    const key = kid === undefined ? undefined : byId.get(kid);
    if (version !== 'v1' || !key || iv === undefined || tag === undefined || body === undefined) {
      throw unreadable(
        kid !== undefined && !byId.has(kid) ? 'it was sealed with a key the bridge no longer has' : 'it is malformed',
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
    } catch (cause) {
      throw unreadable('authentication failed (wrong key or tampered data)', cause);
    }
  };

  const open = (blob: string, context: string): string => openBytes(blob, context).toString('utf8');

  const entry = (slot: string, id: string, value: unknown) => {
    const key = deps.keys.vault(slot, id);
    return { key, blob: seal(JSON.stringify(value), key) };
  };

  return {
    seal,
    open,
    openBytes,
    reseal(blob, context) {
      if (blob.split('.')[1] === current.id) {
        openBytes(blob, context); // under the current key already, but it must still open
        return undefined;
      }
      return seal(openBytes(blob, context), context);
    },
    entry,
    async put(slot, id, value, ttlMs) {
      const { key, blob } = entry(slot, id, value);
      if (ttlMs !== undefined) await deps.redis.set(key, blob, 'PX', Math.max(1, Math.round(ttlMs)));
      else await deps.redis.set(key, blob);
    },
    async get<T>(slot: string, id: string) {
      const key = deps.keys.vault(slot, id);
      const blob = await deps.redis.get(key);
      return blob === null ? undefined : (JSON.parse(open(blob, key)) as T);
    },
    async delete(slot, id) {
      await deps.redis.del(deps.keys.vault(slot, id));
    },
  };
}

function unreadable(why: string, cause?: unknown): HandoffError {
  return new HandoffError(`A vault entry could not be decrypted: ${why}. Check HANDOFF_VAULT_KEY.`, {
    code: 'vault_unreadable',
    status: 500,
    retry: 'never',
    cause,
  });
}
