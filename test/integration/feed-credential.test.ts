import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { newId } from '../../src/core/ids.js';
import type { FeedEventView, FeedPageView, HandoffView } from '../../src/core/wire.js';
import { createAgentFeed, feedStart } from '../../src/store/agent-feed.js';
import { createHandoffStore } from '../../src/store/handoff-store.js';
import { createKeys } from '../../src/store/keys.js';
import { approvalIn } from '../helpers/agent.js';
import { createAgentApi, type AgentApi } from '../helpers/agent-api.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A completed login's feed entry names its credential (id, scopes) and whether a standing
 * grant answered, so the agent's requireLogin() needs no second request; other endings and
 * entries written before it carry none, and read as before.
 */

const redis = connectTestRedis();
const prefix = randomPrefix('feedcred');
const keys = createKeys(prefix);
const feed = createAgentFeed({ redis, keys });

const record = (agentId: string, extra: Partial<HandoffRecord> = {}): HandoffRecord => {
  const now = Date.now();
  const id = newId('handoff');
  return {
    id,
    kind: 'login',
    status: 'pending',
    version: 0,
    service: 'http://127.0.0.1:9/svc',
    protocol: 'agent-sessions',
    thread: `local:feedcred-${id}`,
    approvers: [],
    agentId,
    correlationId: id,
    scopes: ['asked'],
    createdAt: now,
    updatedAt: now,
    expiresAt: now + 60_000,
    attempts: 0,
    ...extra,
  };
};

