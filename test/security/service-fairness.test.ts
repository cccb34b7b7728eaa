import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHangingServer, type HangingServer } from '../fakes/services/hanging-server.js';
import { connectTestRedis } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';
import { createKeys } from '../../src/store/keys.js';

/**
 * Issue #10 item 6, as an attacker would try it: one agent floods the bridge with handoffs to
 * a service that accepts connections and never answers (on 127.0.0.2, standing in for a slow
 * host). Another agent's handoff to a healthy service must still reach `awaiting_human` within
 * a second: the hanging service gets at most HANDOFF_SERVICE_CONCURRENCY calls in flight, the
 * rest wait their turn as delayed jobs, not in the workers everyone shares.
 */
describe('one agent cannot starve another through a hanging service (real Redis, real BullMQ)', () => {
  let bridge: TestBridge;
  let hanging: HangingServer;

  beforeAll(async () => {
    hanging = await startHangingServer('127.0.0.2');
    // The default worker concurrency (32) and per-service limit (4): 40 starts would once have held every worker.
    bridge = await startTestBridge('fairness', {
      env: { HANDOFF_START_TIMEOUT_MS: '8000', HANDOFF_SERVICE_CONCURRENCY: process.env.FAIRNESS_LIMIT ?? '4' },
    });
  });
  afterAll(async () => {
    await hanging.close();
    await bridge?.close();
  });

  /** Creates the bystander's handoff to the healthy sandbox; returns how long it took to reach awaiting_human, ms. */
  async function bystanderStart(): Promise<number> {
    const started = Date.now();
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread: freshThread('victim'),
      agent: { id: 'bystander' },
    });
    await waitFor(
      'the bystander’s handoff to await a human',
      async () => ((await bridge.api.getHandoff(created.id)).status === 'awaiting_human' ? true : undefined),
      10_000,
    );
    const tookMs = Date.now() - started;
    await bridge.api.cancelHandoff(created.id);
    return tookMs;
  }

  it('40 handoffs to a hanging service, then another agent’s handoff reaches awaiting_human within 1 s of its usual time', async () => {
    // Its usual time on this machine right now (warm: the sandbox and the workers have run once).
    await bystanderStart();
    const usualMs = await bystanderStart();
    const floods = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        bridge.api.createHandoff({
          service: `${hanging.origin}/api`,
          thread: freshThread('flood'),
          agent: { id: 'flooder', correlationId: `flood-${i}` },
        }),
      ),
    );
    // The flood is under way: the hanging service holds its connections.
    await waitFor('the hanging service to be called', () => hanging.connections() >= 1, 5_000);

    const tookMs = await bystanderStart();
    // The bound: the flood delays another agent's start by less than a second.
    expect(tookMs - usualMs, `usual ${usualMs} ms, during the flood ${tookMs} ms`).toBeLessThan(1_000);

    // The hanging service holds at most its 4 slots (one lease, one connection per call so far).
    const redis = connectTestRedis();
    try {
      const slots = createKeys(bridge.prefix).serviceSlots(
        createHash('sha256').update(hanging.origin).digest('base64url').slice(0, 22),
      );
      const inFlight = await redis.zcard(slots);
      expect(inFlight).toBeGreaterThanOrEqual(1);
      expect(inFlight).toBeLessThanOrEqual(4);
    } finally {
      redis.disconnect();
    }
    expect(hanging.connections()).toBeLessThanOrEqual(8); // 4 in flight, and perhaps their discovery's next request
    expect(floods).toHaveLength(40);
  });

  it('the flood ends: every handoff to the hanging service fails with service_timeout within its start window', async () => {
    const views = await waitFor(
      'all flood handoffs to fail',
      async () => {
        const all = (await bridge.api.listHandoffs({ limit: 200 })).filter((h) => h.agent.id === 'flooder');
        return all.length === 40 && all.every((h) => h.status === 'failed') ? all : undefined;
      },
      30_000,
    );
    // The service's own failure, or (for those still waiting their turn) the agent's share full.
    const codes = new Set(views.map((v) => v.error?.code));
    expect([...codes].filter((c) => !['service_timeout', 'service_unreachable', 'agent_busy'].includes(c!))).toEqual(
      [],
    );
    expect(codes.has('service_timeout')).toBe(true);
    for (const v of views) {
      expect(v.error?.message).toContain(hanging.origin);
      // Within the 8 s window from each one's first try (queued starts began a little later).
      expect(v.updatedAt - v.createdAt).toBeLessThan(20_000);
    }
  }, 40_000);
});

describe('one agent cannot starve another by spreading the flood over many hanging services', () => {
  let bridge: TestBridge;
  const hangingServers: HangingServer[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 40; i++) hangingServers.push(await startHangingServer('127.0.0.2'));
    bridge = await startTestBridge('fairness-many', { env: { HANDOFF_START_TIMEOUT_MS: '8000' } });
  });
  afterAll(async () => {
    for (const server of hangingServers) await server.close();
    await bridge?.close();
  });

  it('40 handoffs to 40 hanging origins hold at most the agent’s share (8 calls); another agent still starts at once', async () => {
    const started = async () => {
      const t = Date.now();
      const created = await bridge.api.createHandoff({
        service: `${bridge.url}/sandbox`,
        thread: freshThread('victim'),
        agent: { id: 'bystander' },
      });
      await waitFor(
        'awaiting_human',
        async () => ((await bridge.api.getHandoff(created.id)).status === 'awaiting_human' ? true : undefined),
        10_000,
      );
      await bridge.api.cancelHandoff(created.id);
      return Date.now() - t;
    };
    await started();
    const usualMs = await started();
    await Promise.all(
      hangingServers.map((server, i) =>
        bridge.api.createHandoff({
          service: `${server.origin}/api`,
          thread: freshThread('spread'),
          agent: { id: 'spreader', correlationId: `spread-${i}` },
        }),
      ),
    );
    await waitFor(
      'the flood to reach the hanging services',
      () => hangingServers.filter((s) => s.connections() > 0).length >= 8,
      5_000,
    );
    const tookMs = await started();
    expect(tookMs - usualMs, `usual ${usualMs} ms, during the flood ${tookMs} ms`).toBeLessThan(1_000);
    // Never more than the agent's share of calls hanging at once (one connection each so far).
    expect(hangingServers.filter((s) => s.connections() > 0).length).toBeLessThanOrEqual(8);
  });
});
