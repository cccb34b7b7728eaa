import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverJobId } from '../../src/queue/handoff-jobs.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A handoff that ends has nothing left for its driver job to do (issue #16 item 4): a driver
 * waiting as a delayed job is removed, not woken for a whole job cycle; a driver running at
 * that moment is left alone and ends by itself. Real Redis, real BullMQ, the real workers.
 */
describe('the driver job of a handoff that ended (real Redis, real BullMQ)', () => {
  let bridge: TestBridge;
  let fake: FakeServer;
  /** Start calls the fake service has not answered yet (until `released`: then it answers 503 at once). */
  const held: ServerResponse[] = [];
  let released = false;

  beforeAll(async () => {
    fake = await startFakeServer((_req, res, path) => {
      if (path.endsWith('/agent-sessions/start') && !released) return void held.push(res);
      if (path.endsWith('/agent-sessions/start')) return sendJson(res, 503, { error: 'unavailable' });
      sendJson(res, 404, { error: 'not_found' });
    });
    bridge = await startTestBridge('driver-end');
  });
  afterAll(async () => {
    for (const res of held.splice(0)) res.destroy();
    await bridge?.close();
    await fake?.close();
  });

  const job = (handoffId: string) => bridge.bridge.queues.handoffs.getJob(driverJobId(handoffId));
  const endings = async (handoffId: string) =>
    (await bridge.bridge.redis.xrange(bridge.bridge.keys.audit(), '-', '+')).filter(
      ([, f]) =>
        f[f.indexOf('handoffId') + 1] === handoffId &&
        /^handoff\.(completed|failed|cancelled|expired)$/.test(f[f.indexOf('event') + 1] ?? ''),
    ).length;

  it('waiting: the delayed job is removed by the ending, and a later wake-up finds nothing to run', async () => {
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread: freshThread('drv-end'),
      agent: { id: 'driver-end' },
    });
    await waitFor('the driver parked', async () => (await (await job(created.id))?.getState()) === 'delayed');

    expect((await bridge.api.cancelHandoff(created.id)).status).toBe('cancelled');
    expect(await job(created.id)).toBeUndefined();
    // Any late wake-up (a poll due, a slot given back) is a no-op, not an error.
    await bridge.bridge.engine.jobs.wake(created.id);
    expect(await job(created.id)).toBeUndefined();
    expect((await bridge.api.getHandoff(created.id)).status).toBe('cancelled');
    expect(await endings(created.id)).toBe(1);
  });

  it('running: the job a worker holds is not removed; it sees the ending and completes', async () => {
    const created = await bridge.api.createHandoff({
      service: `${fake.origin}/slow`,
      protocol: 'agent-sessions',
      thread: freshThread('drv-run'),
      agent: { id: 'driver-end' },
    });
    // The driver is inside its start step, waiting for the service.
    await waitFor('the start call', () => held.length >= 1, 10_000);
    expect(await (await job(created.id))?.getState()).toBe('active');

    expect((await bridge.api.cancelHandoff(created.id)).status).toBe('cancelled');
    expect(await (await job(created.id))?.getState()).toBe('active');
    // The service answers late (and badly): the driver finds its handoff ended and completes.
    released = true;
    for (const res of held.splice(0)) sendJson(res, 503, { error: 'unavailable' });
    const done = await waitFor(
      'the driver completed',
      async () => {
        const j = await job(created.id);
        return j && (await j.getState()) === 'completed' ? j : undefined;
      },
      20_000,
    );
    expect(done.returnvalue).toMatchObject({ handoffId: created.id, status: 'cancelled' });
    expect((await bridge.api.getHandoff(created.id)).status).toBe('cancelled');
    expect(await endings(created.id)).toBe(1);
  });
});
