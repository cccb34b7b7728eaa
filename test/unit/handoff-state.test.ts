import { describe, expect, it } from 'vitest';
import {
  backgroundPollDelay,
  personActiveWindowMs,
  canTransition,
  claimRecheckMs,
  handoffStatuses,
  isTerminal,
  nextDriverStep,
  outcomeOf,
  sourcesOf,
  type HandoffRecord,
  type HandoffStatus,
} from '../../src/core/handoff.js';

const t0 = 1_700_000_000_000;

function record(overrides: Partial<HandoffRecord> = {}): HandoffRecord {
  return {
    id: 'hf_6f1c0a9e4b2d7c35a1e0f2b8',
    kind: 'login',
    status: 'pending',
    version: 1,
    service: 'https://api.example.com',
    protocol: 'agent-sessions',
    thread: 'local:demo',
    approvers: [],
    agentId: 'agent-1',
    correlationId: 'corr-1',
    scopes: [],
    createdAt: t0,
    updatedAt: t0,
    expiresAt: t0 + 30 * 60_000,
    attempts: 0,
    ...overrides,
  };
}

const terminal: HandoffStatus[] = ['completed', 'failed', 'expired', 'cancelled'];

describe('canTransition', () => {
  const allowedPairs: Array<[HandoffStatus, HandoffStatus]> = [
    ['pending', 'awaiting_human'],
    ['pending', 'failed'],
    ['pending', 'expired'],
    ['pending', 'cancelled'],
    ['awaiting_human', 'claiming'],
    ['awaiting_human', 'failed'],
    ['awaiting_human', 'expired'],
    ['awaiting_human', 'cancelled'],
    ['claiming', 'completed'],
    ['claiming', 'awaiting_human'],
    ['claiming', 'failed'],
  ];

  it.each(allowedPairs)('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it('allows nothing else', () => {
    const allowedKeys = new Set(allowedPairs.map(([f, t]) => `${f}→${t}`));
    const forbidden = handoffStatuses.flatMap((from) =>
      handoffStatuses.filter((to) => !allowedKeys.has(`${from}→${to}`)).map((to) => [from, to] as const),
    );
    expect(forbidden.length).toBe(handoffStatuses.length ** 2 - allowedPairs.length);
    for (const [from, to] of forbidden) expect(canTransition(from, to), `${from} → ${to}`).toBe(false);
  });

  it.each<[HandoffStatus, HandoffStatus, string]>([
    ['pending', 'completed', 'cannot complete a login that never started'],
    ['pending', 'claiming', 'cannot claim before the approval message is out'],
    ['awaiting_human', 'completed', 'completion goes through claiming'],
    ['awaiting_human', 'pending', 'no going back to pending'],
    ['claiming', 'cancelled', 'no cancel mid-claim'],
    ['claiming', 'expired', 'no expiry mid-claim'],
    ['claiming', 'claiming', 'no self-transition'],
    ['completed', 'awaiting_human', 'terminal stays terminal'],
    ['expired', 'completed', 'a late code does not revive an expired handoff'],
    ['cancelled', 'pending', 'terminal stays terminal'],
  ])('forbids %s → %s (%s)', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it.each(terminal)('%s has no way out', (from) => {
    expect(handoffStatuses.filter((to) => canTransition(from, to))).toEqual([]);
  });
});

describe('sourcesOf', () => {
  it.each<[HandoffStatus, HandoffStatus[]]>([
    ['pending', []],
    ['awaiting_human', ['pending', 'claiming']],
    ['claiming', ['awaiting_human']],
    ['completed', ['claiming']],
    ['failed', ['pending', 'awaiting_human', 'claiming']],
    ['expired', ['pending', 'awaiting_human']],
    ['cancelled', ['pending', 'awaiting_human']],
  ])('%s is reached from %j', (to, sources) => {
    expect(sourcesOf(to)).toEqual(sources);
  });
});

describe('isTerminal', () => {
  it.each(handoffStatuses.map((s) => [s, terminal.includes(s)] as const))('%s → %s', (status, expected) => {
    expect(isTerminal(status)).toBe(expected);
  });
});

describe('outcomeOf', () => {
  it.each(['pending', 'awaiting_human', 'claiming'] as const)('is undefined while %s', (status) => {
    expect(outcomeOf(record({ status }))).toBeUndefined();
  });

  it('reports the credential of a completed handoff', () => {
    expect(outcomeOf(record({ status: 'completed', credentialId: 'cr_0a1b2c3d4e5f60718293a4b5' }))).toEqual({
      handoffId: 'hf_6f1c0a9e4b2d7c35a1e0f2b8',
      status: 'completed',
      credentialId: 'cr_0a1b2c3d4e5f60718293a4b5',
    });
  });

  it('reports the error of a failed handoff and no credential key', () => {
    const outcome = outcomeOf(
      record({ status: 'failed', error: { code: 'too_many_attempts', message: 'Five wrong codes.' } }),
    );
    expect(outcome).toEqual({
      handoffId: 'hf_6f1c0a9e4b2d7c35a1e0f2b8',
      status: 'failed',
      error: { code: 'too_many_attempts', message: 'Five wrong codes.' },
    });
    expect(outcome).not.toHaveProperty('credentialId');
  });

  it.each(['expired', 'cancelled'] as const)('reports a bare %s outcome', (status) => {
    expect(outcomeOf(record({ status }))).toEqual({ handoffId: 'hf_6f1c0a9e4b2d7c35a1e0f2b8', status });
  });
});

