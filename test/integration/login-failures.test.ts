import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botTexts, requestIn, startTestAgent } from '../helpers/agent.js';
import { claimOnSandbox } from '../helpers/sandbox-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Logins that cannot finish say so in the thread and to the agent, with a specific code: a
 * service that speaks no protocol the bridge knows, and a service that keeps failing while a
 * code is checked (after the retries run out).
 */
describe('logins that cannot finish (real Redis, real BullMQ, sandbox over HTTP)', () => {
  let bridge: TestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;

  beforeAll(async () => {
    bridge = await startTestBridge('failures', {
      extraSandboxes: [{ base: '/sandbox/none', options: { serviceName: 'Sandbox Nothing', protocols: [] } }],
    });
    agent = await startTestAgent(bridge);
  });
  afterAll(async () => {
    await agent.close();
    await bridge.close();
  });

  it('a service with no supported login: the handoff fails with no_supported_login naming what was found', async () => {
    const thread = freshThread('none');
    const job = await agent.run(thread, ['alice'], 'agent-none', `${bridge.url}/sandbox/none`);
    await expect(job.waitUntilFinished(agent.events, 20_000)).rejects.toThrow(/no_supported_login/);
    const failure = await waitFor('the failure notice', async () =>
      (await botTexts(bridge, thread)).find((t) => t.startsWith('❌')),
    );
    expect(failure).toContain(`${bridge.url}/sandbox/none offers no login the bridge speaks`);
    expect(failure).toContain('no agent_auth block; no device_authorization_endpoint');
    const [view] = (await bridge.api.listHandoffs({ limit: 20 })).filter((h) => h.thread === thread);
    expect(view).toMatchObject({ status: 'failed', protocol: 'auto', error: { code: 'no_supported_login' } });
  });

  it('a service that keeps answering 500 while the code is checked: retried with backoff, then a clear failure', async () => {
    const thread = freshThread('down');
    const job = await agent.run(thread, ['bo'], 'agent-down', `${bridge.url}/sandbox/authmd`);
    const request = await requestIn(bridge, thread);
    const code = await claimOnSandbox(request.url);
    const sandbox = bridge.sandboxes.get('/sandbox/authmd')!;
    sandbox.faults.inject('/agent/claim/complete', 'error_500', 1_000);
    const callsBefore = sandbox.state.calls.filter((c) => c.path.endsWith('/agent/claim/complete')).length;
    await bridge.reply(thread, 'bo', code);

    // Six attempts of the reply job (1 + 2 + 4 + 8 + 16 s of backoff), each with the HTTP
    // client's own retries; then the handoff fails instead of going quiet.
    await expect(job.waitUntilFinished(agent.events, 90_000)).rejects.toThrow(/service_unavailable/);
    const failure = await waitFor('the failure notice', async () =>
      (await botTexts(bridge, thread)).find((t) => t.startsWith('❌')),
    );
    expect(failure).toMatch(/answered 500.*The bridge gave up checking the code\./);
    const calls = sandbox.state.calls.filter((c) => c.path.endsWith('/agent/claim/complete')).length - callsBefore;
    expect(calls).toBe(6 * 3);
    sandbox.faults.clear();
  }, 120_000);
});
