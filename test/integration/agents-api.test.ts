import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAgentKey, hashAgentKey } from '../../src/core/agent-keys.js';
import { agentWithKey, audited, completedLogin, createTestAgent, rawCall } from '../helpers/agents.js';
import { connectTestRedis, dumpPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Agents and their keys through the real HTTP API: created by the operator, the key shown
 * once and kept only as a hash, the agent's id taken from its key, rotation and removal
 * taking effect at the next request.
 */
describe('agents API (real Redis, real HTTP)', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startTestBridge('agents-api');
  });
  afterAll(async () => bridge.close());

  const admin = (method: string, path: string, body?: unknown) =>
    rawCall(bridge.url, bridge.apiToken, method, path, body);
  const sandbox = () => `${bridge.url}/sandbox`;

  it('creates an agent: 201 with its policy and a key shown once, stored only as a hash', async () => {
    const res = await admin('POST', '/v1/agents', {
      id: 'reporter',
      services: ['HTTP://127.0.0.1:*'],
      threads: ['local:*'],
      maxOpenHandoffs: 3,
    });
    expect(res.status).toBe(201);
    expect(res.body.apiKey).toMatch(/^hak_[A-Za-z0-9]{40}$/);
    expect(res.body.agent).toEqual({
      id: 'reporter',
      managedBy: 'api',
      services: ['http://127.0.0.1:*'],
      threads: ['local:*'],
      approvers: null,
      maxOpenHandoffs: 3,
      maxHandoffsPerMinute: null,
      limits: { maxOpenHandoffs: 3, maxHandoffsPerMinute: 60 },
      createdAt: expect.any(Number),
      keyRotatedAt: null,
    });
    const redis = connectTestRedis();
    const dump = await dumpPrefix(redis, bridge.prefix);
    redis.disconnect();
    expect(dump).not.toContain(res.body.apiKey);
    expect(dump).toContain(hashAgentKey(res.body.apiKey));
    expect((await audited(bridge, (e) => e.event === 'agent.created' && e.agentId === 'reporter'))[0]).toMatchObject({
      actor: 'admin',
      requestId: res.headers.get('x-request-id'),
    });
  });

  it.each([
    ['an id with capitals', { id: 'Reporter' }, 'id'],
    ['an id with a slash', { id: 'a/b' }, 'id'],
    ['a service with a path', { id: 'x1', services: ['https://api.example.com/v1'] }, 'services.0'],
    ['a service that is not an origin', { id: 'x2', services: ['example.com'] }, 'services.0'],
    ['a thread of no platform', { id: 'x3', threads: ['C0123*'] }, 'threads.0'],
    ['a limit of zero', { id: 'x4', maxOpenHandoffs: 0 }, 'maxOpenHandoffs'],
    ['an unknown field', { id: 'x5', admin: true }, 'admin'],
  ])('refuses %s with 400 naming the field', async (_what, body, field) => {
    const res = await admin('POST', '/v1/agents', body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', field });
  });

  it('refuses a second agent with the same id (409 agent_exists)', async () => {
    await bridge.api.createAgent({ id: 'twice' });
    const again = await admin('POST', '/v1/agents', { id: 'twice' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('agent_exists');
  });

  it("takes the agent's id from its key: the handoff, the listing and the audit name it", async () => {
    const agent = await createTestAgent(bridge, 'from-key');
    const created = await agent.call('POST', '/v1/handoffs', { service: sandbox(), thread: freshThread('key') });
    expect(created.status).toBe(201);
    const view = await agent.api.getHandoff(created.body.id);
    expect(view.agent.id).toBe('from-key');
    // Naming itself is fine too.
    expect(
      (
        await agent.call('POST', '/v1/handoffs', {
          service: sandbox(),
          thread: freshThread('key'),
          agent: { id: 'from-key', correlationId: 'c-1' },
        })
      ).status,
    ).toBe(201);
    expect(
      (await audited(bridge, (e) => e.event === 'handoff.created' && e.handoffId === created.body.id))[0],
    ).toMatchObject({
      actor: 'agent:from-key',
      requestId: created.headers.get('x-request-id'),
      source: expect.stringMatching(/127\.0\.0\.1$/),
    });
    expect((await agent.api.listHandoffs()).map((h) => h.agent.id)).toEqual(['from-key', 'from-key']);
  });

  it('the admin token must still name the agent', async () => {
    const res = await admin('POST', '/v1/handoffs', { service: sandbox(), thread: freshThread('adm') });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', field: 'agent.id' });
  });

  it('lists and shows agents to the admin; an agent sees its own record only; agent keys cannot manage agents', async () => {
    const agent = await createTestAgent(bridge, 'looker', { threads: ['local:look-*'] });
    expect((await bridge.api.listAgents()).map((a) => a.id)).toEqual(expect.arrayContaining(['reporter', 'looker']));
    expect(await agent.api.getAgent('looker')).toMatchObject({ id: 'looker', threads: ['local:look-*'] });
    const other = await agent.call('GET', '/v1/agents/reporter');
    const missing = await agent.call('GET', '/v1/agents/nobody-here');
    expect(other.status).toBe(404);
    expect(other.body.error).toEqual({
      ...missing.body.error,
      message: missing.body.error.message.replace('nobody-here', 'reporter'),
    });
    for (const [method, path] of [
      ['GET', '/v1/agents'],
      ['POST', '/v1/agents'],
      ['POST', '/v1/agents/looker/key'],
      ['DELETE', '/v1/agents/looker'],
    ] as const) {
      const res = await agent.call(method, path, method === 'POST' ? { id: 'sneaky' } : undefined);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe('admin_only');
    }
    await expect(bridge.api.getAgent('sneaky')).rejects.toMatchObject({ code: 'agent_not_found' });
  });

  it('rotating a key kills the old one at the next request; its reuse is refused and audited with the agent', async () => {
    const agent = await createTestAgent(bridge, 'rotator');
    expect((await agent.call('GET', '/v1/handoffs')).status).toBe(200);
    const { apiKey, agent: view } = await bridge.api.rotateAgentKey('rotator');
    expect(apiKey).not.toBe(agent.key);
    expect(view.keyRotatedAt).toEqual(expect.any(Number));
    const old = await agent.call('GET', '/v1/handoffs');
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('unauthorized');
    expect((await agentWithKey(bridge, 'rotator', apiKey).call('GET', '/v1/handoffs')).status).toBe(200);
    const [entry] = await audited(bridge, (e) => e.event === 'auth.dead_key' && e.agentId === 'rotator');
    expect(entry).toMatchObject({ actor: 'agent:rotator', requestId: old.headers.get('x-request-id') });
    await expect(bridge.api.rotateAgentKey('no-such-agent')).rejects.toMatchObject({
      status: 404,
      code: 'agent_not_found',
    });
  });

  it('removing an agent kills its key, cancels its open handoffs and revokes its credentials at the service', async () => {
    const agent = await createTestAgent(bridge, 'leaver');
    const { handoffId, credentialId } = await completedLogin(bridge, agent);
    const token = (await agent.api.retrieveCredential(handoffId)).accessToken;
    const me = () =>
      fetch(`${sandbox()}/api/me`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await me()).toBe(200);
    const open = await agent.api.createHandoff({ service: sandbox(), thread: freshThread('leave') });
    await waitFor(
      'the open handoff to wait',
      async () => (await agent.api.getHandoff(open.id)).status === 'awaiting_human',
    );

    const removal = await bridge.api.removeAgent('leaver');
    expect(removal).toMatchObject({
      cancelledHandoffs: [open.id],
      revokedCredentials: [{ id: credentialId, atService: 'revoked' }],
      stillOpen: [],
    });
    expect((await agent.call('GET', '/v1/handoffs')).status).toBe(401);
    expect(await me()).toBe(401);
    expect((await bridge.api.getHandoff(open.id)).status).toBe('cancelled');
    await expect(bridge.api.retrieveCredential(handoffId)).rejects.toMatchObject({ code: 'credential_not_found' });
    const trail = await bridge.bridge.engine.audit.recent(500);
    expect(trail.find((e) => e.event === 'agent.removed' && e.agentId === 'leaver')).toMatchObject({ actor: 'admin' });
    expect(
      trail.find((e) => e.event === 'credential.revoked' && e.detail?.credentialId === credentialId),
    ).toMatchObject({ actor: 'admin' });
    expect(trail.find((e) => e.event === 'handoff.cancelled' && e.handoffId === open.id)).toMatchObject({
      actor: 'admin',
    });
    await expect(bridge.api.removeAgent('leaver')).rejects.toMatchObject({ status: 404, code: 'agent_not_found' });
  });
});

describe('agents declared in HANDOFF_AGENTS_FILE', () => {
  let bridge: TestBridge;
  let dir: string;
  const key = generateAgentKey();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handoff-agents-'));
    const file = join(dir, 'agents.yaml');
    await writeFile(
      file,
      `agents:\n  - id: from-file\n    keyHash: ${hashAgentKey(key)}\n    threads: ["local:file-*"]\n`,
    );
    bridge = await startTestBridge('agents-file', { env: { HANDOFF_AGENTS_FILE: file } });
  });
  afterAll(async () => {
    await bridge.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('authenticate with their key and keep their policy', async () => {
    const agent = agentWithKey(bridge, 'from-file', key);
    expect(
      (await agent.call('POST', '/v1/handoffs', { service: `${bridge.url}/sandbox`, thread: freshThread('file') }))
        .status,
    ).toBe(201);
    expect(
      (await agent.call('POST', '/v1/handoffs', { service: `${bridge.url}/sandbox`, thread: 'local:other' })).body.error
        .code,
    ).toBe('thread_not_allowed');
    expect((await bridge.api.listAgents()).find((a) => a.id === 'from-file')).toMatchObject({
      managedBy: 'file',
      threads: ['local:file-*'],
      createdAt: null,
    });
  });

  it('are read-only through the API (409 agent_managed_by_file)', async () => {
    for (const [method, path, body] of [
      ['POST', '/v1/agents', { id: 'from-file' }],
      ['POST', '/v1/agents/from-file/key', undefined],
      ['DELETE', '/v1/agents/from-file', undefined],
    ] as const) {
      const res = await rawCall(bridge.url, bridge.apiToken, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(409);
      expect(res.body.error.code).toBe('agent_managed_by_file');
    }
  });
});
