import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSecrets } from '../../src/core/secret-patterns.js';
import { botTexts, requestIn } from '../helpers/agent.js';
import { approveOnSandbox, claimOnSandbox, decideDevice } from '../helpers/sandbox-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A credential's whole life over real HTTP and BullMQ: refreshed before it expires (the
 * refresh sweep), refreshed on the spot when handed out close to expiry, re-opened in the same thread
 * when it cannot be kept alive, listed without secrets, and revoked so the service rejects it.
 * Tokens here live 4 s and are refreshed 1 s before they expire.
 */
describe('credential lifecycle (real Redis, real BullMQ, sandbox over HTTP)', () => {
  let bridge: TestBridge;

  beforeAll(async () => {
    bridge = await startTestBridge('lifecycle', {
      env: { HANDOFF_REFRESH_BEFORE_MS: '1000' },
      sandbox: { accessTtlMs: 4_000, deviceIntervalSeconds: 1 },
    });
  });
  afterAll(async () => bridge.close());

  const service = (path: string) => `${bridge.url}${path}`;
  const accepted = async (path: string, token: string) =>
    (await fetch(`${service(path)}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status;
  const auditOf = (handoffId: string) => bridge.bridge.engine.audit.recent(200, handoffId);

  /** Logs in through a local thread the way a person would; returns the handoff and credential ids. */
  async function login(path: '/sandbox' | '/sandbox/authmd' | '/sandbox/device', thread = freshThread('life')) {
    // The device flow finishes by polling: the service names the approving account (userinfo),
    // which must be alice's for the poll to count.
    const email = path === '/sandbox/device' ? { approverEmail: 'alice@example.com' } : {};
    const created = await bridge.api.createHandoff({
      service: service(path),
      thread,
      approvers: ['alice'],
      ...email,
      agent: { id: 'agent-life' },
    });
    const request = await requestIn(bridge, thread);
    if (path === '/sandbox') await bridge.reply(thread, 'alice', await approveOnSandbox(request.url));
    else if (path === '/sandbox/authmd') await bridge.reply(thread, 'alice', await claimOnSandbox(request.url));
    else await decideDevice(request.url, 'approve');
    const view = await waitFor('completion', async () => {
      const v = await bridge.api.getHandoff(created.id);
      return v.status === 'completed' ? v : undefined;
    });
    return { handoffId: created.id, credentialId: view.credential!.id, thread };
  }

  it.each(['/sandbox', '/sandbox/device'] as const)(
    '%s: refreshes before expiry, again and again, filed for each next one by the last; the agent gets the live token',
    async (path) => {
      const { handoffId, credentialId } = await login(path);
      const first = (await bridge.bridge.engine.credentials.secret(credentialId))!;
      const refreshes = await waitFor(
        'two scheduled refreshes',
        async () => {
          const found = (await auditOf(handoffId)).filter(
            (e) => e.event === 'credential.refreshed' && e.actor === 'bridge:refresh',
          );
          return found.length >= 2 ? found : undefined;
        },
        20_000,
      );
      expect(refreshes.length).toBeGreaterThanOrEqual(2);
      const { accessToken, expiresAt } = await bridge.api.retrieveCredential(handoffId);
      expect(accessToken).not.toBe(first.accessToken);
      expect(expiresAt!).toBeGreaterThan(first.expiresAt!);
      expect(await accepted(path, accessToken)).toBe(200);
      // Agent sessions rotate: the first token is dead, and no refresh happened after expiry.
      if (path === '/sandbox') expect(await accepted(path, first.accessToken)).toBe(401);
      const [listed] = (await bridge.api.listCredentials({ agent: 'agent-life' })).filter((c) => c.id === credentialId);
      expect(listed!.refreshedAt).not.toBeNull();
    },
    30_000,
  );

  it('refreshes on the spot when a credential is handed out close to its expiry', async () => {
    const { handoffId, credentialId } = await login('/sandbox');
    const secret = (await bridge.bridge.engine.credentials.secret(credentialId))!;
    // As if the scheduled job were late: half a second left.
    await bridge.bridge.engine.credentials.replaceSecret(
      credentialId,
      { ...secret, expiresAt: Date.now() + 500 },
      Date.now(),
    );
    const handed = await bridge.api.retrieveCredential(handoffId);
    expect(handed.accessToken).not.toBe(secret.accessToken);
    expect(handed.expiresAt! - Date.now()).toBeGreaterThan(2_000);
    expect(await accepted('/sandbox', handed.accessToken)).toBe(200);
    expect((await auditOf(handoffId)).some((e) => e.event === 'credential.refreshed' && e.actor === 'admin')).toBe(
      true,
    );
  });

  it('a refused refresh re-opens nothing by itself: the login is re-opened when the agent next asks for the credential', async () => {
    const { handoffId, credentialId, thread } = await login('/sandbox');
    const sessions = bridge.sandbox!.state.sessions;
    const secret = (await bridge.bridge.engine.credentials.secret(credentialId))!;
    for (const s of sessions.values()) if (s.id === secret.sessionId) s.revoked = true; // killed at the service
    const marked = await waitFor(
      'the scheduled refresh to be refused',
      async () =>
        (await bridge.api.listCredentials({ agent: 'agent-life' })).find((c) => c.id === credentialId && c.needsLogin),
      20_000,
    );
    expect(marked.needsLogin).toBe('refresh_rejected');
    expect(await bridge.bridge.engine.credentials.secret(credentialId)).toBeUndefined();
    expect((await auditOf(handoffId)).find((e) => e.event === 'credential.dead')).toMatchObject({
      actor: 'bridge:refresh',
      detail: { reason: 'refresh_rejected' },
    });
    // Nobody is asked to approve anything while the agent does not need it.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await botTexts(bridge, thread)).filter((t) => /stopped working/.test(t))).toEqual([]);

    const res = await fetch(`${bridge.url}/v1/handoffs/${handoffId}/credential`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bridge.apiToken}` },
    });
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; reopenedHandoffId: string } };
    expect(body.error.code).toBe('credential_expired');
    const reopened = await requestIn(bridge, thread, 2, 20_000);
    expect(reopened.handoffId).toBe(body.error.reopenedHandoffId);
    expect(reopened.text).toContain(`(calls itself “Sandbox Analytics”) (handoff ${handoffId}) stopped working`);
    expect(await bridge.api.getHandoff(reopened.handoffId)).toMatchObject({
      previousHandoffId: handoffId,
      agent: { id: 'agent-life' },
      approvers: ['alice'],
    });
    expect(await bridge.bridge.engine.credentials.get(credentialId)).toBeUndefined();
    // Asking again returns the same re-opened handoff, not a third one.
    await expect(bridge.api.reportRejected(credentialId)).rejects.toMatchObject({ code: 'credential_not_found' });
  }, 30_000);

  it('a 401 after expiry re-opens the handoff in the same thread; approving again gives a working credential', async () => {
    const { handoffId, credentialId, thread } = await login('/sandbox/authmd');
    const first = (await bridge.api.retrieveCredential(handoffId)).accessToken;
    expect(await accepted('/sandbox/authmd', first)).toBe(200);
    await waitFor(
      'the service to reject the expired token',
      async () => (await accepted('/sandbox/authmd', first)) === 401,
      10_000,
    );

    // The agent hit a 401 and tells the bridge, which cannot refresh an auth.md access token.
    const report = await fetch(`${bridge.url}/v1/credentials/${credentialId}/rejected`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bridge.apiToken}` },
    });
    expect(report.status).toBe(202);
    const { handoffId: reopenedId } = (await report.json()) as { status: string; handoffId: string };
    const request = await requestIn(bridge, thread, 2);
    expect(request.handoffId).toBe(reopenedId);
    expect(request.text).toContain(`(calls itself “Sandbox Notes”) (handoff ${handoffId}) stopped working`);
    expect((await bridge.api.getHandoff(reopenedId)).previousHandoffId).toBe(handoffId);

    await bridge.reply(thread, 'alice', await claimOnSandbox(request.url));
    await waitFor(
      'the re-opened login to finish',
      async () => (await bridge.api.getHandoff(reopenedId)).status === 'completed',
    );
    expect(await accepted('/sandbox/authmd', (await bridge.api.retrieveCredential(reopenedId)).accessToken)).toBe(200);
  }, 30_000);

  it('handing out an expired credential that cannot be refreshed answers credential_expired and re-opens the login', async () => {
    const { handoffId, thread } = await login('/sandbox/authmd');
    await new Promise((r) => setTimeout(r, 4_200));
    const res = await fetch(`${bridge.url}/v1/handoffs/${handoffId}/credential`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bridge.apiToken}` },
    });
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; reopenedHandoffId: string } };
    expect(body.error.code).toBe('credential_expired');
    expect((await requestIn(bridge, thread, 2)).handoffId).toBe(body.error.reopenedHandoffId);
  }, 30_000);

  it.each(['/sandbox', '/sandbox/authmd', '/sandbox/device'] as const)(
    '%s: revoke makes the service reject the token, deletes it and says so in the thread',
    async (path) => {
      const { handoffId, credentialId, thread } = await login(path);
      const token = (await bridge.api.retrieveCredential(handoffId)).accessToken;
      expect(await accepted(path, token)).toBe(200);
      const result = await bridge.api.revokeCredential(credentialId);
      expect(result).toMatchObject({ atService: 'revoked', credential: { id: credentialId } });
      expect(await accepted(path, token)).toBe(401);
      await expect(bridge.api.retrieveCredential(handoffId)).rejects.toMatchObject({ code: 'credential_not_found' });
      expect((await bridge.api.listCredentials({ limit: 500 })).map((c) => c.id)).not.toContain(credentialId);
      const notice = await waitFor('the revoke notice', async () =>
        (await botTexts(bridge, thread)).find((t) => t.startsWith('🔒')),
      );
      expect(notice).toContain(`(from handoff ${handoffId}) was revoked by the agent API`);
      expect((await auditOf(handoffId)).find((e) => e.event === 'credential.revoked')?.detail).toMatchObject({
        credentialId,
        atService: 'revoked',
      });
      await expect(bridge.api.revokeCredential(credentialId)).rejects.toMatchObject({ code: 'credential_not_found' });
    },
  );

  it('lists credentials with service, scopes, expiry, agent and thread, and never a secret', async () => {
    const { credentialId, thread } = await login('/sandbox/authmd');
    const res = await fetch(`${bridge.url}/v1/credentials?agent=agent-life`, {
      headers: { authorization: `Bearer ${bridge.apiToken}` },
    });
    const text = await res.text();
    expect(findSecrets(text)).toEqual([]);
    const listed = (JSON.parse(text) as { credentials: Array<Record<string, unknown>> }).credentials.find(
      (c) => c.id === credentialId,
    );
    expect(listed).toMatchObject({
      service: service('/sandbox/authmd'),
      serviceName: 'Sandbox Notes',
      protocol: 'authmd',
      agentId: 'agent-life',
      thread,
      scopes: ['notes:read', 'notes:write'],
    });
    expect(typeof listed!.expiresAt).toBe('number');
    expect(Object.keys(listed!).sort()).toEqual([
      'agentId',
      'createdAt',
      'expiresAt',
      'handoffId',
      'id',
      'lastRetrievedAt',
      'needsLogin',
      'protocol',
      'refreshedAt',
      'scopes',
      'service',
      'serviceName',
      'thread',
    ]);
  });
});
