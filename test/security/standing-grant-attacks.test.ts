import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAgentKey, hashAgentKey } from '../../src/core/agent-keys.js';
import { newId } from '../../src/core/ids.js';
import { agentWithKey, completedLogin, createTestAgent, type TestAgent } from '../helpers/agents.js';
import { freePort } from '../helpers/processes.js';
import { randomPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';

/**
 * Attacks on standing grants (issue #14). A grant hands a live credential out without asking
 * anyone, so every rule that decides *whose* and *which* is attacked: another agent's key,
 * the admin token acting for another agent, a service URL that merely starts like the
 * granted one, a dead or weaker credential, a policy narrowed since, an agent removed and
 * created again under the same id, and joins across agents or asks.
 */
describe('attack: reusing a credential that is not yours to reuse', () => {
  let bridge: TestBridge;
  let victor: TestAgent;
  let mallory: TestAgent;
  let granted: { handoffId: string; credentialId: string; thread: string };
  const service = () => `${bridge.url}/sandbox`;

  beforeAll(async () => {
    bridge = await startTestBridge('sec-grants');
    victor = await createTestAgent(bridge, 'victor');
    mallory = await createTestAgent(bridge, 'mallory');
    granted = await completedLogin(bridge, victor);
  });
  afterAll(async () => bridge.close());

  /** Asserts a person is asked (a new pending handoff, no credential), and cancels it. */
  const asksAPerson = async (res: { status: number; body: any }, as: TestAgent | undefined = undefined) => {
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ status: 'pending', reused: false, credential: null });
    await (as?.api ?? bridge.api).cancelHandoff(res.body.id);
  };

  it("another agent's key, in any mode and even in the grant's own thread, gets none of it", async () => {
    for (const reuse of ['agent', 'thread']) {
      await asksAPerson(
        await mallory.call('POST', '/v1/handoffs', { service: service(), thread: granted.thread, reuse }),
        mallory,
      );
    }
    // The admin token acting for mallory: still mallory's credentials only.
    const admin = await bridge.api.createHandoff({
      service: service(),
      thread: granted.thread,
      agent: { id: 'mallory' },
      reuse: 'agent',
    });
    expect(admin).toMatchObject({ status: 'pending', reused: false });
    await bridge.api.cancelHandoff(admin.id);
    const reusedByMallory = (await bridge.bridge.engine.audit.recent(2_000)).filter(
      (e) => e.event === 'credential.reused' && e.agentId === 'mallory',
    );
    expect(reusedByMallory).toEqual([]);
  });

  it("a handoff answered by victor's grant is victor's alone: mallory gets 404 for it", async () => {
    const reused = await victor.api.createHandoff({ service: service(), thread: freshThread('v'), reuse: 'agent' });
    expect(reused.reused).toBe(true);
    const attempt = await mallory.call('POST', `/v1/handoffs/${reused.id}/credential`);
    expect(attempt.status).toBe(404);
  });

  it('the service must be the same URL, not a prefix, a parent, or a look-alike', async () => {
    const base = bridge.url;
    const port = new URL(base).port;
    for (const other of [
      `${base}/sandbox/admin`,
      `${base}/sandboxx`,
      `${base}/SANDBOX`,
      `${base}//sandbox`,
      base,
      `http://localhost:${port}/sandbox`,
      `http://127.0.0.2:${port}/sandbox`,
    ]) {
      const res = await victor.call('POST', '/v1/handoffs', {
        service: other,
        thread: freshThread('u'),
        reuse: 'agent',
      });
      // Asked a person, or refused outright (a host the network policy forbids): never reused.
      expect(res.body.reused ?? false, other).toBe(false);
      expect(res.body.credential ?? null, other).toBeNull();
      if (res.status === 201) await victor.api.cancelHandoff(res.body.id);
    }
    // Spellings of the same URL are the same service.
    for (const same of [`${base}/sandbox/`, `${base}/sandbox/./`, `${base}/x/../sandbox`]) {
      const res = await victor.call('POST', '/v1/handoffs', {
        service: same,
        thread: freshThread('s'),
        reuse: 'agent',
      });
      expect(res.body, same).toMatchObject({ reused: true, credential: { id: granted.credentialId } });
    }
  });

  it('a credential that is expired and cannot be refreshed, needs a login, or holds fewer scopes is not reused', async () => {
    const agent = await createTestAgent(bridge, 'weak-creds');
    const thread = freshThread('weak');
    const now = Date.now();
    const put = async (fields: { expiresAt?: number; scopes: string[]; needsLogin?: boolean }) => {
      const id = newId('credential');
      const record = {
        id,
        handoffId: newId('handoff'),
        service: service(),
        protocol: 'agent-sessions' as const,
        scopes: fields.scopes,
        agentId: agent.id,
        thread,
        createdAt: now,
        ...(fields.expiresAt ? { expiresAt: fields.expiresAt } : {}),
      };
      await bridge.bridge.engine.credentials.put(record, {
        accessToken: `tok-${randomBytes(8).toString('hex')}`,
        tokenType: 'Bearer',
        scopes: fields.scopes,
        ...(fields.expiresAt ? { expiresAt: fields.expiresAt } : {}),
      });
      if (fields.needsLogin) await bridge.bridge.engine.credentials.markNeedsLogin(id, 'refresh_rejected');
      return id;
    };
    await put({ expiresAt: now - 1_000, scopes: ['account:read'] }); // expired, no refresh token
    await put({ scopes: ['account:read'], needsLogin: true }); // the bridge's refresh was refused
    await put({ scopes: ['other'] }); // live, but not the scope asked for
    await asksAPerson(
      await agent.call('POST', '/v1/handoffs', {
        service: service(),
        thread,
        scopes: ['account:read'],
        reuse: 'agent',
      }),
      agent,
    );
    // The control: a live one with the scope is reused (so the refusals above are the rules, not chance).
    const live = await put({ scopes: ['account:read', 'more'] });
    const res = await agent.call('POST', '/v1/handoffs', {
      service: service(),
      thread,
      scopes: ['account:read'],
      reuse: 'thread',
    });
    expect(res.body).toMatchObject({ reused: true, credential: { id: live } });
  });

  it('an agent removed and created again under the same id inherits no credential', async () => {
    const first = await createTestAgent(bridge, 'phoenix');
    const old = await completedLogin(bridge, first);
    await bridge.api.removeAgent('phoenix');
    expect(
      (await first.call('POST', '/v1/handoffs', { service: service(), thread: old.thread, reuse: 'agent' })).status,
    ).toBe(401);
    // A credential that outlived the removal (a login that finished while it ran), issued
    // before the new agent existed.
    const survivor = newId('credential');
    const stored = {
      id: survivor,
      handoffId: old.handoffId,
      service: service(),
      protocol: 'agent-sessions' as const,
      scopes: ['account:read'],
      agentId: 'phoenix',
      thread: old.thread,
      createdAt: Date.now() - 1_000,
    };
    await bridge.bridge.engine.credentials.put(stored, {
      accessToken: 'tok-survivor',
      tokenType: 'Bearer',
      scopes: ['account:read'],
    });
    const reborn = await createTestAgent(bridge, 'phoenix');
    await asksAPerson(
      await reborn.call('POST', '/v1/handoffs', { service: service(), thread: old.thread, reuse: 'agent' }),
      reborn,
    );
    // The control: one issued after the new agent's creation is its own, and is reused.
    const own = newId('credential');
    await bridge.bridge.engine.credentials.put(
      { ...stored, id: own, createdAt: Date.now() + 1 },
      { accessToken: 'tok-own', tokenType: 'Bearer', scopes: ['account:read'] },
    );
    const res = await reborn.call('POST', '/v1/handoffs', { service: service(), thread: old.thread, reuse: 'agent' });
    expect(res.body).toMatchObject({ reused: true, credential: { id: own } });
  });

  it('a join never crosses agents, nor joins a login that asks someone else or in another thread', async () => {
    const device = `${bridge.url}/sandbox/device`;
    const thread = freshThread('join');
    const victors = await victor.api.createHandoff({ service: device, thread, approvers: ['alice'], reuse: 'agent' });
    const others = [
      await mallory.call('POST', '/v1/handoffs', { service: device, thread, approvers: ['alice'], reuse: 'agent' }),
      await victor.call('POST', '/v1/handoffs', { service: device, thread, approvers: ['bob'], reuse: 'agent' }),
      await victor.call('POST', '/v1/handoffs', {
        service: device,
        thread: freshThread('j2'),
        approvers: ['alice'],
        reuse: 'agent',
      }),
      await victor.call('POST', '/v1/handoffs', { service: device, thread, approvers: ['alice'], reuse: 'never' }),
    ];
    for (const res of others) {
      expect(res.status).toBe(201);
      expect(res.body.id).not.toBe(victors.id);
      await bridge.api.cancelHandoff(res.body.id);
    }
    await victor.api.cancelHandoff(victors.id);
  });

  it('a flood of reuse requests is held to the agent’s rate; a replayed idempotency key gets the same answer', async () => {
    const flooder = await createTestAgent(bridge, 'flooder', { maxHandoffsPerMinute: 4 });
    const own = await completedLogin(bridge, flooder); // the first of its 4
    const thread = freshThread('flood');
    const first = await flooder.call('POST', '/v1/handoffs', {
      service: service(),
      thread,
      reuse: 'agent',
      idempotencyKey: 'nightly-1',
    });
    expect(first.body).toMatchObject({ reused: true, credential: { id: own.credentialId } });
    const replay = await flooder.call('POST', '/v1/handoffs', {
      service: service(),
      thread,
      reuse: 'agent',
      idempotencyKey: 'nightly-1',
    });
    expect(replay).toMatchObject({ status: 200, body: { id: first.body.id, reused: true } });
    const burst = await Promise.all(
      Array.from({ length: 6 }, () =>
        flooder.call('POST', '/v1/handoffs', { service: service(), thread, reuse: 'agent' }),
      ),
    );
    expect(burst.filter((r) => r.status === 201)).toHaveLength(2);
    for (const r of burst.filter((r) => r.status !== 201)) {
      expect(r.status).toBe(429);
      expect(r.body.error.code).toBe('rate_limited');
    }
  });

  it.each([['always'], [['agent']], [''], [null], ['AGENT']])(
    'reuse %j is refused with 400 naming the field',
    async (reuse) => {
      const res = await victor.call('POST', '/v1/handoffs', { service: service(), thread: freshThread('bad'), reuse });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_request', field: 'reuse' });
      expect(res.body.error.message).toContain('reuse');
    },
  );
});

