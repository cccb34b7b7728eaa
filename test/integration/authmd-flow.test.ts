import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLoginSecret } from '../../src/engine/login-secret.js';
import type { Registration } from '../../src/sandbox/authmd-state.js';
import { botTexts, requestIn, startTestAgent } from '../helpers/agent.js';
import { claimOnSandbox, codeFromMailbox } from '../helpers/sandbox-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * auth.md end to end: an agent job asks (protocol "auto"), the bridge discovers auth.md,
 * posts what the approver must do in the local thread, the approver claims in the sandbox's
 * browser page or mailbox and answers in the thread, the agent resumes with a credential the
 * service accepts. Then every error path of docs/protocols.md ("auth.md"), over real HTTP and BullMQ.
 */
describe('auth.md logins through the thread (real Redis, real BullMQ, sandbox over HTTP)', () => {
  let bridge: TestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;
  const notes = () => `${bridge.url}/sandbox/authmd`;
  const anon = () => `${bridge.url}/sandbox/anon`;
  const email = (label: string) => `${label}-${Math.random().toString(16).slice(2, 8)}@example.com`;

  beforeAll(async () => {
    bridge = await startTestBridge('authmd', {
      sandbox: { otpTtlMs: 60_000 },
      extraSandboxes: [
        {
          base: '/sandbox/anon',
          options: { serviceName: 'Sandbox Keys', protocols: ['authmd'], authmdTypes: ['anonymous'] },
        },
      ],
    });
    agent = await startTestAgent(bridge);
  });
  afterAll(async () => {
    await agent.close();
    await bridge.close();
  });

  const authmd = (base = '/sandbox/authmd') => bridge.sandboxes.get(base)!.authmd;
  const registrationOf = (url: string): Registration => authmd().registrations.get(url.split('/').pop()!)!;

  it('user_claimed: the claim link is posted, the approver claims in the browser and pastes the finish code', async () => {
    const thread = freshThread('claimed');
    const job = await agent.run(thread, ['alice'], 'agent-notes', notes());
    const request = await requestIn(bridge, thread);
    expect(request.text).toMatch(/log in to 127\.0\.0\.1:\d+ \(calls itself “Sandbox Notes”\)/);
    expect(request.url).toMatch(/\/sandbox\/authmd\/claim\/reg_[0-9a-f]+$/);
    expect(request.text).toContain('paste the finish code');

    const code = await claimOnSandbox(request.url, 'alice@example.com');
    await bridge.reply(thread, 'alice', `here it is: \`${code}\``);
    const result = await job.waitUntilFinished(agent.events, 20_000);
    expect(result).toMatchObject({
      status: 200,
      me: { account: { email: 'alice@example.com' }, agent_id: 'agent-notes' },
    });
    const view = await bridge.api.getHandoff(request.handoffId);
    expect(view).toMatchObject({
      status: 'completed',
      protocol: 'authmd',
      protocolVersion: '0.1',
      serviceName: 'Sandbox Notes',
      answer: 'finish_code',
    });
    expect((await botTexts(bridge, thread)).join('\n')).not.toContain(code);
  });

  it('verified email: the service emails the approver, the thread says so, the 6-digit code finishes it', async () => {
    const thread = freshThread('email');
    const to = email('bea');
    const job = await agent.run(thread, ['bea'], 'agent-mail', notes(), { approverEmail: to });
    const request = await requestIn(bridge, thread);
    expect(request.text).toMatch(/The service has emailed b\*\*\*@example\.com a link/);
    expect(request.text).toContain('Reply here with the one-time code from the email.');
    expect(request.text).not.toContain(to);

    const otp = await codeFromMailbox(notes(), to);
    await bridge.reply(thread, 'bea', `the code is ${otp.slice(0, 3)} ${otp.slice(3)}`);
    const result = await job.waitUntilFinished(agent.events, 20_000);
    expect(result).toMatchObject({ status: 200, me: { account: { email: to } } });
  });

  it('anonymous + claim: a low-scope key at once, upgraded in place when the approver claims', async () => {
    const thread = freshThread('anon');
    const to = email('cy');
    const job = await agent.run(thread, ['cy'], 'agent-anon', anon(), { approverEmail: to });
    const request = await requestIn(bridge, thread);
    expect(request.text).toContain(
      'The service issued a low-scope key at once; claiming it grants notes:read, notes:write.',
    );
    const registration = [...authmd('/sandbox/anon').registrations.values()].find((r) => r.email === to)!;
    const session = bridge.sandboxes.get('/sandbox/anon')!.state.sessions.get(registration.sessionId!)!;
    expect(session.scopes).toEqual(['notes:read']);

    await bridge.reply(thread, 'cy', await codeFromMailbox(anon(), to));
    const result = await job.waitUntilFinished(agent.events, 20_000);
    expect(result).toMatchObject({
      status: 200,
      me: { account: { email: to }, scopes: ['notes:read', 'notes:write'], session_id: session.id },
    });
  });

  it('otp_invalid counts an attempt and asks to re-read; the right code still works', async () => {
    const thread = freshThread('otpbad');
    const to = email('dee');
    const job = await agent.run(thread, ['dee'], 'agent-otp', notes(), { approverEmail: to });
    const request = await requestIn(bridge, thread);
    const otp = await codeFromMailbox(notes(), to);
    const wrong = otp === '111111' ? '222222' : '111111';
    await bridge.reply(thread, 'dee', wrong);
    const notice = await waitFor('wrong-code notice', async () =>
      (await botTexts(bridge, thread)).find((t) => t.startsWith('That code did not work')),
    );
    expect(notice).toContain('re-read it carefully');
    expect(notice).toContain('attempt 1 of 5');
    expect((await bridge.api.getHandoff(request.handoffId)).attempts).toBe(1);
    await bridge.reply(thread, 'dee', otp);
    expect((await job.waitUntilFinished(agent.events, 20_000)).status).toBe(200);
  });

  it('otp_expired re-triggers the claim once and posts the new instruction; no attempt is counted', async () => {
    const thread = freshThread('otpold');
    const to = email('eve');
    const job = await agent.run(thread, ['eve'], 'agent-old', notes(), { approverEmail: to });
    const first = await requestIn(bridge, thread);
    const otp = await codeFromMailbox(notes(), to);
    // The service's clock moves past the code's life (10 minutes, in a real service).
    const registration = [...authmd().registrations.values()].find((r) => r.email === to)!;
    (registration.code as { expiresAt: number }).expiresAt = Date.now() - 1;
    const mailsBefore = authmd().mailbox.filter((m) => m.to === to).length;
    await bridge.reply(thread, 'eve', otp);

    const second = await requestIn(bridge, thread, 2);
    expect(second.handoffId).toBe(first.handoffId);
    expect(second.text).toContain('↻ The code had expired, so the service emailed e***@example.com a new link.');
    expect(authmd().mailbox.filter((m) => m.to === to).length).toBe(mailsBefore + 1);
    const view = await bridge.api.getHandoff(first.handoffId);
    expect(view).toMatchObject({ status: 'awaiting_human', attempts: 0, answer: 'email_code' });

    await bridge.reply(thread, 'eve', await codeFromMailbox(notes(), to));
    expect((await job.waitUntilFinished(agent.events, 20_000)).status).toBe(200);
  });

  it.each([
    ['claim_expired', (r: Registration): void => void (r.claimExpiresAt = Date.now() - 1)],
    ['invalid_claim_token', (r: Registration): void => void (r.claimTokenHash = 'replaced')],
  ] as const)('%s restarts registration and posts a fresh link, which then works', async (_code, spoil) => {
    const thread = freshThread('restart');
    const job = await agent.run(thread, ['fay'], 'agent-restart', notes());
    const first = await requestIn(bridge, thread);
    const code = await claimOnSandbox(first.url);
    spoil(registrationOf(first.url)); // the service voids the claim before the code arrives
    await bridge.reply(thread, 'fay', code);

    const second = await requestIn(bridge, thread, 2);
    expect(second.handoffId).toBe(first.handoffId);
    expect(second.url).not.toBe(first.url);
    expect(second.text).toContain('↻ The service no longer accepts the previous link');
    await bridge.reply(thread, 'fay', await claimOnSandbox(second.url));
    expect((await job.waitUntilFinished(agent.events, 20_000)).status).toBe(200);
    expect((await bridge.api.getHandoff(first.handoffId)).attempts).toBe(0);
  });

  it('previously_claimed after our own completion is success when the bridge holds the key (anonymous)', async () => {
    const thread = freshThread('prev');
    const to = email('gus');
    const job = await agent.run(thread, ['gus'], 'agent-prev', anon(), { approverEmail: to });
    const request = await requestIn(bridge, thread);
    const otp = await codeFromMailbox(anon(), to);
    // The bridge completed once already and lost the answer (a crash): the service has it claimed.
    const engine = bridge.bridge.engine;
    const secret = openLoginSecret(engine.vault, (await engine.store.get(request.handoffId))!)!;
    expect(
      (await engine.protocols.get('authmd').complete(secret, otp, { agentId: 'agent-prev', correlationId: 'x' })).kind,
    ).toBe('credential');

    await bridge.reply(thread, 'gus', otp);
    const result = await job.waitUntilFinished(agent.events, 20_000);
    expect(result).toMatchObject({ status: 200, me: { scopes: ['notes:read', 'notes:write'] } });
  });

  it('previously_claimed without a held credential fails clearly with exchange_lost', async () => {
    const thread = freshThread('lost');
    const job = await agent.run(thread, ['hal'], 'agent-lost', notes());
    const request = await requestIn(bridge, thread);
    const code = await claimOnSandbox(request.url);
    const engine = bridge.bridge.engine;
    const secret = openLoginSecret(engine.vault, (await engine.store.get(request.handoffId))!)!;
    await engine.protocols.get('authmd').complete(secret, code, { agentId: 'agent-lost', correlationId: 'x' });
    await bridge.reply(thread, 'hal', code);
    await expect(job.waitUntilFinished(agent.events, 20_000)).rejects.toThrow(/exchange_lost/);
    expect((await bridge.api.getHandoff(request.handoffId)).error?.code).toBe('exchange_lost');
  });

  it('retries 5xx and a malformed answer with backoff, then finishes', async () => {
    const thread = freshThread('flaky');
    const job = await agent.run(thread, ['ida'], 'agent-flaky', notes());
    const request = await requestIn(bridge, thread);
    const code = await claimOnSandbox(request.url);
    const faults = bridge.sandboxes.get('/sandbox/authmd')!.faults;
    faults.inject('/agent/claim/complete', 'error_500', 2); // absorbed by the HTTP client's retries
    faults.inject('/agent/claim/complete', 'malformed_json', 1); // a retry of the reply job
    await bridge.reply(thread, 'ida', code);
    expect((await job.waitUntilFinished(agent.events, 30_000)).status).toBe(200);
    faults.clear();
  });
});
