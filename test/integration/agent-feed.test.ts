import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { newId } from '../../src/core/ids.js';
import type { FeedPageView } from '../../src/core/wire.js';
import { createAgentFeed, feedMaxAgeMs, feedStart } from '../../src/store/agent-feed.js';
import { createHandoffStore } from '../../src/store/handoff-store.js';
import { createKeys } from '../../src/store/keys.js';
import { createAgentApi, type AgentApi } from '../helpers/agent-api.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';

/** Each agent's feed of handoff endings: written with the ending, bounded, read by cursor. */

const redis = connectTestRedis();
const prefix = randomPrefix('feed');
const keys = createKeys(prefix);
const feed = createAgentFeed({ redis, keys });

const record = (agentId: string, id = newId('handoff')): HandoffRecord => {
  const now = Date.now();
  return {
    id,
    kind: 'login',
    status: 'pending',
    version: 0,
    service: 'http://127.0.0.1:9/svc',
    protocol: 'agent-sessions',
    thread: `local:feed-${id}`,
    approvers: [],
    agentId,
    correlationId: id,
    scopes: [],
    createdAt: now,
    updatedAt: now,
    expiresAt: now + 60_000,
    attempts: 0,
  };
};

afterAll(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe('the feed in Redis (real Redis)', () => {
  const store = createHandoffStore({ redis, keys, now: () => Date.now() });

  it('gets one entry per ending, in the same script as the ending, and none for other changes', async () => {
    const a = record('feed-a');
    const other = record('feed-b');
    await store.create(a);
    await store.create(other);
    await store.transition(a.id, { to: 'awaiting_human' });
    await store.transition(a.id, { set: { attempts: 1 } });
    expect((await feed.read('feed-a', feedStart, 10)).entries).toEqual([]);

    // No agentId hint: the store reads it from the record.
    await store.transition(a.id, {
      to: 'failed',
      set: { error: { code: 'too_many_attempts', message: 'five wrong codes' } },
    });
    // A second ending of the same handoff is refused, so there is no second entry.
    expect((await store.transition(a.id, { to: 'cancelled', agentId: 'feed-a' })).ok).toBe(false);
    await store.transition(other.id, { to: 'cancelled', agentId: 'feed-b' });

    const page = await feed.read('feed-a', feedStart, 10);
    expect(page.gap).toBe(false);
    expect(page.entries).toEqual([
      {
        id: expect.stringMatching(/^\d+-\d+$/),
        handoffId: a.id,
        status: 'failed',
        endedAt: expect.any(Number),
        errorCode: 'too_many_attempts',
      },
    ]);
    expect((await feed.read('feed-b', feedStart, 10)).entries.map((e) => [e.handoffId, e.status])).toEqual([
      [other.id, 'cancelled'],
    ]);
    // Bounded in time even when idle: the stream expires.
    const ttl = await redis.pttl(keys.agentFeed('feed-a'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(feedMaxAgeMs);
  });

  it("refuses an agentId hint that is not the record's, and writes nothing", async () => {
    const r = record('feed-owner');
    await store.create(r);
    await expect(store.transition(r.id, { to: 'cancelled', agentId: 'feed-intruder' })).rejects.toThrow(
      /not the record's agent/,
    );
    expect((await store.get(r.id))!.status).toBe('pending');
    expect(await redis.exists(keys.agentFeed('feed-intruder'), keys.agentFeed('feed-owner'))).toBe(0);
  });

  it('keeps at most maxLength entries and none older than maxAgeMs; a reader left behind learns of the gap', async () => {
    const small = createHandoffStore({
      redis,
      keys,
      now: () => Date.now(),
      feedLimits: { maxLength: 5, maxAgeMs: 60_000 },
    });
    const ended: Array<{ handoffId: string; entryId: string }> = [];
    for (let i = 0; i < 8; i++) {
      const r = record('feed-len');
      await small.create(r);
      await small.transition(r.id, { to: 'cancelled', agentId: 'feed-len' });
      const [[entryId]] = (await redis.xrevrange(keys.agentFeed('feed-len'), '+', '-', 'COUNT', 1)) as [
        [string, string[]],
      ];
      ended.push({ handoffId: r.id, entryId });
    }
    expect(await redis.xlen(keys.agentFeed('feed-len'))).toBe(5);
    const all = await feed.read('feed-len', feedStart, 10);
    expect(all.entries.map((e) => e.handoffId)).toEqual(ended.slice(3).map((e) => e.handoffId));
    expect(all.gap).toBe(true); // three endings are gone
    // A reader that had read up to the newest trimmed ending misses nothing; one further back does.
    expect(await feed.read('feed-len', ended[2]!.entryId, 10)).toMatchObject({
      gap: false,
      entries: [{ handoffId: ended[3]!.handoffId }, {}, {}, {}, {}],
    });
    expect((await feed.read('feed-len', ended[1]!.entryId, 10)).gap).toBe(true);
    // Nothing new after the newest: no gap either.
    expect(await feed.read('feed-len', ended[7]!.entryId, 10)).toEqual({ entries: [], gap: false });

    const aging = createHandoffStore({
      redis,
      keys,
      now: () => Date.now(),
      feedLimits: { maxLength: 100, maxAgeMs: 150 },
    });
    const old = record('feed-age');
    await aging.create(old);
    await aging.transition(old.id, { to: 'cancelled', agentId: 'feed-age' });
    await new Promise((r) => setTimeout(r, 250));
    const fresh = record('feed-age');
    await aging.create(fresh);
    await aging.transition(fresh.id, { to: 'expired', agentId: 'feed-age' });
    expect((await feed.read('feed-age', feedStart, 10)).entries.map((e) => e.handoffId)).toEqual([fresh.id]);
  });
});

describe('GET /v1/events (real bridge, real Redis)', () => {
  let bridge: TestBridge;
  let api: AgentApi;
  const admin = () => bridge.apiToken;

  beforeAll(async () => {
    bridge = await startTestBridge('feed-api');
    api = await createAgentApi(bridge, { 'key-ann': 'ann' });
  });
  afterAll(async () => {
    await api.close();
    await bridge.close();
  });

  const newHandoff = async (agentId: string) => {
    const created = await api.call(admin(), 'POST', '/v1/handoffs', {
      service: `${bridge.url}/sandbox`,
      thread: freshThread('feed'),
      agent: { id: agentId },
    });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };

  it('a long poll answers with the ending as it happens; its cursor continues after it', async () => {
    const start = await api.call('key-ann', 'GET', '/v1/events');
    expect(start.status).toBe(200);
    expect(start.body).toEqual({ events: [], cursor: expect.any(String), gap: false });

    const id = await newHandoff('ann');
    const waiting = api.call(
      'key-ann',
      'GET',
      `/v1/events?after=${encodeURIComponent(start.body.cursor)}&waitMs=20000`,
    );
    await new Promise((r) => setTimeout(r, 100));
    const asked = Date.now();
    expect((await api.call(admin(), 'DELETE', `/v1/handoffs/${id}`)).status).toBe(200);
    const answer = await waiting;
    expect(Date.now() - asked).toBeLessThan(5_000);
    const page = answer.body as FeedPageView;
    expect(page.events).toEqual([
      {
        cursor: page.cursor,
        handoffId: id,
        status: 'cancelled',
        endedAt: expect.any(Number),
        error: 'cancelled',
        credential: null,
        reused: false,
      },
    ]);

    const after = await api.call('key-ann', 'GET', `/v1/events?after=${encodeURIComponent(page.cursor)}`);
    expect(after.body).toEqual({ events: [], cursor: page.cursor, gap: false });
    // The operator reads the same feed by naming the agent.
    const asAdmin = await api.call(admin(), 'GET', '/v1/events?agent=ann');
    expect((asAdmin.body as FeedPageView).events.map((e) => e.handoffId)).toContain(id);
  });

  it('pages with limit, and says which parameter is wrong', async () => {
    const ids = [await newHandoff('ann-pages'), await newHandoff('ann-pages'), await newHandoff('ann-pages')];
    for (const id of ids) await api.call(admin(), 'DELETE', `/v1/handoffs/${id}`);
    const first = (await api.call(admin(), 'GET', '/v1/events?agent=ann-pages&limit=2')).body as FeedPageView;
    expect(first.events.map((e) => e.handoffId)).toEqual(ids.slice(0, 2));
    const rest = (
      await api.call(admin(), 'GET', `/v1/events?agent=ann-pages&limit=2&after=${encodeURIComponent(first.cursor)}`)
    ).body as FeedPageView;
    expect(rest.events.map((e) => e.handoffId)).toEqual(ids.slice(2));

    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=two', 'limit'],
      ['waitMs=-1', 'waitMs'],
      ['waitMs=soon', 'waitMs'],
    ] as const) {
      const res = await api.call(admin(), 'GET', `/v1/events?agent=ann-pages&${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error, query).toMatchObject({ code: 'invalid_request', field });
    }
    const noAgent = await api.call(admin(), 'GET', '/v1/events');
    expect(noAgent.status).toBe(400);
    expect(noAgent.body.error).toMatchObject({ code: 'invalid_request', field: 'agent' });
    expect(noAgent.body.error.message).toContain('?agent=');
  });
});
