import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentWithKey, audited, rawCall } from '../helpers/agents.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';

/**
 * A flooding agent: bursts of parallel creates against its open-handoff and per-minute
 * limits, split across two bridge processes that share Redis. The counts must hold exactly —
 * no burst squeezes one more through — and the refusals must be audited, once a minute.
 */
describe('attack: floods against an agent’s limits, across two processes', () => {
  let a: TestBridge;
  let b: TestBridge;
  beforeAll(async () => {
    a = await startTestBridge('sec-flood-a');
    b = await startTestBridge('sec-flood-b', { prefix: a.prefix, apiToken: a.apiToken, vaultKey: a.vaultKey });
  });
  afterAll(async () => {
    await b?.bridge.close();
    await a?.close();
  });

  /** `n` creates at once, alternating between the two processes. */
  const burst = (key: string, n: number, body: () => Record<string, unknown>) =>
    Promise.all(Array.from({ length: n }, (_, i) => rawCall((i % 2 ? b : a).url, key, 'POST', '/v1/handoffs', body())));
  const service = () => `${a.url}/sandbox`;

  it('maxOpenHandoffs holds exactly under a parallel burst; a slot frees when one ends', async () => {
    const { apiKey } = await a.api.createAgent({ id: 'burst-open', maxOpenHandoffs: 4 });
    const results = await burst(apiKey, 30, () => ({ service: service(), thread: freshThread('open') }));
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 429);
    expect(created).toHaveLength(4);
    expect(refused).toHaveLength(26);
    for (const r of refused) expect(r.body.error).toMatchObject({ code: 'too_many_open_handoffs', open: 4 });

    const agent = agentWithKey(a, 'burst-open', apiKey);
    await agent.api.cancelHandoff(created[0]!.body.id);
    const again = await burst(apiKey, 6, () => ({ service: service(), thread: freshThread('open') }));
    expect(again.filter((r) => r.status === 201)).toHaveLength(1);

    // 31 refusals, audited once in the window, naming the agent.
    const entries = await audited(a, (e) => e.event === 'handoff.refused' && e.agentId === 'burst-open');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: 'agent:burst-open',
      detail: { code: 'too_many_open_handoffs', maxOpen: 4 },
    });
  });

  it('maxHandoffsPerMinute holds exactly under a parallel burst, with Retry-After', async () => {
    const { apiKey } = await a.api.createAgent({ id: 'burst-rate', maxHandoffsPerMinute: 5 });
    const results = await burst(apiKey, 24, () => ({ service: service(), thread: freshThread('rate') }));
    expect(results.filter((r) => r.status === 201)).toHaveLength(5);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(19);
    for (const r of refused) {
      expect(r.body.error.code).toBe('rate_limited');
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    const client = agentWithKey(b, 'burst-rate', apiKey).api;
    await expect(client.createHandoff({ service: service(), thread: freshThread('rate') })).rejects.toMatchObject({
      status: 429,
      code: 'rate_limited',
      retry: 'after_delay',
      retryAfterMs: expect.any(Number),
    });
    const entries = await audited(a, (e) => e.event === 'handoff.refused' && e.agentId === 'burst-rate');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: 'agent:burst-rate', detail: { code: 'rate_limited', maxPerMinute: 5 } });
  });

  it('the bridge-wide default applies to an agent that names no limit', async () => {
    const c = await startTestBridge('sec-flood-c', { env: { HANDOFF_AGENT_MAX_OPEN_HANDOFFS: '2' } });
    try {
      const { apiKey } = await c.api.createAgent({ id: 'defaulted' });
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          rawCall(c.url, apiKey, 'POST', '/v1/handoffs', { service: `${c.url}/sandbox`, thread: freshThread('def') }),
        ),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(2);
      expect((await c.api.getAgent('defaulted')).limits).toEqual({ maxOpenHandoffs: 2, maxHandoffsPerMinute: 60 });
    } finally {
      await c.close();
    }
  });

  it('a refused create gives its idempotency key back, and a replay of an admitted one costs nothing', async () => {
    const { apiKey } = await a.api.createAgent({ id: 'replayer', maxOpenHandoffs: 1 });
    const first = { service: service(), thread: freshThread('idem'), idempotencyKey: 'one' };
    expect((await rawCall(a.url, apiKey, 'POST', '/v1/handoffs', first)).status).toBe(201);
    // Replays of the admitted request return it (200), however many, without counting.
    for (let i = 0; i < 5; i++) expect((await rawCall(b.url, apiKey, 'POST', '/v1/handoffs', first)).status).toBe(200);
    const second = { service: service(), thread: freshThread('idem'), idempotencyKey: 'two' };
    expect((await rawCall(a.url, apiKey, 'POST', '/v1/handoffs', second)).status).toBe(429);
    const open = await agentWithKey(a, 'replayer', apiKey).api.listHandoffs({ open: true });
    await agentWithKey(a, 'replayer', apiKey).api.cancelHandoff(open[0]!.id);
    expect((await rawCall(a.url, apiKey, 'POST', '/v1/handoffs', second)).status).toBe(201);
  });

  it('the admin token is not limited', async () => {
    await a.api.createAgent({ id: 'tiny', maxOpenHandoffs: 1 });
    const results = await burst(a.apiToken, 6, () => ({
      service: service(),
      thread: freshThread('adm'),
      agent: { id: 'tiny' },
    }));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(201));
  });
});
