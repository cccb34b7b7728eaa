import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent } from '../helpers/agent.js';
import { startSandboxServer } from '../helpers/sandbox-server.js';
import { startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue #11, finding 4 (the email part): an agent named `@ceo` as approver of a login to its
 * own auth.md service; the bridge looked the CEO up in Slack's directory and registered with
 * the CEO's email — so any agent could learn anyone's address. A directory email now goes to
 * a service only when the request named that very email, or the operator lists the service's
 * origin in HANDOFF_APPROVER_EMAIL_SERVICES; holding it back is audited.
 */
const ceo = { id: 'U0CEO00001', name: 'ceo', realName: 'The Chief', email: 'ceo@corp.example' } as const;

describe('an approver’s directory email and untrusted services', () => {
  // Two auth.md services that log agents in only by emailing the approver (verified_email).
  let evil: Awaited<ReturnType<typeof startSandboxServer>>;
  let trusted: Awaited<ReturnType<typeof startSandboxServer>>;
  let h: SlackTestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    evil = await startSandboxServer(
      { serviceName: 'Evil Notes', protocols: ['authmd'], authmdTypes: ['identity_assertion'] },
      '/notes',
    );
    trusted = await startSandboxServer(
      { serviceName: 'Corp Notes', protocols: ['authmd'], authmdTypes: ['identity_assertion'] },
      '/notes',
    );
    h = await startSlackTestBridge('dir-email', {
      env: { HANDOFF_APPROVER_EMAIL_SERVICES: `http://localhost:1,${trusted.origin}` },
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

  const everythingEvilSaw = () =>
    JSON.stringify([...evil.sandbox.authmd.registrations.values(), evil.sandbox.authmd.mailbox]);

  it('does not send the CEO’s directory email to a service nobody allowed; the login fails saying why, and the bridge audits it', async () => {
    const thread = h.newThread();
    const job = await agent.run(thread, ['@ceo'], 'agent-phish', evil.url);
    await expect(job.waitUntilFinished(agent.events, 20_000)).rejects.toThrow(
      /approver_email_required|emailing the approver/,
    );
    expect(everythingEvilSaw()).not.toContain(ceo.email);
    expect(evil.sandbox.authmd.mailbox).toHaveLength(0);

    const view = (await h.bridge.api.listHandoffs({ limit: 50 })).find((v) => v.thread === thread)!;
    expect(view.error?.code).toBe('approver_email_required');
    expect(view.error?.message).toContain('HANDOFF_APPROVER_EMAIL_SERVICES');
    const entries = await h.bridge.bridge.engine.audit.recent(100, view.id);
    expect(entries.find((e) => e.event === 'approver.email_withheld')?.detail).toEqual({ service: evil.origin });
    expect(JSON.stringify(entries)).not.toContain(ceo.email);
  });

  it('sends it when the request named that very email as the approver', async () => {
    const thread = h.newThread();
    await agent.run(thread, [ceo.email], 'agent-named', evil.url);
    await waitFor(
      'the email at the service',
      () => evil.sandbox.authmd.mailbox.find((m) => m.to === ceo.email),
      15_000,
    );
  });

  it('sends it to a service whose origin the operator allows', async () => {
    const thread = h.newThread();
    await agent.run(thread, ['@ceo'], 'agent-corp', trusted.url);
    await waitFor(
      'the email at the allowed service',
      () => trusted.sandbox.authmd.mailbox.find((m) => m.to === ceo.email),
      15_000,
    );
    await waitFor('the thread told', () => h.botTexts(thread).find((t) => t.includes('c***@corp.example')));
  });
});
