import { describe, expect, it } from 'vitest';
import { describeDuration, parseDuration, systemClock } from '../../src/core/clock.js';

describe('parseDuration', () => {
  it.each([
    ['30m', 30 * 60_000],
    ['2h', 2 * 3_600_000],
    ['90s', 90_000],
    ['1500ms', 1_500],
    ['1.5h', 5_400_000],
    ['0.5s', 500],
    ['1d', 86_400_000],
    ['1500', 1_500],
    [' 45 s ', 45_000],
    ['2H', 7_200_000],
    ['10M', 600_000],
    ['0', 0],
  ])('%j → %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '',
    '   ',
    'soon',
    'm',
    '-5m',
    '+5m',
    '1e3',
    '1h30m',
    '.5h',
    '1.',
    '5w',
    '5 minutes',
    'Infinity',
    'NaN',
    '30 m s',
  ])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('rounds fractional milliseconds to a whole number', () => {
    expect(parseDuration('1.0004s')).toBe(1_000);
    expect(Number.isInteger(parseDuration('0.3333m'))).toBe(true);
  });
});

describe('describeDuration', () => {
  it.each([
    [0, '0 s'],
    [-5_000, '0 s'],
    [499, '0 s'],
    [500, '1 s'],
    [40_000, '40 s'],
    [59_499, '59 s'],
    [59_500, '1 min'],
    [60_000, '1 min'],
    [29 * 60_000 + 10_000, '29 min'],
    [30 * 60_000, '30 min'],
    [3_600_000, '1 h'],
    [3_660_000, '1 h 1 min'],
    [7_500_000, '2 h 5 min'],
    [86_400_000, '24 h'],
  ])('%i ms → %j', (ms, text) => {
    expect(describeDuration(ms)).toBe(text);
  });

  it('reads back what parseDuration parsed', () => {
    expect(describeDuration(parseDuration('2h')!)).toBe('2 h');
    expect(describeDuration(parseDuration('90m')!)).toBe('1 h 30 min');
  });
});

describe('systemClock', () => {
  it('tells the time in epoch milliseconds', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});
