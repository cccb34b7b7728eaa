import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botTexts } from '../helpers/agent.js';
import { completedLogin, createTestAgent } from '../helpers/agents.js';
import { startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Credentials have a life: the idle limit and the maximum age end them as delayed jobs on the
 * `credentials` queue — revoked at the service, deleted, audited, the thread told. Limits are
 * shortened to seconds here (the defaults are 7 and 30 days).
 */
async function lifeBridge(name: string, env: Record<string, string>) {
  return startTestBridge(name, { env: { HANDOFF_POLL_INTERVAL_MS: '600000', ...env } });
}

describe('credential idle limit (HANDOFF_CREDENTIAL_IDLE_MS)', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await lifeBridge('cred-idle', { HANDOFF_CREDENTIAL_IDLE_MS: '2000', HANDOFF_CREDENTIAL_MAX_AGE_MS: '0' });
  });
  afterAll(async () => bridge.close());

  it('ends a credential nobody retrieves, and each retrieval moves the deadline; the audit names who retrieved it', async () => {
    const agent = await createTestAgent(bridge, 'idler');
    const { handoffId, credentialId, thread } = await completedLogin(bridge, agent);
    const token = (await agent.api.retrieveCredential(handoffId)).accessToken;
    const works = async () =>
      (await fetch(`${bridge.url}/sandbox/api/me`, { headers: { authorization: `Bearer ${token}` } })).status === 200;
    // Retrieved every 700 ms for 3 s: past the 2 s limit counted from issue, it lives on.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 700));
      expect((await agent.api.retrieveCredential(handoffId)).credentialId).toBe(credentialId);
    }
    expect(await works()).toBe(true);
    const retrievals = (await bridge.bridge.engine.audit.recent(100, handoffId)).filter(
      (e) => e.event === 'credential.retrieved',
    );
    expect(retrievals).toHaveLength(5);
    for (const e of retrievals)
      expect(e).toMatchObject({
        actor: 'agent:idler',
        agentId: 'idler',
        requestId: expect.stringMatching(/^req_/),
        source: expect.stringMatching(/127\.0\.0\.1$/),
      });

    // Left alone, it ends about 2 s after the last retrieval.
    const revoked = await waitFor(
      'the idle limit',
      async () =>
        (await bridge.bridge.engine.audit.recent(100, handoffId)).find((e) => e.event === 'credential.revoked'),
      10_000,
    );
    expect(revoked).toMatchObject({
      actor: 'bridge:lifetime',
      detail: { credentialId, atService: 'revoked', reason: 'idle' },
    });
    expect(await works()).toBe(false);
    expect(await bridge.bridge.engine.credentials.get(credentialId)).toBeUndefined();
    await expect(agent.api.retrieveCredential(handoffId)).rejects.toMatchObject({ code: 'credential_not_found' });
    expect((await botTexts(bridge, thread)).find((t) => t.startsWith('🔒'))).toContain('nobody used it for 2 s');
  }, 30_000);
});

describe('credential maximum age (HANDOFF_CREDENTIAL_MAX_AGE_MS)', () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await lifeBridge('cred-age', { HANDOFF_CREDENTIAL_MAX_AGE_MS: '2500', HANDOFF_CREDENTIAL_IDLE_MS: '0' });
  });
  afterAll(async () => bridge.close());

  it('ends a credential at its maximum age however often it is used', async () => {
    const agent = await createTestAgent(bridge, 'ager');
    const { handoffId, credentialId } = await completedLogin(bridge, agent);
    const issuedAt = (await bridge.bridge.engine.credentials.get(credentialId))!.createdAt;
    const ended = await waitFor(
      'the maximum age',
      async () => {
        try {
          await agent.api.retrieveCredential(handoffId);
          return undefined;
        } catch (err) {
          return (err as { code?: string }).code === 'credential_not_found' ? Date.now() : undefined;
        }
      },
      10_000,
    );
    expect(ended - issuedAt).toBeGreaterThanOrEqual(2_500);
    const revoked = (await bridge.bridge.engine.audit.recent(200, handoffId)).find(
      (e) => e.event === 'credential.revoked',
    );
    expect(revoked).toMatchObject({ actor: 'bridge:lifetime', detail: { credentialId, reason: 'max_age' } });
  }, 30_000);
});
