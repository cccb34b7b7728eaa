import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../src/core/errors.js';
import { maxRateLimitWaitMs } from '../../src/core/rate-limit.js';
import { refreshNow } from '../../src/engine/credential-lifecycle.js';
import { driverJobId } from '../../src/queue/handoff-jobs.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { requestIn } from '../helpers/agent.js';
import { startGithubWorld, type GithubWorld } from '../helpers/github.js';
import { connectTestRedis } from '../helpers/redis.js';
import { approveOnSandbox } from '../helpers/sandbox-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';
import { queueKey, queueNames } from '../../src/queue/queue-names.js';

/**
 * Issue #11 item 6: a 429 or a secondary rate limit is waited out, never hot-looped (once:
 * 3,546 GitHub calls in 10 s; 880 requests in 6 s to a service answering 429). Each case
 * watches the calls for a few real seconds after the first 429 and checks where the work is
 * parked (the record's `notBefore`, the delayed job's time), which bounds the rest of the wait
 * without sleeping through it.
 */
const watchMs = 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** When the handoff's driver job is next due (epoch ms), from BullMQ's delayed set. */
async function driverDueAt(bridge: TestBridge, handoffId: string): Promise<number | undefined> {
  const redis = connectTestRedis();
  try {
    const score = await redis.zscore(
      queueKey(`${bridge.prefix}:q`, queueNames.handoffs, 'delayed'),
      driverJobId(handoffId),
    );
    // BullMQ scores delayed jobs as timestamp * 0x1000 + a counter.
    return score === null ? undefined : Math.floor(Number(score) / 0x1000);
  } finally {
    redis.disconnect();
  }
}

describe('a service answering 429 (real Redis, real BullMQ)', () => {
  let bridge: TestBridge;
  let fake: FakeServer;
  const retryAfter: Record<string, string> = {};

  beforeAll(async () => {
    // A service that speaks agent sessions but answers every start with 429 and the Retry-After its path names.
    fake = await startFakeServer((_req, res: ServerResponse, path) => {
      const name = path.split('/')[1] ?? '';
      if (path.endsWith('/agent-sessions/start'))
        return sendJson(res, 429, { error: 'slow_down' }, { 'retry-after': retryAfter[name] ?? '60' });
      sendJson(res, 404, { error: 'not_found' });
    });
    bridge = await startTestBridge('ratelimit');
  });
  afterAll(async () => {
    await bridge?.close();
    await fake?.close();
  });

  const startCalls = (name: string) => fake.requests.filter((r) => r.path === `/${name}/agent-sessions/start`).length;

  async function startAgainst(name: string, expiresInMs?: number) {
    const created = await bridge.api.createHandoff({
      service: `${fake.origin}/${name}`,
      protocol: 'agent-sessions',
      thread: freshThread('rl'),
      agent: { id: 'agent-rl' },
      ...(expiresInMs ? { expiresInMs } : {}),
    });
    await waitFor('the first start call', () => startCalls(name) >= 1, 10_000);
    return created;
  }

  it('one 429 with Retry-After: 60 at start → at most 2 requests in the following 10 s; parked until then', async () => {
    retryAfter.sixty = '60';
    const created = await startAgainst('sixty');
    const firstAt = Date.now();
    await sleep(watchMs);
    expect(startCalls('sixty')).toBeLessThanOrEqual(2);
    // The rest of the 10 s is bounded by where the work sits: parked for the 60 s asked.
    const record = (await bridge.bridge.engine.store.get(created.id))!;
    expect(record.status).toBe('pending');
    expect(record.notBefore! - firstAt).toBeGreaterThanOrEqual(55_000);
    expect(record.notBefore! - firstAt).toBeLessThanOrEqual(62_000);
    expect((await driverDueAt(bridge, created.id))! - firstAt).toBeGreaterThanOrEqual(55_000);
    // Parked, not stuck: cancelling works at once.
    expect((await bridge.api.cancelHandoff(created.id)).status).toBe('cancelled');
  });

  it('Retry-After: 0 still waits at least a second between calls', async () => {
    retryAfter.zero = '0';
    const created = await startAgainst('zero');
    await sleep(watchMs);
    // 1 + one per second at most (the old code made hundreds).
    expect(startCalls('zero')).toBeLessThanOrEqual(1 + Math.ceil(watchMs / 1_000));
    await bridge.api.cancelHandoff(created.id);
  });

  it('a hostile Retry-After parks no longer than the handoff lives (and never over 15 minutes)', async () => {
    retryAfter.forever = '99999999';
    const created = await startAgainst('forever', 5 * 60_000);
    const record = await waitFor('the park', async () => {
      const r = (await bridge.bridge.engine.store.get(created.id))!;
      return r.notBefore ? r : undefined;
    });
    expect(record.notBefore).toBeLessThanOrEqual(record.expiresAt);
    expect(record.notBefore! - Date.now()).toBeLessThanOrEqual(maxRateLimitWaitMs);
    expect(startCalls('forever')).toBe(1);
    await bridge.api.cancelHandoff(created.id);
  });
});

