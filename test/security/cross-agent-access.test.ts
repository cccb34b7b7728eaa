import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audited, completedLogin, createTestAgent, type TestAgent } from '../helpers/agents.js';
import { botTexts } from '../helpers/agent.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Mallory holds an agent key of her own (a prompt-injected agent, say) and goes after Victor's
 * handoffs and credentials with every route the API has. Each attempt must answer exactly like
 * an id that does not exist, change nothing, and leave an audit entry naming Mallory.
 */
describe('attack: one agent reaching for another agent’s handoffs and credentials', () => {
  let bridge: TestBridge;
  let victor: TestAgent;
  let mallory: TestAgent;
  let login: { handoffId: string; credentialId: string; thread: string };
  let openId: string;

  beforeAll(async () => {
    bridge = await startTestBridge('sec-cross');
    victor = await createTestAgent(bridge, 'victor');
    mallory = await createTestAgent(bridge, 'mallory');
    login = await completedLogin(bridge, victor);
    openId = (await victor.api.createHandoff({ service: `${bridge.url}/sandbox`, thread: freshThread('victor') })).id;
  });
  afterAll(async () => bridge.close());

  /** What the same call answers for an id that does not exist. */
  const missingHandoff = 'hf_000000000000000000000000';
  const missingCredential = 'cr_000000000000000000000000';
  const sameAsMissing = async (
    attempt: { status: number; body: any },
    probe: () => Promise<{ status: number; body: any }>,
    realId: string,
    fakeId: string,
  ) => {
    const missing = await probe();
    expect(attempt.status).toBe(404);
    expect(attempt.body.error.code).toBe(missing.body.error.code);
    expect(attempt.body.error.message).toBe(missing.body.error.message.replace(fakeId, realId));
  };

  it.each([
    ['read', 'GET', (id: string) => `/v1/handoffs/${id}`],
    ['wait', 'GET', (id: string) => `/v1/handoffs/${id}?waitMs=5000`],
    ['credential', 'POST', (id: string) => `/v1/handoffs/${id}/credential`],
    ['cancel', 'DELETE', (id: string) => `/v1/handoffs/${id}`],
  ] as const)(
    '%s another agent’s handoff: 404 like a missing one, audited with the caller',
    async (action, method, path) => {
      for (const id of [login.handoffId, openId]) {
        const started = Date.now();
        const attempt = await mallory.call(method, path(id));
        // Waiting on someone else's handoff does not wait: it fails before the long poll.
        expect(Date.now() - started).toBeLessThan(3_000);
        await sameAsMissing(attempt, () => mallory.call(method, path(missingHandoff)), id, missingHandoff);
        const [entry] = await audited(
          bridge,
          (e) => e.event === 'access.denied' && e.requestId === attempt.headers.get('x-request-id'),
        );
        expect(entry).toMatchObject({ actor: 'agent:mallory', handoffId: id, agentId: 'victor', detail: { action } });
      }
    },
  );

  it.each([
    ['revoke', (id: string) => `/v1/credentials/${id}/revoke`],
    ['report_rejected', (id: string) => `/v1/credentials/${id}/rejected`],
  ] as const)(
    '%s another agent’s credential: 404 like a missing one, nothing re-opened, audited with the caller',
    async (action, path) => {
      const before = await botTexts(bridge, login.thread);
      const attempt = await mallory.call('POST', path(login.credentialId));
      await sameAsMissing(
        attempt,
        () => mallory.call('POST', path(missingCredential)),
        login.credentialId,
        missingCredential,
      );
      const [entry] = await audited(
        bridge,
        (e) => e.event === 'access.denied' && e.requestId === attempt.headers.get('x-request-id'),
      );
      expect(entry).toMatchObject({
        actor: 'agent:mallory',
        agentId: 'victor',
        handoffId: login.handoffId,
        detail: { action, credentialId: login.credentialId },
      });
      // Nothing happened to it: still there, still works, no new request in Victor's thread.
      expect((await victor.api.retrieveCredential(login.handoffId)).credentialId).toBe(login.credentialId);
      await new Promise((r) => setTimeout(r, 300));
      expect(await botTexts(bridge, login.thread)).toEqual(before);
    },
  );

  it('the victim’s handoffs are untouched by all of it', async () => {
    expect((await victor.api.getHandoff(openId)).status).not.toBe('cancelled');
    expect((await victor.api.getHandoff(login.handoffId)).status).toBe('completed');
  });

  it('lists show only the caller’s own handoffs and credentials; the admin sees both', async () => {
    const mine = await mallory.api.createHandoff({ service: `${bridge.url}/sandbox`, thread: freshThread('mallory') });
    const listed = await mallory.api.listHandoffs({ limit: 200 });
    expect(listed.map((h) => h.id)).toEqual([mine.id]);
    expect((await mallory.api.listHandoffs({ open: true })).map((h) => h.id)).toEqual([mine.id]);
    expect(await mallory.api.listCredentials()).toEqual([]);
    expect((await victor.api.listCredentials()).map((c) => c.id)).toEqual([login.credentialId]);
    const all = (await bridge.api.listHandoffs({ limit: 200 })).map((h) => h.id);
    expect(all).toEqual(expect.arrayContaining([mine.id, openId, login.handoffId]));
    expect((await bridge.api.listCredentials({ agent: 'victor' })).map((c) => c.id)).toEqual([login.credentialId]);
  });

  it('asking for another agent’s credential list is refused (403 agent_mismatch)', async () => {
    const res = await mallory.call('GET', '/v1/credentials?agent=victor');
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('agent_mismatch');
  });

  it('naming another agent in the body is refused (403 agent_mismatch), nothing is created, and it is audited', async () => {
    const thread = freshThread('spoof');
    for (const spoof of ['victor', 'VICTOR', 'victor ', 'admin']) {
      const res = await mallory.call('POST', '/v1/handoffs', {
        service: `${bridge.url}/sandbox`,
        thread,
        agent: { id: spoof },
      });
      expect(res.status, spoof).toBe(403);
      expect(res.body.error.code).toBe('agent_mismatch');
      const [entry] = await audited(
        bridge,
        (e) => e.event === 'handoff.refused' && e.requestId === res.headers.get('x-request-id'),
      );
      expect(entry).toMatchObject({ actor: 'agent:mallory', agentId: 'mallory', detail: { code: 'agent_mismatch' } });
    }
    expect(await bridge.bridge.engine.store.openInThread(thread)).toEqual([]);
    expect((await victor.api.listHandoffs({ limit: 200 })).every((h) => h.agent.id === 'victor')).toBe(true);
  });

  it('an idempotency key is the agent’s own: the same key from another agent makes a new handoff', async () => {
    const body = { service: `${bridge.url}/sandbox`, thread: freshThread('idem'), idempotencyKey: 'shared-key-1' };
    const first = await victor.api.createHandoff(body);
    const second = await mallory.call('POST', '/v1/handoffs', body);
    expect(second.status).toBe(201);
    expect(second.body.id).not.toBe(first.id);
  });

  it('the admin token still reaches everything', async () => {
    expect((await bridge.api.getHandoff(openId)).agent.id).toBe('victor');
    const cancelled = await bridge.api.cancelHandoff(openId);
    expect(cancelled.status).toBe('cancelled');
    await waitFor('the cancel audit', async () =>
      (await bridge.bridge.engine.audit.recent(50, openId)).find(
        (e) => e.event === 'handoff.cancelled' && e.actor === 'admin',
      ),
    );
  });
});
