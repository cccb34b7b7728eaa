import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyServiceWaitMs } from '../../src/engine/start-login.js';
import { connectTestRedis } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';
import { createKeys } from '../../src/store/keys.js';

/**
 * Issue #16: starts that find their service's slots taken wait in line and are woken, oldest
 * first, as each slot is given back — not by looking again every few seconds. With one slot
 * and a burst of one agent's handoffs, every start is done well before the fallback look
 * (`busyServiceWaitMs`) could have fired even once; a waiter cancelled in line does not hold
 * up the ones behind it, and the line is empty afterwards.
 */
describe('starts wait in line for a busy service (real Redis, real BullMQ)', () => {
  let bridge: TestBridge;
  const redis = connectTestRedis();

  beforeAll(async () => {
    bridge = await startTestBridge('line', { env: { HANDOFF_SERVICE_CONCURRENCY: '1' } });
  });
  afterAll(async () => {
    await bridge?.close();
    redis.disconnect();
  });

  it('a burst of one agent’s starts to a one-slot service all reach awaiting_human by wake-ups; a cancelled waiter passes its turn on', async () => {
    const service = `${bridge.url}/sandbox`;
    const started = Date.now();
    const created = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        bridge.api.createHandoff({
          service,
          thread: freshThread('line'),
          agent: { id: 'burst', correlationId: `b-${i}` },
        }),
      ),
    );
    const cancelled = created[9]!;
    await bridge.api.cancelHandoff(cancelled.id);
    const rest = created.slice(0, 9);
    await waitFor(
      'every start to reach awaiting_human',
      async () => {
        const views = await Promise.all(rest.map((h) => bridge.api.getHandoff(h.id)));
        return views.every((v) => v.status === 'awaiting_human') ? true : undefined;
      },
      busyServiceWaitMs * 2,
    );
    const tookMs = Date.now() - started;
    // Nobody needed the fallback look: each was woken when the slot before it was given back.
    expect(tookMs, `${tookMs} ms for ${rest.length} starts through one slot`).toBeLessThan(busyServiceWaitMs);
    expect((await bridge.api.getHandoff(cancelled.id)).status).toBe('cancelled');

    const origin = new URL(service).origin;
    const hash = createHash('sha256').update(origin).digest('base64url').slice(0, 22);
    expect(await redis.zcard(createKeys(bridge.prefix).serviceWaiters(hash))).toBe(0);
    expect(await redis.zcard(createKeys(bridge.prefix).serviceSlots(hash))).toBe(0);
    for (const h of rest) await bridge.api.cancelHandoff(h.id);
  }, 30_000);
});
