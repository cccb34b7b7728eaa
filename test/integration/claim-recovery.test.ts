import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.js';
import { openLoginSecret } from '../../src/engine/login-secret.js';
import { inboundJobId } from '../../src/queue/inbound-intake.js';
import { createKeys } from '../../src/store/keys.js';
import { connectTestRedis } from '../helpers/redis.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The claim path when a process died half way. These tests set up the state a crash leaves
 * behind (through the real store, vault and sandbox), then let the real workers carry on.
 */
describe('claims survive crashes and lost answers', () => {
  let bridge: TestBridge;
  let offsetMs = 0;
  const redis = connectTestRedis();
  beforeAll(async () => {
    bridge = await startTestBridge('claims', { clock: { now: () => Date.now() + offsetMs } });
  });
  afterAll(async () => {
    await bridge.close();
    redis.disconnect();
  });

  async function waitingHandoff() {
    const thread = freshThread('claim');
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread,
      agent: { id: 'claims' },
    });
    const view = await waitFor('awaiting_human', async () => {
      const v = await bridge.api.getHandoff(created.id);
      return v.status === 'awaiting_human' ? v : undefined;
    });
    const record = (await bridge.bridge.engine.store.get(created.id))!;
    const secret = openLoginSecret(bridge.bridge.engine.vault, record) as {
      authRequestId: string;
      codeVerifier: string;
    };
    return { thread, id: created.id, approvalUrl: view.approvalUrl!, secret };
  }

  /** The exchange a bridge worker made just before it died: done directly at the sandbox. */
  async function exchangeBehindTheBridgesBack(secret: { authRequestId: string; codeVerifier: string }, code: string) {
    const res = await fetch(`${bridge.url}/sandbox/agent-sessions/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth_request_id: secret.authRequestId,
        exchange_code: code,
        code_verifier: secret.codeVerifier,
      }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as {
      agent_session: {
        access_token: string;
        refresh_token: string;
        access_expires_at: number;
        id: string;
        scopes: string[];
      };
    };
  }

  const reply = (thread: string, text: string, messageId: string) => ({
    platform: 'local' as const,
    thread,
    author: { id: 'alice' },
    text,
    messageRef: { platform: 'local' as const, thread, id: messageId },
    deliveryId: messageId,
    receivedAt: Date.now(),
  });

  it('fails clearly with exchange_lost when the service already spent the code and the bridge holds no credential', async () => {
    const h = await waitingHandoff();
    const code = await bridge.approve(h.approvalUrl);
    await exchangeBehindTheBridgesBack(h.secret, code);
    await bridge.bridge.sink(reply(h.thread, code, `${h.thread.slice(6)}.0000000000000001`));
    const view = await waitFor('failure', async () => {
      const v = await bridge.api.getHandoff(h.id);
      return v.status === 'failed' ? v : undefined;
    });
    expect(view.error?.code).toBe('exchange_lost');
    expect(view.attempts).toBe(0); // not the human's fault: no wrong attempt counted
  });

  it('finishes a claim whose worker died after storing the credential, without asking the service again', async () => {
    const h = await waitingHandoff();
    const code = await bridge.approve(h.approvalUrl);
    const session = (await exchangeBehindTheBridgesBack(h.secret, code)).agent_session;

    // The dead worker had claimed the handoff as the job that carries this reply, and stored the credential.
    const message = reply(h.thread, code, `${h.thread.slice(6)}.0000000000000002`);
    const jobId = inboundJobId(message);
    const credentialId = newId('credential');
    const engine = bridge.bridge.engine;
    expect(
      (
        await engine.store.transition(h.id, {
          to: 'claiming',
          from: ['awaiting_human'],
          set: { claimedBy: jobId, credentialId },
        })
      ).ok,
    ).toBe(true);
    await engine.credentials.put(
      {
        id: credentialId,
        handoffId: h.id,
        service: `${bridge.url}/sandbox`,
        protocol: 'agent-sessions',
        scopes: session.scopes,
        agentId: 'claims',
        thread: h.thread,
        createdAt: Date.now(),
      },
      {
        accessToken: session.access_token,
        refreshToken: session.refresh_token,
        tokenType: 'Bearer',
        scopes: session.scopes,
        expiresAt: session.access_expires_at,
        sessionId: session.id,
      },
    );

    // The job runs again (BullMQ's stalled-job recovery does this after a crash).
    await bridge.bridge.sink(message);
    await waitFor('completed', async () => (await bridge.api.getHandoff(h.id)).status === 'completed');
    const exchanges = bridge.sandbox!.state.successfulExchanges.get(h.secret.authRequestId);
    expect(exchanges).toBe(1);
    const credential = await bridge.api.retrieveCredential(h.id);
    const me = await fetch(`${bridge.url}/sandbox/api/me`, {
      headers: { authorization: `Bearer ${credential.accessToken}` },
    });
    expect(me.status).toBe(200);
  });

  it('finishes with the stored credential when a dead worker stored it and its claim was released', async () => {
    const h = await waitingHandoff();
    const code = await bridge.approve(h.approvalUrl);
    const session = (await exchangeBehindTheBridgesBack(h.secret, code)).agent_session;
    const engine = bridge.bridge.engine;
    const credentialId = newId('credential');
    const claimed = await engine.store.transition(h.id, {
      to: 'claiming',
      from: ['awaiting_human'],
      set: { claimedBy: 'in-dead-worker', credentialId },
    });
    expect(claimed.ok).toBe(true);
    await engine.credentials.put(
      {
        id: credentialId,
        handoffId: h.id,
        service: `${bridge.url}/sandbox`,
        protocol: 'agent-sessions',
        scopes: session.scopes,
        agentId: 'claims',
        thread: h.thread,
        createdAt: Date.now(),
      },
      {
        accessToken: session.access_token,
        tokenType: 'Bearer',
        scopes: session.scopes,
        refreshToken: session.refresh_token,
        expiresAt: session.access_expires_at,
      },
      session.access_expires_at - 60_000,
    );
    // The dead worker stored it as a claim does: filed for its refresh in the same write.
    const refreshIndex = createKeys(bridge.prefix).credentialsRefreshDue();
    const refreshAt = await redis.zscore(refreshIndex, credentialId);
    expect(Number(refreshAt)).toBe(session.access_expires_at - 60_000);
    // The driver released the claim (its lease ran out): the record keeps the credential id.
    const released = await engine.store.transition(h.id, {
      to: 'awaiting_human',
      from: ['claiming'],
      set: { claimedBy: undefined },
    });
    expect(released.ok && released.record.credentialId).toBe(credentialId);

    // A new answer takes a new claim, which must still look for the stored credential.
    await bridge.reply(h.thread, 'alice', code);
    await waitFor('completed', async () => (await bridge.api.getHandoff(h.id)).status === 'completed');
    expect(bridge.sandbox!.state.successfulExchanges.get(h.secret.authRequestId)).toBe(1);
    expect((await engine.store.get(h.id))?.credentialId).toBe(credentialId);
    // The claim that finished it left its filing as it was.
    expect(await redis.zscore(refreshIndex, credentialId)).toBe(refreshAt);
  });

  it('releases a claim abandoned by a dead worker, so the human can answer again', async () => {
    const h = await waitingHandoff();
    const engine = bridge.bridge.engine;
    expect(
      (
        await engine.store.transition(h.id, {
          to: 'claiming',
          from: ['awaiting_human'],
          set: { claimedBy: 'in-dead-worker' },
        })
      ).ok,
    ).toBe(true);
    offsetMs = 61_000; // a minute later nobody has finished the claim
    try {
      await engine.jobs.wake(h.id);
      await waitFor('released', async () => (await bridge.api.getHandoff(h.id)).status === 'awaiting_human');
    } finally {
      offsetMs = 0;
    }
    const code = await bridge.approve(h.approvalUrl);
    await bridge.reply(h.thread, 'alice', code);
    await waitFor('completed', async () => (await bridge.api.getHandoff(h.id)).status === 'completed');
  });
});
