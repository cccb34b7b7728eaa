import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentApi, type AgentApi } from '../helpers/agent-api.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';

/**
 * `parentJob` once attached an attacker's handoff to another agent's BullMQ job on the
 * bridge's Redis, and a parent that did not exist left an orphaned record behind. The bridge no
 * longer attaches handoffs to agents' jobs at all: any request naming one is refused with 400
 * `invalid_parent_job` before anything is written — no record, no driver job, no idempotency
 * reservation.
 */
describe('parentJob is refused, and nothing is written', () => {
  let bridge: TestBridge;
  let api: AgentApi;

  beforeAll(async () => {
    bridge = await startTestBridge('sec-parent');
    api = await createAgentApi(bridge, { 'key-mallory': 'mallory' });
  });
  afterAll(async () => {
    await api.close();
    await bridge.close();
  });

  const request = (extra: Record<string, unknown>) => ({
    service: `${bridge.url}/sandbox`,
    thread: freshThread('parent'),
    agent: { id: 'mallory' },
    ...extra,
  });

  it.each([
    ["another agent's job", { id: 'job-of-ann-1', queue: 'bull:ann-tasks' }],
    ['a job that does not exist', { id: 'no-such-job', queue: 'bull:nowhere' }],
    ['a driver job of the bridge', { id: 'd1', queue: 'handoff:q:handoffs' }],
    ['a malformed value', 'bull:ann-tasks:1'],
    ['null', null],
    ['an empty object', {}],
  ])('%s → 400 invalid_parent_job, for an agent key and the admin token alike', async (_what, parentJob) => {
    const handoffsBefore = await bridge.bridge.redis.zcard(bridge.bridge.keys.handoffIndex());
    const driverJobsBefore = await bridge.bridge.queues.handoffs.count();
    for (const token of ['key-mallory', bridge.apiToken]) {
      const idempotencyKey = `parent-${token.slice(0, 6)}-${Math.random()}`;
      const res = await api.call(token, 'POST', '/v1/handoffs', request({ parentJob, idempotencyKey }));
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_parent_job', field: 'parentJob' });
      expect(res.body.error.message).toContain('requireLogin()');
      // The same idempotency key without parentJob creates a new handoff: nothing was reserved.
      const clean = await api.call(token, 'POST', '/v1/handoffs', request({ idempotencyKey }));
      expect(clean.status).toBe(201);
      await api.call(bridge.apiToken, 'DELETE', `/v1/handoffs/${clean.body.id}`);
    }
    // Exactly the two clean handoffs were written; the refused requests left no record or job.
    expect(await bridge.bridge.redis.zcard(bridge.bridge.keys.handoffIndex())).toBe(handoffsBefore + 2);
    expect((await bridge.api.listHandoffs({ limit: 200 })).filter((h) => h.status === 'pending')).toEqual([]);
    expect(await bridge.bridge.queues.handoffs.count()).toBeLessThanOrEqual(driverJobsBefore + 2);
  });
});
