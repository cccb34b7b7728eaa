import { afterAll, describe, expect, it } from 'vitest';
import { createKeys } from '../../src/store/keys.js';
import { createServiceGate, type GateEntry } from '../../src/store/service-gate.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';

/** The per-origin gate on the real Redis: slots, leases that expire on their own, and the breaker. */
describe('service gate (real Redis)', () => {
  const redis = connectTestRedis();
  const prefix = randomPrefix('gate');
  let now = 1_000_000;
  const gate = (limit = 2) =>
    createServiceGate({ redis, keys: createKeys(prefix), now: () => now, limit, threshold: 3, openMs: 10_000 });
  const entered = (e: GateEntry) => {
    if (e.kind !== 'entered') throw new Error(`expected a slot, got ${e.kind}`);
    return e;
  };

  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('admits `limit` calls per origin across gates (processes), and frees a slot on leave', async () => {
    const a = gate();
    const b = gate();
    const first = entered(await a.enter('https://slow.example', 30_000));
    entered(await b.enter('https://slow.example', 30_000));
    expect(await a.enter('https://slow.example', 30_000)).toEqual({ kind: 'busy', inFlight: 2 });
    // Another origin is not affected.
    entered(await a.enter('https://fast.example', 30_000));
    await first.leave({ ok: true });
    entered(await b.enter('https://slow.example', 30_000));
  });

  it('a key may have its own number of slots (an agent’s share)', async () => {
    const g = gate(1);
    entered(await g.enter('agent:a1', 30_000, 3));
    entered(await g.enter('agent:a1', 30_000, 3));
    entered(await g.enter('agent:a1', 30_000, 3));
    expect(await g.enter('agent:a1', 30_000, 3)).toEqual({ kind: 'busy', inFlight: 3 });
  });

  it('a lease whose process died expires on its own', async () => {
    const g = gate(1);
    entered(await g.enter('https://crash.example', 5_000)); // never left: the process "died"
    expect((await g.enter('https://crash.example', 5_000)).kind).toBe('busy');
    now += 5_001;
    entered(await g.enter('https://crash.example', 5_000));
  });

  it('opens the circuit after repeated transport failures, then lets one probe through; a success closes it', async () => {
    const g = gate(4);
    const origin = 'https://flaky.example';
    for (let i = 0; i < 3; i++)
      await entered(await g.enter(origin, 1_000)).leave({
        ok: false,
        code: 'service_timeout',
        message: 'https://flaky.example did not answer.',
      });
    expect(await g.enter(origin, 1_000)).toEqual({
      kind: 'open',
      untilMs: now + 10_000,
      code: 'service_timeout',
      message: 'https://flaky.example did not answer.',
    });
    now += 10_001;
    const probe = entered(await g.enter(origin, 1_000));
    expect((await g.enter(origin, 1_000)).kind).toBe('busy'); // half-open: one at a time
    await probe.leave({ ok: true });
    const again = [await g.enter(origin, 1_000), await g.enter(origin, 1_000)];
    expect(again.map((e) => e.kind)).toEqual(['entered', 'entered']);
  });

  it('a call that never reached the service leaves the breaker as it was', async () => {
    const g = gate(4);
    const origin = 'https://neutral.example';
    for (let i = 0; i < 2; i++)
      await entered(await g.enter(origin, 1_000)).leave({ ok: false, code: 'service_unreachable', message: 'x' });
    await entered(await g.enter(origin, 1_000)).leave(undefined);
    await entered(await g.enter(origin, 1_000)).leave({ ok: false, code: 'service_unreachable', message: 'x' });
    expect((await g.enter(origin, 1_000)).kind).toBe('open');
  });
});
