import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAgentKey } from '../../src/core/agent-keys.js';
import { findSecrets } from '../../src/core/secret-patterns.js';
import { audited, rawCall } from '../helpers/agents.js';
import { connectTestRedis, dumpPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';

/**
 * A key that leaked and was rotated, or whose agent was removed, used again — on the process
 * that rotated it and on another one at once. Each use fails like a wrong key and leaves an
 * audit entry naming the agent the key belonged to.
 */
describe('attack: rotated and removed agent keys used again', () => {
  let a: TestBridge;
  let b: TestBridge;
  beforeAll(async () => {
    a = await startTestBridge('sec-keys-a');
    b = await startTestBridge('sec-keys-b', { prefix: a.prefix, apiToken: a.apiToken, vaultKey: a.vaultKey });
  });
  afterAll(async () => {
    await b?.bridge.close();
    await a?.close();
  });

  const create = (bridge: TestBridge, key: string, thread = freshThread('keys')) =>
    rawCall(bridge.url, key, 'POST', '/v1/handoffs', { service: `${a.url}/sandbox`, thread });

  it('a rotated key is dead on every process from the next request on', async () => {
    const { apiKey: old } = await a.api.createAgent({ id: 'leaky' });
    expect((await create(b, old)).status).toBe(201);
    const { apiKey: fresh } = await a.api.rotateAgentKey('leaky');
    const [onA, onB] = await Promise.all([create(a, old), create(b, old)]);
    expect([onA.status, onB.status]).toEqual([401, 401]);
    expect(onB.body.error.code).toBe('unauthorized');
    expect((await create(b, fresh)).status).toBe(201);
    const [entry] = await audited(a, (e) => e.event === 'auth.dead_key' && e.agentId === 'leaky');
    expect(entry).toMatchObject({ actor: 'agent:leaky', source: expect.stringMatching(/127\.0\.0\.1$/) });
    // Rotating twice quickly: only the last key lives.
    const { apiKey: second } = await b.api.rotateAgentKey('leaky');
    const { apiKey: third } = await a.api.rotateAgentKey('leaky');
    expect((await create(a, fresh)).status).toBe(401);
    expect((await create(b, second)).status).toBe(401);
    expect((await create(b, third)).status).toBe(201);
  });

  it('a removed agent’s key is dead on every process, and its reuse is audited once a minute, not per request', async () => {
    const { apiKey } = await a.api.createAgent({ id: 'gone' });
    expect((await create(a, apiKey)).status).toBe(201);
    await b.api.removeAgent('gone');
    const attempts = await Promise.all(Array.from({ length: 10 }, (_, i) => create(i % 2 ? a : b, apiKey)));
    expect(attempts.map((r) => r.status)).toEqual(Array(10).fill(401));
    const entries = await audited(a, (e) => e.event === 'auth.dead_key' && e.agentId === 'gone');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: 'agent:gone' });
    // Re-creating the id gives a new key; the old one stays dead.
    const { apiKey: reborn } = await a.api.createAgent({ id: 'gone' });
    expect((await create(b, apiKey)).status).toBe(401);
    expect((await create(b, reborn)).status).toBe(201);
  });

  it('made-up keys of the right shape, and the admin token with a key’s prefix, are refused', async () => {
    for (const key of [generateAgentKey(), `hak_${'A'.repeat(40)}`, 'hak_', `${a.apiToken}x`, `hak_${a.apiToken}`]) {
      expect((await rawCall(a.url, key, 'GET', '/v1/handoffs')).status).toBe(401);
    }
  });

  it('no key is ever stored, audited or logged', async () => {
    const { apiKey } = await a.api.createAgent({ id: 'secretive' });
    await a.api.rotateAgentKey('secretive');
    await create(a, apiKey);
    const redis = connectTestRedis();
    const dump = await dumpPrefix(redis, a.prefix);
    redis.disconnect();
    expect(dump).not.toContain(apiKey);
    expect(findSecrets(dump).filter((s) => s.startsWith('hak_'))).toEqual([]);
    expect([...a.logs, ...b.logs].join('\n')).not.toContain(apiKey);
  });
});
