import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSecrets } from '../../src/core/secret-patterns.js';
import { approvalIn, requestIn, startTestAgent } from '../helpers/agent.js';
import { connectTestRedis, dumpPrefix } from '../helpers/redis.js';
import { codeFromMailbox, decideDevice } from '../helpers/sandbox-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { createKeys } from '../../src/store/keys.js';

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

    // Waiting: the poll token and PKCE verifier exist only sealed, inside the handoff record.
    const waiting = await dumpPrefix(redis, bridge.prefix);
    expect(JSON.parse((await redis.get(createKeys(bridge.prefix).handoff(handoffId)))!).sS).toMatch(/^v1\./);
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
    expect(await redis.get(`${bridge.prefix}:vault:cred:${credential.credentialId}`)).toMatch(
      /^v1\.[\w-]{8}\.[\w-]+\.[\w-]+\.[\w-]+$/,
    );
    // The login secret is gone once the handoff ended.
    expect(JSON.parse((await redis.get(createKeys(bridge.prefix).handoff(handoffId)))!).sS).toBeUndefined();
  });

  it('keeps auth.md claim tokens, emailed codes, device codes and issued tokens out of Redis in plain text', async () => {
    const mailThread = freshThread('rest-mail');
    const deviceThread = freshThread('rest-dev');
    const email = 'rest@example.com';
    const mailJob = await agent.run(mailThread, ['alice'], 'agent-rest', `${bridge.url}/sandbox/authmd`, {
      approverEmail: email,
    });
    const deviceJob = await agent.run(deviceThread, ['alice'], 'agent-rest', `${bridge.url}/sandbox/device`);
    const mail = await requestIn(bridge, mailThread);
    const device = await requestIn(bridge, deviceThread);

    const waiting = await dumpPrefix(redis, bridge.prefix);
    expect(findSecrets(waiting)).toEqual([]);
    // The discovery cache holds public metadata only.
    expect(waiting).toContain(`${bridge.prefix}:cache:discovery:`);

    const otp = await codeFromMailbox(`${bridge.url}/sandbox/authmd`, email);
    await bridge.reply(mailThread, 'alice', otp);
    await decideDevice(device.url, 'approve');
    await bridge.reply(deviceThread, 'alice', 'done');
    expect((await mailJob.waitUntilFinished(agent.events, 20_000)).status).toBe(200);
    expect((await deviceJob.waitUntilFinished(agent.events, 20_000)).status).toBe(200);

    const tokens = await Promise.all(
      [mail.handoffId, device.handoffId].map(async (id) => (await bridge.api.retrieveCredential(id)).accessToken),
    );
    const done = await dumpPrefix(redis, bridge.prefix);
    for (const token of tokens) expect(done).not.toContain(token);
    expect(findSecrets(done)).toEqual([]);
  });
});
