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

  it('a busy gate queues waiters by arrival and each slot given back names the oldest, once', async () => {
    const g = gate(1);
    const origin = 'https://line.example';
    const holder = entered(await g.enter(origin, 30_000));
    // Arrivals out of order: the queue follows `since`, not who asked first.
    expect((await g.enter(origin, 30_000, undefined, { id: 'hf_b', since: 20 })).kind).toBe('busy');
    expect((await g.enter(origin, 30_000, undefined, { id: 'hf_a', since: 10 })).kind).toBe('busy');
    expect((await g.enter(origin, 30_000, undefined, { id: 'hf_c', since: 30 })).kind).toBe('busy');
    // Asking again keeps a waiter's place (NX): hf_b does not move behind hf_c.
    expect((await g.enter(origin, 30_000, undefined, { id: 'hf_b', since: 99 })).kind).toBe('busy');
    // A poll (no waiter) is turned away without joining the line.
    expect((await g.enter(origin, 30_000)).kind).toBe('busy');

    expect(await holder.leave({ ok: true })).toBe('hf_a');
    const a = entered(await g.enter(origin, 30_000, undefined, { id: 'hf_a', since: 10 }));
    expect(await a.leave({ ok: true })).toBe('hf_b');
    // hf_b's wake-up went nowhere (say it was cancelled): the turn passes on while a slot is free.
    expect(await g.next(origin)).toBe('hf_c');
    expect(await g.next(origin)).toBeUndefined();
    // Leaving twice hands out no second turn.
    expect(await a.leave({ ok: true })).toBeUndefined();
  });

  it('a waiter that gets in by itself leaves the line; nobody is named while every slot is taken', async () => {
    const g = gate(1);
    const origin = 'https://self.example';
    const holder = entered(await g.enter(origin, 1_000));
    expect((await g.enter(origin, 30_000, undefined, { id: 'hf_x', since: 1 })).kind).toBe('busy');
    expect((await g.enter(origin, 30_000, undefined, { id: 'hf_y', since: 2 })).kind).toBe('busy');
    expect(await g.next(origin)).toBeUndefined(); // the holder still has the only slot
    now += 1_001; // the holder's lease ran out (its process died)
    const x = entered(await g.enter(origin, 30_000, undefined, { id: 'hf_x', since: 1 }));
    expect(await x.leave({ ok: true })).toBe('hf_y');
    expect(await holder.leave({ ok: true })).toBeUndefined();
  });

  it('an open circuit names no waiter (it would only be turned away); it does once the circuit lets a probe through', async () => {
    const g = gate(2); // threshold 3
    const origin = 'https://down.example';
    const fail = { ok: false, code: 'service_timeout', message: 'no answer' } as const;
    let calls = [entered(await g.enter(origin, 1_000)), entered(await g.enter(origin, 1_000))];
    expect((await g.enter(origin, 1_000, undefined, { id: 'hf_w', since: 1 })).kind).toBe('busy');
    expect(await calls[0]!.leave(fail)).toBe('hf_w'); // 1 failure: still closed
    expect(await calls[1]!.leave(fail)).toBeUndefined(); // 2 failures, nobody waiting
    calls = [entered(await g.enter(origin, 1_000)), entered(await g.enter(origin, 1_000))];
    expect((await g.enter(origin, 1_000, undefined, { id: 'hf_v', since: 2 })).kind).toBe('busy');
    expect(await calls[0]!.leave(fail)).toBeUndefined(); // the third failure opens the circuit
    expect(await calls[1]!.leave(undefined)).toBeUndefined();
    expect((await g.enter(origin, 1_000)).kind).toBe('open');
    expect(await g.next(origin)).toBeUndefined();
    now += 10_001;
    expect(await g.next(origin)).toBe('hf_v');
  });

  it('a busy answer says whether the line moves: the last call succeeded and none failed since', async () => {
    const g = gate(1);
    const origin = 'https://moving.example';
    const first = entered(await g.enter(origin, 30_000));
    expect(await g.enter(origin, 30_000)).toEqual({ kind: 'busy', inFlight: 1 }); // no call has ended yet
    await first.leave({ ok: true });
    const second = entered(await g.enter(origin, 30_000));
    expect(await g.enter(origin, 30_000)).toEqual({ kind: 'busy', inFlight: 1, lastOkAt: now });
    await second.leave({ ok: false, code: 'service_timeout', message: 'no answer' });
    entered(await g.enter(origin, 30_000));
    expect(await g.enter(origin, 30_000)).toEqual({ kind: 'busy', inFlight: 1 });
  });
});