describe("attack: a grant from before the operator narrowed the agent's policy", () => {
  it('is not reused once its thread is no longer allowed (policy as of now, across a restart)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'handoff-grant-policy-'));
    const file = join(dir, 'agents.yaml');
    const key = generateAgentKey();
    const policy = (threads: string) =>
      `agents:\n  - id: narrowed\n    keyHash: ${hashAgentKey(key)}\n    threads: ${threads}\n`;
    await writeFile(file, policy('["local:old-*", "local:new-*"]'));
    const shared = {
      prefix: randomPrefix('grant-pol'),
      vaultKey: randomBytes(32),
      apiToken: `test-${randomBytes(16).toString('hex')}`,
      env: { PORT: String(await freePort()), HANDOFF_AGENTS_FILE: file },
    };
    const first = await startTestBridge('grant-policy-1', shared);
    const agent = agentWithKey(first, 'narrowed', key);
    const old = await completedLogin(first, { ...agent, id: 'old' } as TestAgent);
    expect(old.thread.startsWith('local:old-')).toBe(true);
    const before = await agent.call('POST', '/v1/handoffs', {
      service: `${first.url}/sandbox`,
      thread: freshThread('new'),
      reuse: 'agent',
    });
    expect(before.body).toMatchObject({ reused: true }); // allowed then
    await first.bridge.close();

    await writeFile(file, policy('["local:new-*"]'));
    const second = await startTestBridge('grant-policy-2', shared);
    try {
      const after = await agent.call('POST', '/v1/handoffs', {
        service: `${second.url}/sandbox`,
        thread: freshThread('new'),
        reuse: 'agent',
      });
      expect(after.status).toBe(201);
      expect(after.body).toMatchObject({ status: 'pending', reused: false });
      await agent.api.cancelHandoff(after.body.id);
    } finally {
      await second.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('attack: reusing a credential the service no longer refreshes', () => {
  it('is refreshed before it is reused while the service allows it; once the service refuses, a person is asked', async () => {
    // Tokens live 50 s, inside the minute before expiry in which a reuse refreshes first.
    const bridge = await startTestBridge('sec-grant-refresh', { sandbox: { accessTtlMs: 50_000 } });
    try {
      const agent = await createTestAgent(bridge, 'refresher');
      const service = `${bridge.url}/sandbox`;
      const granted = await completedLogin(bridge, agent);
      const credentials = bridge.bridge.engine.credentials;
      const issued = (await credentials.secret(granted.credentialId))!;
      const reused = await agent.call('POST', '/v1/handoffs', { service, thread: freshThread('r'), reuse: 'agent' });
      expect(reused.body).toMatchObject({ reused: true, credential: { id: granted.credentialId } });
      const refreshed = (await credentials.secret(granted.credentialId))!;
      expect(refreshed.accessToken).not.toBe(issued.accessToken);

      // Killed at the service: its refresh is refused, so it is not reused, and a person is asked.
      for (const s of bridge.sandbox!.state.sessions.values()) if (s.id === refreshed.sessionId) s.revoked = true;
      const asked = await agent.call('POST', '/v1/handoffs', { service, thread: freshThread('r'), reuse: 'agent' });
      expect(asked.body).toMatchObject({ status: 'pending', reused: false, credential: null });
      expect((await credentials.get(granted.credentialId))?.needsLogin).toBeTruthy();
      await agent.api.cancelHandoff(asked.body.id);
    } finally {
      await bridge.close();
    }
  });
});
