import { describe, expect, it } from 'vitest';
import { nextDriverStep, type HandoffRecord } from '../../src/core/handoff.js';
import { loadHandoffConfig } from '../../src/main.js';
import { waitingPlanFor } from '../../src/engine/waiting-plan.js';

const minute = 60_000;
const base: HandoffRecord = {
  id: 'hf_0123456789abcdef',
  kind: 'approval',
  status: 'awaiting_human',
  version: 3,
  service: '',
  protocol: 'auto',
  thread: 'local:t',
  approvers: ['ann'],
  agentId: 'a',
  correlationId: 'c',
  scopes: [],
  createdAt: 0,
  updatedAt: 0,
  expiresAt: 60 * minute,
  attempts: 0,
};

describe('the timers of a waiting handoff (issue #14)', () => {
  const reminding = { ...base, remind: { afterMs: minute, everyMs: 2 * minute, max: 2 }, remindAt: minute };

  it('parks until the next reminder and fires it when due', () => {
    expect(nextDriverStep(reminding, 0)).toEqual({ kind: 'wait', untilMs: minute });
    expect(nextDriverStep(reminding, minute)).toEqual({ kind: 'timer', timer: 'remind' });
  });

  it('sends no reminder past max, after the expiry or outside awaiting_human', () => {
    expect(nextDriverStep({ ...reminding, reminded: 2 }, 2 * minute)).toEqual({ kind: 'wait', untilMs: 60 * minute });
    expect(nextDriverStep({ ...reminding, remindAt: 61 * minute }, 2 * minute)).toEqual({
      kind: 'wait',
      untilMs: 60 * minute,
    });
    expect(nextDriverStep({ ...reminding, status: 'claiming' }, 2 * minute)).toMatchObject({ kind: 'wait' });
    expect(nextDriverStep({ ...reminding, status: 'cancelled' }, 2 * minute)).toMatchObject({ kind: 'finish' });
    expect(nextDriverStep({ ...reminding, status: 'pending' }, 2 * minute)).toEqual({ kind: 'start' });
  });

  it('warns once per expiry, only for handoffs of 30 minutes or more', () => {
    const warned = { ...base, warnBeforeMs: 5 * minute };
    expect(nextDriverStep(warned, 0)).toEqual({ kind: 'wait', untilMs: 55 * minute });
    expect(nextDriverStep(warned, 55 * minute)).toEqual({ kind: 'timer', timer: 'warn' });
    expect(nextDriverStep({ ...warned, warnedFor: 60 * minute }, 56 * minute)).toEqual({
      kind: 'wait',
      untilMs: 60 * minute,
    });
    // More time moves the expiry: a new warning.
    expect(nextDriverStep({ ...warned, warnedFor: 60 * minute, expiresAt: 90 * minute }, 86 * minute)).toEqual({
      kind: 'timer',
      timer: 'warn',
    });
    expect(nextDriverStep({ ...warned, expiresAt: 29 * minute }, 25 * minute)).toEqual({
      kind: 'wait',
      untilMs: 29 * minute,
    });
  });

  it('takes escalation steps in order, each once, and none past the expiry', () => {
    const steps = [
      { afterMs: 5 * minute, approvers: ['olga'] },
      { afterMs: 70 * minute, approvers: ['pat'] },
    ];
    const escalating = { ...base, escalate: steps };
    expect(nextDriverStep(escalating, 0)).toEqual({ kind: 'wait', untilMs: 5 * minute });
    expect(nextDriverStep(escalating, 5 * minute)).toEqual({ kind: 'timer', timer: 'escalate' });
    // The second step would come after the expiry: the driver waits for the expiry alone.
    expect(nextDriverStep({ ...escalating, escalated: 1 }, 6 * minute)).toEqual({ kind: 'wait', untilMs: 60 * minute });
  });

  it('takes the bridge default only when the request names no reminder, and max 0 turns them off', () => {
    const policy = (remindAfterMs?: number) => ({
      policy: { ...(remindAfterMs ? { remindAfterMs } : {}), expiryWarningMs: 0 } as never,
    });
    expect(waitingPlanFor(policy(), undefined, 1_000)).toEqual({});
    expect(waitingPlanFor(policy(10 * minute), undefined, 1_000)).toEqual({
      remind: { afterMs: 10 * minute, everyMs: 10 * minute, max: 3 },
      remindAt: 1_000 + 10 * minute,
    });
    expect(waitingPlanFor(policy(10 * minute), { afterMs: minute, everyMs: 3 * minute }, 0)).toMatchObject({
      remind: { afterMs: minute, everyMs: 3 * minute, max: 3 },
    });
    expect(waitingPlanFor(policy(10 * minute), { afterMs: minute, max: 0 }, 0)).toEqual({});
  });

  it('reads HANDOFF_REMIND_AFTER_MS and HANDOFF_EXPIRY_WARNING_MS', () => {
    const config = loadHandoffConfig({
      NODE_ENV: 'development',
      HANDOFF_REMIND_AFTER_MS: '900000',
      HANDOFF_EXPIRY_WARNING_MS: '0',
    });
    expect(config.waiting).toEqual({ remindAfterMs: 900_000, expiryWarningMs: 0 });
  });
});
