import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../src/core/errors.js';
import { nextDriverStep, type HandoffRecord } from '../../src/core/handoff.js';
import { maxRateLimitWaitMs, rateLimitWaitMs } from '../../src/core/rate-limit.js';
import { jobSignalFor } from '../../src/queue/job-signals.js';

describe('rate-limit waits', () => {
  it.each([
    [60_000, undefined, 60_000],
    [0, undefined, 1_000],
    [-5, undefined, 1_000],
    [Number.NaN, undefined, 1_000],
    [undefined, undefined, 1_000],
    [99_999_999_000, undefined, maxRateLimitWaitMs],
    [60_000, 20_000, 20_000],
    [60_000, -1, 0],
  ])('Retry-After %s ms with %s ms left → %s ms', (asked, left, expected) => {
    expect(rateLimitWaitMs(asked, left)).toBe(expected);
  });

  it('every queue waits at least a second and at most 15 minutes', () => {
    expect(jobSignalFor(new RateLimitedError('x', 0), 0, 5)).toEqual({ kind: 'delay', delayMs: 1_000 });
    expect(jobSignalFor(new RateLimitedError('x', 10 ** 12), 0, 5)).toEqual({
      kind: 'delay',
      delayMs: maxRateLimitWaitMs,
    });
    expect(jobSignalFor(new RateLimitedError('x', 42_000), 4, 5)).toEqual({ kind: 'delay', delayMs: 42_000 });
  });
});

describe('the driver honours notBefore', () => {
  const base: HandoffRecord = {
    id: 'hf_0123456789abcdef',
    kind: 'login',
    status: 'pending',
    version: 1,
    service: 'https://api.example.com',
    protocol: 'agent-sessions',
    thread: 'local:t',
    approvers: [],
    agentId: 'a',
    correlationId: 'c',
    scopes: [],
    createdAt: 0,
    updatedAt: 0,
    expiresAt: 100_000,
    attempts: 0,
  };

  it('a pending handoff waits until notBefore (or its expiry), then starts', () => {
    expect(nextDriverStep({ ...base, notBefore: 60_000 }, 10_000)).toEqual({ kind: 'wait', untilMs: 60_000 });
    expect(nextDriverStep({ ...base, notBefore: 160_000 }, 10_000)).toEqual({ kind: 'wait', untilMs: 100_000 });
    expect(nextDriverStep({ ...base, notBefore: 60_000 }, 60_000)).toEqual({ kind: 'start' });
    expect(nextDriverStep({ ...base, notBefore: 160_000 }, 100_000)).toEqual({ kind: 'expire' });
  });

  it('a waiting handoff polls no earlier than notBefore', () => {
    const waiting: HandoffRecord = { ...base, status: 'awaiting_human', nextPollAt: 20_000, notBefore: 50_000 };
    expect(nextDriverStep(waiting, 30_000)).toEqual({ kind: 'wait', untilMs: 50_000 });
    expect(nextDriverStep(waiting, 50_000)).toEqual({ kind: 'poll' });
    expect(nextDriverStep({ ...waiting, nextPollAt: undefined }, 30_000)).toEqual({ kind: 'wait', untilMs: 100_000 });
  });
});