afterAll(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe("a completed login's feed entry in Redis (real Redis)", () => {
  const store = createHandoffStore({ redis, keys, now: () => Date.now() });

  it('carries the credential id, its scopes and reused, only when completed with the scopes given', async () => {
    const agent = `fc-${newId('request')}`;
    const plain = record(agent);
    const reused = record(agent, { credentialId: 'cr_grant', reused: true });
    const noScopes = record(agent);
    const spaced = record(agent);
    const long = record(agent);
    const cancelled = record(agent, { credentialId: 'cr_never' });
    for (const r of [plain, reused, noScopes, spaced, long, cancelled]) await store.create(r);
    const done = (r: HandoffRecord, extra: object) =>
      store.transition(r.id, { to: 'completed', from: ['pending'], agentId: agent, thread: r.thread, ...extra });
    await done(plain, { set: { credentialId: 'cr_plain' }, credentialScopes: ['repo', 'read:org'] });
    await done(reused, { credentialScopes: [] });
    await done(noScopes, { set: { credentialId: 'cr_noscopes' } });
    await done(spaced, { set: { credentialId: 'cr_spaced' }, credentialScopes: ['two words'] });
    await done(long, { set: { credentialId: 'cr_long' }, credentialScopes: ['s'.repeat(600), 's'.repeat(600)] });
    await store.transition(cancelled.id, { to: 'cancelled', agentId: agent, credentialScopes: ['repo'] });

    const { entries } = await feed.read(agent, feedStart, 10);
    const byId = new Map(entries.map((e) => [e.handoffId, e]));
    expect(byId.get(plain.id)).toMatchObject({
      status: 'completed',
      credential: { id: 'cr_plain', scopes: ['repo', 'read:org'] },
      reused: false,
    });
    expect(byId.get(reused.id)).toMatchObject({ credential: { id: 'cr_grant', scopes: [] }, reused: true });
    // No scopes given, scopes that would not split back the same or too long (a service chose
    // them), or not completed: no credential (the agent reads the handoff).
    for (const r of [noScopes, spaced, long, cancelled]) {
      expect(byId.get(r.id)).toBeDefined();
      expect(byId.get(r.id)!.credential, r.id).toBeUndefined();
      expect(byId.get(r.id)!.reused, r.id).toBeUndefined();
    }
    // Small: short names, nothing for a plain ending, no `r` when not reused.
    const raw = await redis.xrange(keys.agentFeed(agent), '-', '+');
    const fieldNames = raw.map(([, fields]) => fields.filter((_, i) => i % 2 === 0).join(''));
    expect(fieldNames).toEqual(['hstepcg', 'hstepcgr', 'hstep', 'hstep', 'hstep', 'hstep']);
  });

  it('reads an entry written before the credential fields as before', async () => {
    const agent = `fc-${newId('request')}`;
    await redis.xadd(keys.agentFeed(agent), '*', 'h', 'hf_0ld', 's', 'completed', 't', '123', 'e', '', 'p', '0-0');
    const { entries } = await feed.read(agent, feedStart, 10);
    expect(entries).toEqual([{ id: expect.any(String), handoffId: 'hf_0ld', status: 'completed', endedAt: 123 }]);
  });
});

describe('GET /v1/events names the credential of a completed login (real bridge, real Redis)', () => {
  let bridge: TestBridge;
  let api: AgentApi;
  const agent = 'fc-ann';

  beforeAll(async () => {
    bridge = await startTestBridge('feed-cred');
    api = await createAgentApi(bridge, { 'key-ann': agent });
  });
  afterAll(async () => {
    await api.close();
    await bridge.close();
  });

  const eventOf = (handoffId: string) =>
    waitFor(`the ending of ${handoffId} in the feed`, async () => {
      const page = (await api.call('key-ann', 'GET', '/v1/events')).body as FeedPageView;
      return page.events.find((e) => e.handoffId === handoffId);
    });

  it('as GET /v1/handoffs/:id shows it (the credential scopes, not the asked ones), and reused for a standing grant', async () => {
    const thread = freshThread('feedcred');
    // No scopes asked: the sandbox grants its default, so the entry must hold the credential's.
    const created = await api.call('key-ann', 'POST', '/v1/handoffs', {
      service: `${bridge.url}/sandbox`,
      thread,
      approvers: ['alice'],
    });
    expect(created.status).toBe(201);
    const { url } = await approvalIn(bridge, thread);
    await bridge.reply(thread, 'alice', `code: ${await bridge.approve(url)}`);
    const event: FeedEventView = await eventOf(created.body.id);
    const view = (await api.call('key-ann', 'GET', `/v1/handoffs/${created.body.id}`)).body as HandoffView;
    expect(view.status).toBe('completed');
    expect(view.scopes).toEqual([]);
    expect(event).toMatchObject({
      status: 'completed',
      error: null,
      credential: { id: view.credential!.id, scopes: view.credential!.scopes },
      reused: false,
    });
    expect(event.credential!.scopes).toContain('account:read');

    const again = await api.call('key-ann', 'POST', '/v1/handoffs', {
      service: `${bridge.url}/sandbox`,
      thread: freshThread('feedcred-reuse'),
      reuse: 'agent',
    });
    expect(again.body).toMatchObject({ status: 'completed', reused: true });
    expect(await eventOf(again.body.id)).toMatchObject({
      credential: { id: view.credential!.id, scopes: view.credential!.scopes },
      reused: true,
    });
  });

  it('answers other endings and entries written before the fields with credential null', async () => {
    const created = await api.call('key-ann', 'POST', '/v1/handoffs', {
      service: `${bridge.url}/sandbox`,
      thread: freshThread('feedcred-cancel'),
    });
    await api.call('key-ann', 'DELETE', `/v1/handoffs/${created.body.id}`);
    expect(await eventOf(created.body.id)).toMatchObject({ status: 'cancelled', credential: null, reused: false });

    const bridgeKeys = createKeys(bridge.prefix);
    await redis.xadd(bridgeKeys.agentFeed(agent), '*', 'h', 'hf_0ld', 's', 'completed', 't', '5', 'e', '', 'p', '0-0');
    expect(await eventOf('hf_0ld')).toEqual({
      cursor: expect.any(String),
      handoffId: 'hf_0ld',
      status: 'completed',
      endedAt: 5,
      error: null,
      credential: null,
      reused: false,
    });
  });
});
