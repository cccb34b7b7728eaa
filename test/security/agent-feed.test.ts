import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedPageView } from '../../src/core/wire.js';
import { createFeedCursors, feedCursorKey } from '../../src/http/feed-cursor.js';
import { createKeys } from '../../src/store/keys.js';
import { approvalIn } from '../helpers/agent.js';
import { createAgentApi, type AgentApi } from '../helpers/agent-api.js';
import { connectTestRedis } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The feed of handoff endings, attacked from one agent's key (mallory): reading another
 * agent's feed, walking its cursor space, forging or steering entries, tampering with cursors.
 * Each must fail with a specific answer that leaks nothing about the other agent.
 */
describe("agent feed: one agent cannot read, steer or forge another agent's feed", () => {
  let bridge: TestBridge;
  let api: AgentApi;
  /** Handoffs of ann (the victim), all ended, and her feed's cursor after them. */
  const annHandoffs: string[] = [];
  let annCursor = '';

  beforeAll(async () => {
    bridge = await startTestBridge('sec-feed');
    api = await createAgentApi(bridge, { 'key-ann': 'ann', 'key-mallory': 'mallory' });
    for (let i = 0; i < 2; i++) {
      const created = await api.call(bridge.apiToken, 'POST', '/v1/handoffs', {
        service: `${bridge.url}/sandbox`,
        thread: freshThread('victim'),
        agent: { id: 'ann' },
        label: 'ann-secret-label',
      });
      annHandoffs.push(created.body.id);
      await api.call(bridge.apiToken, 'DELETE', `/v1/handoffs/${created.body.id}`);
    }
    const page = (await api.call('key-ann', 'GET', '/v1/events')).body as FeedPageView;
    expect(page.events.map((e) => e.handoffId)).toEqual(annHandoffs);
    annCursor = page.events[0]!.cursor;
  });
  afterAll(async () => {
    await api.close();
    await bridge.close();
  });

  const leaksAnn = (text: string) => annHandoffs.some((id) => text.includes(id)) || text.includes('ann-secret-label');

  it('an agent key reads its own feed only: naming another agent is 404, the same whether it exists or not', async () => {
    const own = await api.call('key-mallory', 'GET', '/v1/events');
    expect(own.status).toBe(200);
    expect((own.body as FeedPageView).events).toEqual([]);

    const existing = await api.call('key-mallory', 'GET', '/v1/events?agent=ann');
    const missing = await api.call('key-mallory', 'GET', '/v1/events?agent=nobody-at-all');
    for (const res of [existing, missing]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('feed_not_found');
      expect(leaksAnn(res.text)).toBe(false);
    }
    expect(existing.body).toEqual(missing.body);
    // Waiting on it does not hold the request either: refused before any wait.
    const started = Date.now();
    expect((await api.call('key-mallory', 'GET', '/v1/events?agent=ann&waitMs=30000')).status).toBe(404);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("another agent's cursor does not open that agent's feed, nor a position in one's own: 400 invalid_cursor", async () => {
    const res = await api.call('key-mallory', 'GET', `/v1/events?after=${encodeURIComponent(annCursor)}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_cursor', field: 'after' });
    expect(leaksAnn(res.text)).toBe(false);
    // Nor with the victim named alongside it.
    expect(
      (await api.call('key-mallory', 'GET', `/v1/events?agent=ann&after=${encodeURIComponent(annCursor)}`)).status,
    ).toBe(404);
  });

  it.each([
    ['garbage', 'hello'],
    ['an empty check', '0-0.'],
    ['a bare stream id', '1700000000000-0'],
    ['a made-up check', '1700000000000-0.AAAAAAAAAAAAAAAAAAAAAA'],
    ['huge numbers', `${'9'.repeat(30)}-0.AAAAAAAAAAAAAAAAAAAAAA`],
    ['past 64 bits', '18446744073709551616-0.AAAAAAAAAAAAAAAAAAAAAA'],
    ['a negative position', '-1-0.AAAAAAAAAAAAAAAAAAAAAA'],
    ['Redis range syntax', '+'],
    ['an exclusive range', '(0-0.AAAAAAAAAAAAAAAAAAAAAA'],
    ['a newline', '0-0.AAAAAAAAAAAAAAAAAAAAAA\nXADD'],
    ['unicode', '０-０.ＡＡＡＡＡＡＡＡＡＡＡＡＡＡＡＡＡＡＡＡＡＡ'],
    ['10 kB', 'A'.repeat(10_000)],
  ])('a tampered cursor (%s) gets 400 invalid_cursor, never a page', async (_what, cursor) => {
    const res = await api.call('key-mallory', 'GET', `/v1/events?after=${encodeURIComponent(cursor)}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_cursor', field: 'after' });
    expect(res.body.error.message).toMatch(/cursor/);
  });

  it('a cursor altered by one character, or moved to another position, is refused', async () => {
    const own = (await api.call('key-mallory', 'GET', '/v1/events')).body as FeedPageView;
    const [position, check] = own.cursor.split('.') as [string, string];
    const flipped = `${position}.${check.slice(0, -1)}${check.endsWith('A') ? 'B' : 'A'}`;
    const moved = `1-0.${check}`;
    for (const cursor of [flipped, moved]) {
      expect(
        (await api.call('key-mallory', 'GET', `/v1/events?after=${encodeURIComponent(cursor)}`)).body.error.code,
      ).toBe('invalid_cursor');
    }
    // The untouched cursor still works.
    expect((await api.call('key-mallory', 'GET', `/v1/events?after=${encodeURIComponent(own.cursor)}`)).status).toBe(
      200,
    );
    // A cursor minted with another key (another bridge's vault key) is refused too.
    const foreign = createFeedCursors(feedCursorKey(Buffer.alloc(32, 7))).issue('mallory', position);
    expect(
      (await api.call('key-mallory', 'GET', `/v1/events?after=${encodeURIComponent(foreign)}`)).body.error.code,
    ).toBe('invalid_cursor');
  });

  it('there is no way to write to a feed over the API', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await api.call('key-mallory', method, '/v1/events', {
        handoffId: annHandoffs[0],
        status: 'completed',
      });
      expect(res.status, method).toBe(405);
    }
    const page = (await api.call('key-ann', 'GET', '/v1/events')).body as FeedPageView;
    expect(page.events.map((e) => e.handoffId)).toEqual(annHandoffs);
  });

  it('hostile agent ids and text fields cannot steer an ending into another feed or into an entry', async () => {
    // Ids built to confuse the status message (`<id> <status> <agent>`), the key space and the
    // entry's fields; labels and correlation ids that look like entries. ('ann ' is not among
    // them: ids are trimmed, so it names ann herself — whether a caller may name ann is the
    // agent keys' rule, agent_mismatch.)
    const hostile = ['ann completed', 'ann\ncompleted', 'ann:x', '*', '..', 'ann\u0000', ' ann completed cancelled'];
    let accepted = 0;
    for (const agentId of hostile) {
      const created = await api.call(bridge.apiToken, 'POST', '/v1/handoffs', {
        service: `${bridge.url}/sandbox`,
        thread: freshThread('hostile'),
        agent: { id: agentId, correlationId: '"h":"hf_0","s":"completed"' },
        label: 'h\ns\ncompleted',
      });
      if (created.status !== 201) continue; // refused at the door is fine too
      accepted += 1;
      await api.call(bridge.apiToken, 'DELETE', `/v1/handoffs/${created.body.id}`);
      const page = (await api.call(bridge.apiToken, 'GET', `/v1/events?agent=${encodeURIComponent(agentId.trim())}`))
        .body as FeedPageView;
      expect(page.events.map((e) => e.handoffId)).toEqual([created.body.id]);
      for (const event of page.events) {
        expect(Object.keys(event).sort()).toEqual([
          'credential',
          'cursor',
          'endedAt',
          'error',
          'handoffId',
          'reused',
          'status',
        ]);
        expect(event.handoffId).toMatch(/^hf_[0-9a-f]+$/);
      }
    }
    expect(accepted).toBeGreaterThanOrEqual(hostile.length - 1);
    const ann = (await api.call('key-ann', 'GET', '/v1/events')).body as FeedPageView;
    expect(ann.events.map((e) => e.handoffId)).toEqual(annHandoffs);
    expect(ann.events.every((e) => e.status === 'cancelled')).toBe(true);
  });
  it("a completed login's entry names its credential in its own agent's feed only, and never holds the token", async () => {
    const thread = freshThread('victim-login');
    const created = await api.call('key-ann', 'POST', '/v1/handoffs', {
      service: `${bridge.url}/sandbox`,
      thread,
      approvers: ['alice'],
    });
    const { url } = await approvalIn(bridge, thread);
    await bridge.reply(thread, 'alice', `code: ${await bridge.approve(url)}`);
    const annPage = await waitFor("the login in ann's feed", async () => {
      const res = await api.call('key-ann', 'GET', '/v1/events');
      return (res.body as FeedPageView).events.some((e) => e.handoffId === created.body.id) ? res : undefined;
    });
    const token = (await api.call('key-ann', 'POST', `/v1/handoffs/${created.body.id}/credential`)).body;
    expect(token.accessToken).toEqual(expect.any(String));
    const credentialId = token.credentialId as string;
    const event = (annPage.body as FeedPageView).events.find((e) => e.handoffId === created.body.id)!;
    expect(event.credential?.id).toBe(credentialId);
    // The token is in no answer of the feed, nor in the stream behind it.
    expect(annPage.text).not.toContain(token.accessToken);
    const redis = connectTestRedis();
    try {
      const raw = await redis.xrange(createKeys(bridge.prefix).agentFeed('ann'), '-', '+');
      expect(JSON.stringify(raw)).toContain(credentialId);
      expect(JSON.stringify(raw)).not.toContain(token.accessToken);
    } finally {
      redis.disconnect();
    }
    // Mallory's own feed, and asking for ann's, show nothing of it.
    for (const path of [
      '/v1/events',
      '/v1/events?agent=ann',
      `/v1/events?agent=ann&after=${encodeURIComponent(event.cursor)}`,
    ]) {
      const res = await api.call('key-mallory', 'GET', path);
      expect(res.text, path).not.toContain(credentialId);
      expect(res.text, path).not.toContain(created.body.id);
    }
  });
});
