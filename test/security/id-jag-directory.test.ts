import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent } from '../helpers/agent.js';
import { startSandboxServer } from '../helpers/sandbox-server.js';
import { startSlackTestBridge, type SlackTestBridge } from '../helpers/slack-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The bridge vouches for a person with an ID-JAG only as the platform knows them: the one
 * named approver's directory email, at a service on HANDOFF_ID_JAG_SERVICES. An email that is
 * only the agent's word (here the CEO's, while a colleague is named) is never asserted, and the
 * agent is let in only after the approver's "done" in the thread.
 */
const ida = { id: 'U0IDA00001', name: 'ida', realName: 'Ida', email: 'ida@corp.example' } as const;
const issuer = 'https://handoff.corp.example';

describe('ID-JAGs through the engine: only for the named approver the directory knows', () => {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let service: Awaited<ReturnType<typeof startSandboxServer>>;
  let h: SlackTestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    service = await startSandboxServer(
      { serviceName: 'Corp Tasks', protocols: ['authmd'], variant: '0.6', idJagIssuers: { [issuer]: keys.publicKey } },
      '/tasks',
    );
    h = await startSlackTestBridge('idjag-dir', {
      env: {
        HANDOFF_APPROVER_EMAIL_SERVICES: service.origin,
        HANDOFF_ID_JAG_ISSUER: issuer,
        HANDOFF_ID_JAG_KEY: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        HANDOFF_ID_JAG_SERVICES: service.origin,
      },
    });
    h.slack.addUser(ida);
    agent = await startTestAgent(h.bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
    await service?.close();
  });

  const asserted = () =>
    [...service.sandbox.authmdLines!.registrations.values()].filter((r) => r.status === 'claimed').map((r) => r.email);

  it('registers with an ID-JAG for @ida’s directory email, and lets the agent in on her "done"', async () => {
    const thread = h.newThread();
    const job = await agent.run(thread, ['@ida'], 'agent-idjag', service.url);
    await waitFor('the ID-JAG registration', () => asserted().includes(ida.email), 15_000);
    const { handoffId } = await h.threadApproval(thread);
    expect((await h.bridge.api.getHandoff(handoffId)).status).toBe('awaiting_human');
    await h.reply(thread, ida.id, 'done');
    await job.waitUntilFinished(agent.events, 20_000);
    expect((await h.bridge.api.getHandoff(handoffId)).status).toBe('completed');
  });

  it('never asserts an email that is only the agent’s word', async () => {
    const thread = h.newThread();
    await agent.run(thread, ['@ida'], 'agent-liar', service.url, { approverEmail: 'ceo@corp.example' });
    await waitFor(
      'a registration for the named email',
      () => [...service.sandbox.authmdLines!.registrations.values()].find((r) => r.email === 'ceo@corp.example'),
      15_000,
    );
    expect(asserted()).not.toContain('ceo@corp.example');
  });
});