describe('rate limits on the inbound and credential paths (sandbox over HTTP)', () => {
  let bridge: TestBridge;

  beforeAll(async () => {
    bridge = await startTestBridge('ratelimit-in', { env: { HANDOFF_POLL_INTERVAL_MS: '600000' } });
  });
  afterAll(async () => bridge?.close());

  const sandbox = () => bridge.sandboxes.get('/sandbox')!;
  afterEach(() => sandbox().faults.clear());
  const calls = (suffix: string) => sandbox().state.calls.filter((c) => c.path.endsWith(suffix)).length;

  it('a 429 while a reply is checked parks the reply job and the handoff; a second reply does not call the service either', async () => {
    const thread = freshThread('rl-in');
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread,
      approvers: ['alice'],
      agent: { id: 'agent-rl-in' },
    });
    const request = await requestIn(bridge, thread);
    const code = await approveOnSandbox(request.url);
    sandbox().faults.inject('/agent-sessions/exchange', 'rate_limited', 100);
    const before = calls('/agent-sessions/exchange');
    await bridge.reply(thread, 'alice', code);
    await waitFor('the exchange call', () => calls('/agent-sessions/exchange') > before);
    const firstAt = Date.now();
    await bridge.reply(thread, 'alice', code);
    await sleep(watchMs);
    expect(calls('/agent-sessions/exchange') - before).toBe(1);
    const record = (await bridge.bridge.engine.store.get(created.id))!;
    expect(record.status).toBe('awaiting_human');
    expect(record.notBefore! - firstAt).toBeGreaterThanOrEqual(55_000);
    // Both reply jobs wait in BullMQ's delayed set, not in a worker.
    const delayed = await bridge.bridge.queues.inbound.getDelayedCount();
    expect(delayed).toBeGreaterThanOrEqual(1);
    sandbox().faults.clear();
    await bridge.api.cancelHandoff(created.id);
  });

  it('a 429 on a refresh is waited out, never taken for a dead credential (not even on the last attempt)', async () => {
    const thread = freshThread('rl-cred');
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread,
      approvers: ['alice'],
      agent: { id: 'agent-rl-cred' },
    });
    const request = await requestIn(bridge, thread);
    await bridge.reply(thread, 'alice', await approveOnSandbox(request.url));
    const view = await waitFor('completion', async () => {
      const v = await bridge.api.getHandoff(created.id);
      return v.status === 'completed' ? v : undefined;
    });
    sandbox().faults.inject('/agent-sessions/refresh', 'rate_limited', 10);
    const err = await refreshNow(
      bridge.bridge.engine,
      view.credential!.id,
      { actor: 'test' },
      { finalAttempt: true },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(60_000);
    // Still there, and nothing re-opened.
    expect(await bridge.bridge.engine.credentials.get(view.credential!.id)).toBeDefined();
    expect((await bridge.api.listHandoffs({ limit: 50 })).filter((h) => h.previousHandoffId === created.id)).toEqual(
      [],
    );
    sandbox().faults.clear();
  });
});

describe('a GitHub secondary rate limit while a handoff starts', () => {
  let world: GithubWorld;
  const secondaryLimit =
    'You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.';

  beforeAll(async () => {
    world = await startGithubWorld('gh-rl-start', { webhooks: true, polling: false });
  });
  afterAll(async () => world?.close());

  it('parks the start for the Retry-After instead of asking GitHub again at once', async () => {
    const repoRead = (r: { method: string; path: string }) =>
      r.method === 'GET' && /\/repos\/Codertocat\/Hello-World$/i.test(r.path);
    world.fake.failNext({
      method: 'GET',
      path: /\/repos\/Codertocat\/Hello-World$/i,
      status: 403,
      headers: { 'retry-after': '60' },
      message: secondaryLimit,
      times: 1000,
    });
    const created = await world.bridge.api.createHandoff({
      service: `${world.bridge.url}/sandbox`,
      thread: world.thread(41),
      agent: { id: 'agent-gh-rl' },
    });
    await waitFor('the repository read', () => world.fake.count(repoRead) >= 1);
    await sleep(watchMs);
    expect(world.fake.count(repoRead)).toBeLessThanOrEqual(2);
    const record = (await world.bridge.bridge.engine.store.get(created.id))!;
    expect(record.status).toBe('pending');
    expect(record.notBefore! - Date.now()).toBeGreaterThan(50_000);
    await world.bridge.api.cancelHandoff(created.id);
  });
});
