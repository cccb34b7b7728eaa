import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for ids and tokens, drawn from the CSPRNG a few KiB at a time: one
 * `randomFillSync` per 4 KiB instead of one `randomBytes` call (and buffer) per id — every
 * request gets an id, so that call showed in the servers' CPU profiles. The bytes are the same
 * CSPRNG's; each byte is handed out once (a refill takes a new buffer, what is left of the old
 * one when a request does not fit is dropped), so ids stay as unguessable as before.
 * Not for key material or cipher nonces: those take `randomBytes` where they are made.
 */
export interface RandomPool {
  /** `n` bytes no one else got. The view stays valid (its buffer is never refilled). */
  take(n: number): Buffer;
}

/** Bytes drawn at once (341 ids of 12 bytes). */
export const randomPoolBytes = 4096;

export function createRandomPool(
  size = randomPoolBytes,
  fill: (buffer: Buffer) => Buffer = (buffer) => randomFillSync(buffer),
): RandomPool {
  let pool: Buffer = Buffer.alloc(0);
  let offset = 0;
  return {
    take(n) {
      if (!Number.isInteger(n) || n < 1) throw new RangeError('take() needs a whole number of bytes (1 or more).');
      if (n > size) return fill(Buffer.allocUnsafeSlow(n));
      if (offset + n > pool.length) {
        pool = fill(Buffer.allocUnsafeSlow(size));
        offset = 0;
      }
      const bytes = pool.subarray(offset, offset + n);
      offset += n;
      return bytes;
    },
  };
}

const shared = createRandomPool();

/** `n` random bytes as hex (2n characters). */
export const randomHex = (n: number): string => shared.take(n).toString('hex');

/** `n` random bytes as base64url. */
export const randomBase64url = (n: number): string => shared.take(n).toString('base64url');
