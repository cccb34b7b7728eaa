import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxCibaClient } from '../../src/sandbox/ciba-state.js';
import { startTestAgent } from '../helpers/agent.js';
import { startSandboxServer } from '../helpers/sandbox-server.js';
import { startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * CIBA sends the approver's email to the authorization server as `login_hint`, so it follows
 * the directory-email rule of auth.md's email flows: an email found in the platform directory
 * goes only to a service the operator lists in HANDOFF_APPROVER_EMAIL_SERVICES (or when the
 * request named that email); holding it back fails the login `approver_email_required` and
 * is audited. An agent cannot use a CIBA server of its own to learn anyone's address.
 */
const ceo = { id: 'U0CEO00002', name: 'ceo', realName: 'The Chief', email: 'ceo@corp.example' } as const;

describe('CIBA and an approver’s directory email', () => {
  let evil: Awaited<ReturnType<typeof startSandboxServer>>;
  let trusted: Awaited<ReturnType<typeof startSandboxServer>>;
  let h: SlackTestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;
  const client = `${sandboxCibaClient.clientId}:${sandboxCibaClient.secret}`;

  beforeAll(async () => {
    evil = await startSandboxServer({ serviceName: 'Evil Ledger', protocols: ['ciba'] }, '/ledger');
    trusted = await startSandboxServer({ serviceName: 'Corp Ledger', protocols: ['ciba'] }, '/ledger');
    h = await startSlackTestBridge('ciba-dir', {
      env: {
        HANDOFF_APPROVER_EMAIL_SERVICES: trusted.origin,
        HANDOFF_CIBA_CLIENTS: `${evil.origin}=${client},${trusted.origin}=${client}`,
      },
    });
    h.slack.addUser(ceo);
    agent = await startTestAgent(h.bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
    await evil?.close();
    await trusted?.close();
  });

  it('does not send the CEO’s directory email to a CIBA server nobody allowed; fails saying why, audited', async () => {
    const thread = h.newThread();
    const job = await agent.run(thread, ['@ceo'], 'agent-phish', evil.url);
    await expect(job.waitUntilFinished(agent.events, 20_000)).rejects.toThrow(/approver_email_required|approverEmail/);
    expect(evil.sandbox.ciba.requests.size).toBe(0);
    expect(JSON.stringify(evil.sandbox.state.calls)).not.toContain(ceo.email);
    const view = (await h.bridge.api.listHandoffs({ limit: 50 })).find((v) => v.thread === thread)!;
    expect(view.error?.code).toBe('approver_email_required');
    expect(view.error?.message).toContain('HANDOFF_APPROVER_EMAIL_SERVICES');
    const entries = await h.bridge.bridge.engine.audit.recent(100, view.id);
    expect(entries.find((e) => e.event === 'approver.email_withheld')?.detail).toEqual({ service: evil.origin });
  });

  it('sends it as login_hint to a CIBA server whose origin the operator allows', async () => {
    const thread = h.newThread();
    await agent.run(thread, ['@ceo'], 'agent-corp', trusted.url);
    await waitFor(
      'the request for the CEO at the allowed server',
      () => [...trusted.sandbox.ciba.requests.values()].find((r) => r.email === ceo.email),
      15_000,
    );
  });
});
