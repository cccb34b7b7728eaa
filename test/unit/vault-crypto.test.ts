import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HandoffError } from '../../src/core/errors.js';
import { createKeys } from '../../src/store/keys.js';
import { createVault, type Vault } from '../../src/store/vault.js';

// seal/open are pure crypto and never touch Redis.
const vaultWith = (key: Buffer, previousKeys?: readonly Buffer[]): Vault =>
  createVault({ redis: undefined as never, keys: createKeys('x'), key, ...(previousKeys ? { previousKeys } : {}) });

const secret = JSON.stringify({
  access_token: 'aas_plaintextAccessToken0123',
  refresh_token: 'aar_plaintextRefresh4567',
});
const context = 'handoff:vault:credential:cr_0a1b2c3d4e5f60718293a4b5';

/** The vault_unreadable error `fn` throws (fails the test otherwise). */
function unreadable(fn: () => unknown): HandoffError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HandoffError);
    expect((err as HandoffError).code).toBe('vault_unreadable');
    return err as HandoffError;
  }
  throw new Error('expected vault_unreadable');
}

/** Flips one bit in the base64url part `index` of a blob. */
function flip(blob: string, index: number): string {
  const parts = blob.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('vault seal/open', () => {
  const key = randomBytes(32);
  const vault = vaultWith(key);

  it('round-trips text, including empty and non-ASCII text', () => {
    for (const text of [secret, '', 'café ✅ 日本語', 'x'.repeat(100_000)]) {
      expect(vault.open(vault.seal(text, context), context)).toBe(text);
    }
  });

  it('writes a v1 blob with a key id and a fresh IV each time', () => {
    const a = vault.seal(secret, context);
    const b = vault.seal(secret, context);
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).toBe(b.split('.')[1]);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it('never contains the plaintext, in any encoding', () => {
    const blob = vault.seal(secret, context);
    for (const needle of [
      'aas_plaintextAccessToken0123',
      'plaintext',
      Buffer.from('plaintextAccess').toString('base64url'),
    ]) {
      expect(blob).not.toContain(needle);
    }
    expect(Buffer.from(blob.split('.')[4]!, 'base64url').toString('latin1')).not.toContain('plaintext');
  });

  it('fails to open under a different context (a blob moved to another slot)', () => {
    const blob = vault.seal(secret, context);
    const err = unreadable(() => vault.open(blob, 'handoff:vault:credential:cr_ffffffffffffffffffffffff'));
    expect(err.status).toBe(500);
    expect(err.retry).toBe('never');
    expect(err.message).toContain('HANDOFF_VAULT_KEY');
  });

  it.each([
    [2, 'iv'],
    [3, 'tag'],
    [4, 'ciphertext'],
  ])('fails when part %i (%s) is tampered with', (index) => {
    const blob = vault.seal(secret, context);
    unreadable(() => vault.open(flip(blob, index), context));
  });

  it('fails on a truncated or malformed blob', () => {
    const blob = vault.seal(secret, context);
    unreadable(() => vault.open(blob.split('.').slice(0, 4).join('.'), context));
    unreadable(() => vault.open(`v2${blob.slice(2)}`, context));
    unreadable(() => vault.open('', context));
    unreadable(() => vault.open('not a blob', context));
  });

  it('does not leak the plaintext in the error', () => {
    const blob = vault.seal(secret, context);
    const err = unreadable(() => vault.open(flip(blob, 4), context));
    expect(err.message).not.toContain('plaintext');
  });

  it('fails with a different key and says the key is unknown', () => {
    const blob = vault.seal(secret, context);
    const err = unreadable(() => vaultWith(randomBytes(32)).open(blob, context));
    expect(err.message).toContain('key the bridge no longer has');
  });

  it('fails with a different key even when the key id is forged to match', () => {
    const other = vaultWith(randomBytes(32));
    const blob = vault.seal(secret, context);
    const ownId = other.seal('x', context).split('.')[1]!;
    const forged = blob.split('.');
    forged[1] = ownId;
    const err = unreadable(() => other.open(forged.join('.'), context));
    expect(err.message).toContain('authentication failed');
  });

  it('opens blobs sealed with a rotated-out key when it is listed in previousKeys', () => {
    const oldKey = randomBytes(32);
    const oldBlob = vaultWith(oldKey).seal(secret, context);
    const newKey = randomBytes(32);
    const rotated = vaultWith(newKey, [oldKey]);
    expect(rotated.open(oldBlob, context)).toBe(secret);
    // New blobs use the new key: a vault with only the old key cannot read them.
    const newBlob = rotated.seal(secret, context);
    expect(newBlob.split('.')[1]).not.toBe(oldBlob.split('.')[1]);
    unreadable(() => vaultWith(oldKey).open(newBlob, context));
    // Without previousKeys, the old blob is unreadable.
    unreadable(() => vaultWith(newKey).open(oldBlob, context));
  });

  it('rejects a blob whose auth tag was truncated to 4 bytes', () => {
    const parts = vault.seal(secret, context).split('.');
    parts[3] = Buffer.from(parts[3]!, 'base64url').subarray(0, 4).toString('base64url');
    unreadable(() => vault.open(parts.join('.'), context));
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => vaultWith(randomBytes(16))).toThrow(/32 bytes/);
  });
});
