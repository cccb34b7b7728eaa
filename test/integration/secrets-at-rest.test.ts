import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSecrets } from '../../src/core/secret-patterns.js';
import { approvalIn, startTestAgent } from '../helpers/agent.js';
import { connectTestRedis, dumpPrefix } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';

describe('secrets at rest', () => {
  let bridge: TestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;
  const redis = connectTestRedis();

  beforeAll(async () => {
    bridge = await startTestBridge('at-rest');
    agent = await startTestAgent(bridge);
  });
  afterAll(async () => {
    await agent.close();
    await bridge.close();
    redis.disconnect();
  });

  it('leaves no plaintext code, token or verifier in Redis during and after a login', async () => {
    const thread = freshThread('rest');
    const job = await agent.run(thread, ['alice']);
    const { url, handoffId } = await approvalIn(bridge, thread);
    const code = await bridge.approve(url);

    // Waiting: the poll token and PKCE verifier exist only sealed in the vault.
    const waiting = await dumpPrefix(redis, bridge.prefix);
    expect(waiting).toContain(`${bridge.prefix}:vault:login:${handoffId}`);
    expect(findSecrets(waiting)).toEqual([]);

    // A non-approver's paste and the approver's paste both pass through the inbound queue.
    await bridge.reply(thread, 'mallory', code);
    await bridge.reply(thread, 'alice', code);
    const result = await job.waitUntilFinished(agent.events, 20_000);
    expect(result.status).toBe(200);

    const credential = await bridge.api.retrieveCredential(handoffId);
    expect(credential.accessToken).toMatch(/^aas_/);
    const done = await dumpPrefix(redis, bridge.prefix);
    expect(done).not.toContain(code);
    expect(done).not.toContain(credential.accessToken);
    expect(findSecrets(done)).toEqual([]);
    // The credential is there, encrypted: a v1 vault blob under its own key.
    expect(await redis.get(`${bridge.prefix}:vault:cred:${credential.credentialId}`)).toMatch(/^v1\.[\w-]{8}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    // The login secret is gone once the handoff ended.
    expect(await redis.exists(`${bridge.prefix}:vault:login:${handoffId}`)).toBe(0);
  });
});
