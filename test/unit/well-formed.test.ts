import { describe, expect, it } from 'vitest';
import { illFormedPath, wellFormed } from '../../src/core/well-formed.js';

describe('illFormedPath', () => {
  it('names the first string or key holding a lone surrogate, by dotted path', () => {
    expect(illFormedPath({ a: 'ok', b: ['fine', { c: 'x\ud800' }] })).toBe('b.1.c');
    expect(illFormedPath({ ['k\udc00']: 1 })).toBe('k\ufffd');
    expect(illFormedPath('\udfff')).toBe('body');
  });

  it('accepts well-formed text, surrogate pairs included, and non-strings', () => {
    expect(illFormedPath({ emoji: '😀 \ud83d\ude00', n: 1, t: true, z: null, list: [] })).toBeUndefined();
  });

  it('walks nesting deeper than the call stack without overflowing', () => {
    const deep = JSON.parse(`${'['.repeat(50_000)}"\\ud800"${']'.repeat(50_000)}`) as unknown;
    expect(illFormedPath(deep)).toMatch(/^0(\.0)+$/);
  });
});

describe('wellFormed', () => {
  it('replaces each lone surrogate with U+FFFD and keeps pairs', () => {
    expect(wellFormed('a\ud800b\udc00c😀')).toBe('a\ufffdb\ufffdc😀');
    const same = 'plain';
    expect(wellFormed(same)).toBe(same);
  });
});
