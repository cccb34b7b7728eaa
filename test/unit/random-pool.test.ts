import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isId, newId, type IdKind } from '../../src/core/ids.js';
import { createRandomPool, randomBase64url, randomHex, randomPoolBytes } from '../../src/core/random-pool.js';

/**
 * Ids and tokens come from a pool of CSPRNG bytes (src/core/random-pool.ts): every byte the
 * CSPRNG filled is handed out at most once, across refills and for requests that do not fit
 * what is left; ids stay 96-bit, distinct and well-formed.
 */
describe('random pool', () => {
  /** A pool over the real CSPRNG that records every buffer it filled, and which bytes of them went out. */
  const watchedPool = (size: number) => {
    const filled: { buffer: Buffer; given: Uint8Array }[] = [];
    const pool = createRandomPool(size, (buffer) => {
      filled.push({ buffer, given: new Uint8Array(buffer.length) });
      return randomFillSync(buffer);
    });
    /** Takes `n`, marks where its bytes came from; returns how many of them had been handed out before. */
    const take = (n: number) => {
      const bytes = pool.take(n);
      expect(bytes.length).toBe(n);
      const from = filled.find((f) => f.buffer.buffer === bytes.buffer);
      if (!from) throw new Error('bytes from no filled buffer');
      const start = bytes.byteOffset - from.buffer.byteOffset;
      let twice = 0;
      for (let i = start; i < start + n; i++) twice += from.given[i]!++ > 0 ? 1 : 0;
      return twice;
    };
    return { filled, take };
  };

  it('never hands out a byte twice: across refills, with leftovers too small for the next request', () => {
    // 30-byte pool, 12-byte takes: two fit, the third needs a refill (6 bytes dropped).
    const { filled, take } = watchedPool(30);
    let twice = 0;
    for (let i = 0; i < 1_000; i++) twice += take(12);
    expect(twice).toBe(0);
    expect(filled).toHaveLength(500);
    // Odd sizes that straddle the boundary every few takes.
    const odd = watchedPool(64);
    for (let i = 0; i < 5_000; i++) twice += odd.take(1 + (i % 23));
    expect(twice).toBe(0);
    // Each refill is a new buffer: a view handed out earlier never changes under its holder.
    expect(new Set(filled.map((f) => f.buffer.buffer)).size).toBe(filled.length);
  });

  it('keeps earlier views intact after later refills', () => {
    const pool = createRandomPool(24);
    const first = pool.take(12);
    const copy = Buffer.from(first);
    for (let i = 0; i < 100; i++) pool.take(12);
    expect(first.equals(copy)).toBe(true);
  });

  it('serves a request larger than the pool from a fill of its own', () => {
    const { filled, take } = watchedPool(16);
    expect(take(40)).toBe(0);
    expect(filled.at(-1)!.buffer.length).toBe(40);
    expect(take(8)).toBe(0);
  });

  it('refuses sizes that are not a whole number of bytes', () => {
    const pool = createRandomPool();
    for (const n of [0, -1, 1.5, Number.NaN]) expect(() => pool.take(n)).toThrow(RangeError);
  });

  it('gives hex and base64url of the asked length, different every time', () => {
    expect(randomHex(12)).toMatch(/^[0-9a-f]{24}$/);
    expect(randomBase64url(9)).toMatch(/^[A-Za-z0-9_-]{12}$/);
    const seen = new Set(Array.from({ length: 10_000 }, () => randomHex(8)));
    expect(seen.size).toBe(10_000);
  });
});

describe('ids from the pool', () => {
  it('100,000 ids (several thousand refills of the shared pool) are distinct and well-formed', () => {
    const kinds: IdKind[] = ['handoff', 'credential', 'message', 'request'];
    const ids = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const kind = kinds[i % kinds.length]!;
      const id = newId(kind);
      expect(isId(kind, id)).toBe(true);
      ids.add(id.slice(id.indexOf('_') + 1));
    }
    expect(ids.size).toBe(100_000);
    expect(100_000 * 12).toBeGreaterThan(100 * randomPoolBytes);
  });

  it('looks uniform: every hex digit about equally often at every position', () => {
    const counts = Array.from({ length: 24 }, () => new Array<number>(16).fill(0));
    const n = 32_000;
    for (let i = 0; i < n; i++) {
      const hex = newId('request').slice(4);
      for (let p = 0; p < 24; p++) counts[p]![parseInt(hex[p]!, 16)]!++;
    }
    // Expected 2,000 per digit and position; ±20 % is > 8 standard deviations.
    for (const row of counts) for (const c of row) expect(Math.abs(c - n / 16)).toBeLessThan(n / 16 / 5);
  });
});