describe('nextDriverStep', () => {
  const expiresAt = t0 + 30 * 60_000;

  it('starts a pending handoff before it expires', () => {
    expect(nextDriverStep(record({ status: 'pending', expiresAt }), expiresAt - 1)).toEqual({ kind: 'start' });
  });

  it.each([0, 1, 60_000])('expires a pending handoff %i ms after expiry', (late) => {
    expect(nextDriverStep(record({ status: 'pending', expiresAt }), expiresAt + late)).toEqual({ kind: 'expire' });
  });

  it('waits until expiry when awaiting a human with no background poll', () => {
    expect(nextDriverStep(record({ status: 'awaiting_human', expiresAt }), t0 + 1_000)).toEqual({
      kind: 'wait',
      untilMs: expiresAt,
    });
  });

  it('waits until the next poll when that comes before expiry', () => {
    const r = record({ status: 'awaiting_human', expiresAt, nextPollAt: t0 + 10_000 });
    expect(nextDriverStep(r, t0 + 9_999)).toEqual({ kind: 'wait', untilMs: t0 + 10_000 });
  });

  it('waits only until expiry when the next poll would be after it', () => {
    const r = record({ status: 'awaiting_human', expiresAt, nextPollAt: expiresAt + 10_000 });
    expect(nextDriverStep(r, expiresAt - 5_000)).toEqual({ kind: 'wait', untilMs: expiresAt });
  });

  it.each([0, 1, 25_000])('polls when the poll is due (%i ms late)', (late) => {
    const r = record({ status: 'awaiting_human', expiresAt, nextPollAt: t0 + 10_000 });
    expect(nextDriverStep(r, t0 + 10_000 + late)).toEqual({ kind: 'poll' });
  });

  it('expires rather than polls once past expiry, even with a poll due', () => {
    const r = record({ status: 'awaiting_human', expiresAt, nextPollAt: t0 + 10_000 });
    expect(nextDriverStep(r, expiresAt)).toEqual({ kind: 'expire' });
  });

  it('rechecks a claim in progress about 30 s later, even past expiry', () => {
    expect(claimRecheckMs).toBe(30_000);
    const now = t0 + 5_000;
    expect(nextDriverStep(record({ status: 'claiming', expiresAt }), now)).toEqual({
      kind: 'wait',
      untilMs: now + 30_000,
    });
    const late = expiresAt + 1;
    expect(nextDriverStep(record({ status: 'claiming', expiresAt }), late)).toEqual({
      kind: 'wait',
      untilMs: late + 30_000,
    });
  });

  it.each(terminal)('finishes a %s handoff with its outcome', (status) => {
    const r = record({ status, ...(status === 'completed' ? { credentialId: 'cr_0a1b2c3d4e5f60718293a4b5' } : {}) });
    expect(nextDriverStep(r, t0)).toEqual({ kind: 'finish', outcome: outcomeOf(r) });
    expect(nextDriverStep(r, t0)).toMatchObject({ outcome: { status, handoffId: r.id } });
  });
});

describe('backgroundPollDelay', () => {
  const created = { createdAt: 1_000_000 };
  const at = (ageMs: number) => created.createdAt + ageMs;

  it.each([
    ['a fresh handoff polls at the protocol interval', 5_000, 10_000, 10_000],
    ['at one minute a sixth of the age is still under the interval', 60_000, 10_000, 10_000],
    ['at six minutes the age wins: one minute between polls', 360_000, 10_000, 60_000],
    ['an old handoff is capped at the maximum', 24 * 3_600_000, 10_000, 300_000],
    ['a protocol asking for more (slow_down) always gets at least that', 30_000, 45_000, 45_000],
  ])('%s', (_what, age, interval, expected) => {
    expect(backgroundPollDelay(created, interval, 300_000, at(age))).toBe(expected);
  });

  it('polls at the interval while a person is likely acting, whatever the age', () => {
    const active = { ...created, activeUntil: at(600_000) };
    expect(backgroundPollDelay(active, 2_000, 300_000, at(599_999))).toBe(2_000);
    expect(backgroundPollDelay(active, 2_000, 300_000, at(600_000))).toBe(100_000);
  });

  it('costs about 100 polls over a 30-minute handoff at 2 s, most in its first 3 minutes (a CLI polling at 2 s makes 900)', () => {
    const posted = { ...created, activeUntil: at(personActiveWindowMs) };
    let t = 0;
    let polls = 0;
    let early = 0;
    while (t < 30 * 60_000) {
      t += backgroundPollDelay(posted, 2_000, 300_000, at(t));
      polls += 1;
      if (t <= personActiveWindowMs) early += 1;
    }
    expect(early).toBe(personActiveWindowMs / 2_000);
    expect(polls).toBeGreaterThan(95);
    expect(polls).toBeLessThan(110);
  });
});
