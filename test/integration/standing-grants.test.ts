import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audited, completedLogin, createTestAgent, type TestAgent } from '../helpers/agents.js';
import { botTexts, requestIn } from '../helpers/agent.js';
import { freePort } from '../helpers/processes.js';
import { randomPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Standing grants (issue #14): `reuse` on a login request, over the HTTP API as agents call
 * it. A grant answers at once — completed, reused, that credential, nothing posted, audited —
 * and without one, requests that may reuse join the login still waiting for the same thing.
 */
describe('standing grants: reuse on login requests', () => {
  let bridge: TestBridge;
  let agent: TestAgent;
  const service = () => `${bridge.url}/sandbox`;
  const ask = (body: Record<string, unknown>) => agent.call('POST', '/v1/handoffs', { service: service(), ...body });

  beforeAll(async () => {
    bridge = await startTestBridge('grants');
    agent = await createTestAgent(bridge, 'grant-bot');
  });
  afterAll(async () => bridge.close());

  it('reuse "agent": answered at once from another thread with that credential, nothing posted, audited', async () => {
    const granted = await completedLogin(bridge, agent);
    const elsewhere = freshThread('elsewhere');
    const res = await ask({ thread: elsewhere, reuse: 'agent' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'completed', reused: true, credential: { id: granted.credentialId } });
    const view = await agent.api.getHandoff(res.body.id);
    expect(view).toMatchObject({ status: 'completed', reused: true, thread: elsewhere, approvalUrl: null });
    const token = (await agent.api.retrieveCredential(res.body.id)).accessToken;
    const me = await fetch(`${service()}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await botTexts(bridge, elsewhere)).toEqual([]);
    const [entry] = await audited(bridge, (e) => e.event === 'credential.reused' && e.handoffId === res.body.id);
    expect(entry).toMatchObject({
      actor: 'agent:grant-bot',
      agentId: 'grant-bot',
      detail: { credentialId: granted.credentialId, grantedIn: granted.handoffId, reuse: 'agent' },
    });
    // Its ending is in the agent's feed like any other.
    const page = await agent.api.events({ waitMs: 0 });
    expect(page.events.find((e) => e.handoffId === res.body.id)).toMatchObject({ status: 'completed' });
  });

  it('the API asks a person unless told otherwise ("never" is the default), grant or not', async () => {
    const { thread } = await completedLogin(bridge, agent);
    for (const body of [{ thread }, { thread, reuse: 'never' }]) {
      const res = await ask(body);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ status: 'pending', reused: false, credential: null });
      await agent.api.cancelHandoff(res.body.id);
    }
  });

  it('reuse "thread": only a credential approved in the same thread', async () => {
    const granted = await completedLogin(bridge, agent);
    const same = await ask({ thread: granted.thread, reuse: 'thread' });
    expect(same.body).toMatchObject({ status: 'completed', reused: true, credential: { id: granted.credentialId } });

    // Every credential this agent holds was approved elsewhere: a person in this thread is asked.
    const other = freshThread('other');
    const asked = await ask({ thread: other, reuse: 'thread' });
    expect(asked.body).toMatchObject({ status: 'pending', reused: false });
    expect((await requestIn(bridge, other)).handoffId).toBe(asked.body.id);
    await agent.api.cancelHandoff(asked.body.id);
  });

  it('scopes: the same or fewer reuse; one more asks', async () => {
    const granted = await completedLogin(bridge, agent);
    const held = (await agent.api.getHandoff(granted.handoffId)).credential!.scopes;
    expect(held.length).toBeGreaterThan(0);
    const thread = freshThread('scopes');
    const same = await ask({ thread, reuse: 'agent', scopes: [...held] });
    expect(same.body).toMatchObject({ reused: true, credential: { id: granted.credentialId } });
    const more = await ask({ thread, reuse: 'agent', scopes: [...held, 'admin:write'] });
    expect(more.body).toMatchObject({ status: 'pending', reused: false });
    await agent.api.cancelHandoff(more.body.id);
  });

  it('requests while a login waits for the same thing join it instead of asking again', async () => {
    const service2 = `${bridge.url}/sandbox/device`;
    const thread = freshThread('revoke');
    const ask2 = (extra: Record<string, unknown> = {}) =>
      agent.call('POST', '/v1/handoffs', { service: service2, thread, approvers: ['alice'], reuse: 'agent', ...extra });
    const first = await ask2();
    expect(first.status).toBe(201);
    // Racing requests while it waits: every one joins it (200, the same handoff), none asks.
    const racers = await Promise.all(Array.from({ length: 6 }, (_, i) => ask2({ agent: { correlationId: `r${i}` } })));
    for (const r of racers) expect(r).toMatchObject({ status: 200, body: { id: first.body.id, status: 'pending' } });
    const request = await requestIn(bridge, thread);
    expect(request.handoffId).toBe(first.body.id);
  });

  it('the first requests race: one opens, all the others join it', async () => {
    const thread = freshThread('race');
    const all = await Promise.all(Array.from({ length: 8 }, () => ask({ thread, reuse: 'agent', scopes: ['race'] })));
    const ids = new Set(all.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(all.filter((r) => r.status === 201)).toHaveLength(1);
    await requestIn(bridge, thread);
    await agent.api.cancelHandoff([...ids][0]!);
    // Ended: the next request opens a new one rather than joining the cancelled one.
    const next = await ask({ thread, reuse: 'agent', scopes: ['race'] });
    expect(next.status).toBe(201);
    expect(next.body.id).not.toBe([...ids][0]);
    expect((await requestIn(bridge, thread, 2)).handoffId).toBe(next.body.id);
    await agent.api.cancelHandoff(next.body.id);
  });

  it('after a revoke the next request asks in the same thread, and once answered the grant is reused again', async () => {
    // An agent whose one credential this is (the other tests' agent holds more).
    const own = await createTestAgent(bridge, 'revoked-bot');
    const granted = await completedLogin(bridge, own);
    await own.api.revokeCredential(granted.credentialId);
    const askOwn = (body: Record<string, unknown>) => own.call('POST', '/v1/handoffs', { service: service(), ...body });
    const again = await askOwn({ thread: granted.thread, reuse: 'agent', approvers: ['alice'] });
    expect(again.body).toMatchObject({ status: 'pending', reused: false });
    const request = await requestIn(bridge, granted.thread, 2);
    expect(request.handoffId).toBe(again.body.id);
    await bridge.reply(granted.thread, 'alice', await bridge.approve(request.url));
    const done = await waitFor('the new login', async () => {
      const v = await own.api.getHandoff(again.body.id);
      return v.status === 'completed' ? v : undefined;
    });
    const reused = await askOwn({ thread: freshThread('after'), reuse: 'agent' });
    expect(reused.body).toMatchObject({ reused: true, credential: { id: done.credential!.id } });
  });
});

describe('standing grants across a bridge restart', () => {
  it('a grant given before the restart answers after it; a login waiting across it is joined', async () => {
    const shared = {
      prefix: randomPrefix('grant-rst'),
      vaultKey: randomBytes(32),
      apiToken: `test-${randomBytes(16).toString('hex')}`,
      env: { PORT: String(await freePort()) }, // the service URLs name the bridge's port
    };
    const first = await startTestBridge('grants-restart-1', shared);
    const agent = await createTestAgent(first, 'restart-bot');
    const granted = await completedLogin(first, agent);
    const waitingThread = freshThread('waiting');
    const device = `${first.url}/sandbox/device`;
    const waiting = await agent.api.createHandoff({ service: device, thread: waitingThread, reuse: 'agent' });
    await requestIn(first, waitingThread);
    await first.bridge.close();

    const second = await startTestBridge('grants-restart-2', shared);
    try {
      expect(second.url).toBe(first.url);
      const thread = freshThread('after-restart');
      const reused = await agent.api.createHandoff({ service: `${second.url}/sandbox`, thread, reuse: 'agent' });
      expect(reused).toMatchObject({ status: 'completed', reused: true, credential: { id: granted.credentialId } });
      expect(await botTexts(second, thread)).toEqual([]);
      const joined = await agent.api.createHandoff({ service: device, thread: waitingThread, reuse: 'agent' });
      expect(joined.id).toBe(waiting.id);
      await agent.api.cancelHandoff(waiting.id);
    } finally {
      await second.close();
    }
  });
});
