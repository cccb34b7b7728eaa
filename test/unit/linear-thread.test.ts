import { describe, expect, it } from 'vitest';
import { parseLinearThread } from '../../adapters/linear/linear-thread.js';
import { HandoffError } from '../../src/core/errors.js';

describe('Linear thread refs', () => {
  it.each([
    ['linear:ENG-123', 'linear:ENG-123', 'ENG-123', 'key'],
    ['linear:eng-123', 'linear:ENG-123', 'ENG-123', 'key'],
    ['  LINEAR:Ops2-7 ', 'linear:OPS2-7', 'OPS2-7', 'key'],
    [
      'linear:C4A1F0D2-6B3E-4D8A-9F17-5E2B8C0A7D34',
      'linear:c4a1f0d2-6b3e-4d8a-9f17-5e2b8c0a7d34',
      'c4a1f0d2-6b3e-4d8a-9f17-5e2b8c0a7d34',
      'uuid',
    ],
  ])('%j → %s', (ref, canonical, issue, form) => {
    const parsed = parseLinearThread(ref);
    expect(parsed).toEqual({ platform: 'linear', ref: canonical, issue, form });
    expect(parseLinearThread(parsed.ref)).toEqual(parsed);
  });

  it.each([
    'linear:',
    'linear:ENG',
    'linear:ENG-',
    'linear:ENG-0',
    'linear:123',
    'linear:1ENG-2',
    'linear:ENG-12a',
    'linear:ENG 12',
    'linear:c4a1f0d2-6b3e-4d8a-9f17',
    'slack:C1/1.2',
  ])('rejects %j with an example of a good ref', (ref) => {
    let caught: unknown;
    try {
      parseLinearThread(ref);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HandoffError);
    expect((caught as HandoffError).code).toBe('invalid_thread_ref');
    expect((caught as HandoffError).message).toContain('linear:ENG-123');
  });
});
