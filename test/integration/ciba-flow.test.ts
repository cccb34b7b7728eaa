import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxCibaClient } from '../../src/sandbox/ciba-state.js';
import { botTexts, startTestAgent } from '../helpers/agent.js';
import { decideOnDevice } from '../helpers/ciba.js';
import { startSandboxServer } from '../helpers/sandbox-server.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * OpenID CIBA (poll mode) end to end: discovery picks CIBA for a service that speaks only it,
 * the thread says "approve on your device" with the binding message and no link, the person
 * approves (or denies) on the sandbox's stand-in device, and the bridge learns it by polling.
 * The client secret (HANDOFF_CIBA_CLIENTS) never reaches a thread, a log line or an answer.
 */
describe('CIBA logins through the thread (real Redis, real BullMQ, a CIBA server over HTTP)', () => {
  let bridge: TestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;
  let service: Awaited<ReturnType<typeof startSandboxServer>>;

  beforeAll(async () => {
    service = await startSandboxServer(
      { protocols: ['ciba'], cibaIntervalSeconds: 1, serviceName: 'Sandbox Ledger' },
      '/ledger',
    );
    bridge = await startTestBridge('ciba', {
      env: { HANDOFF_CIBA_CLIENTS: `${service.origin}=${sandboxCibaClient.clientId}:${sandboxCibaClient.secret}` },
    });
    agent = await startTestAgent(bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await bridge?.close();
    await service?.close();
  });

  const threads: string[] = [];
  const requestIn = async (thread: string) => {
    threads.push(thread);
    const text = await waitFor(`a CIBA request in ${thread}`, async () =>
      (await botTexts(bridge, thread)).find((t) => t.includes('Approve on your device')),
    );
    return {
      text,
      binding: /Handoff [A-Z0-9]{4}-[A-Z0-9]{4}/.exec(text)![0],
      handoffId: /\(handoff (hf_[0-9a-f]+)\)\s*$/.exec(text)![1]!,
    };
  };

  it('asks on the approver’s device with a binding message, no link, and finishes by polling alone', async () => {
    const thread = freshThread('ciba');
    const job = await agent.run(thread, ['alice'], 'agent-ciba', service.url, { approverEmail: 'alice@example.com' });
    const request = await requestIn(thread);
    expect(request.text).toContain('No link: the service asks the approver on their own phone');
    expect(request.text).not.toMatch(/Approve here: https?:/);
    // The device shows the same binding message the thread does.
    expect(await decideOnDevice(service.url, 'approve', 'alice@example.com', request.binding)).toBe(request.binding);
    const result = await job.waitUntilFinished(agent.events, 20_000);
    expect(result).toMatchObject({
      status: 200,
      me: { account: { email: 'alice@example.com' }, agent_id: 'agent-ciba' },
    });
    expect(await bridge.api.getHandoff(request.handoffId)).toMatchObject({
      status: 'completed',
      protocol: 'ciba',
      approvalUrl: null,
      answer: 'done',
    });
    // The sandbox saw login_hint for alice and the thread's binding message.
    const sent = [...service.sandbox.ciba.requests.values()].at(-1)!;
    expect([sent.email, sent.bindingMessage]).toEqual(['alice@example.com', request.binding]);
  });

  it('a denial on the device fails the handoff login_denied, and the thread says so', async () => {
    const thread = freshThread('deny');
    await agent.run(thread, ['alice'], 'agent-deny', service.url, { approverEmail: 'alice@example.com' });
    const request = await requestIn(thread);
    await decideOnDevice(service.url, 'deny', 'alice@example.com', request.binding);
    const failed = await waitFor('the denied handoff', async () => {
      const view = await bridge.api.getHandoff(request.handoffId);
      return view.status === 'failed' ? view : undefined;
    });
    expect(failed.error?.code).toBe('login_denied');
    const said = await waitFor('the failure in the thread', async () =>
      (await botTexts(bridge, thread)).find((t) => /denied/i.test(t) && !t.includes('Approve on your device')),
    );
    expect(said).toMatch(/denied/i);
  });

  it('never shows the client secret: not in threads, logs or API answers', async () => {
    const everything = [...bridge.logs, JSON.stringify(await bridge.api.listHandoffs({ limit: 50 }))];
    for (const thread of threads) everything.push(JSON.stringify(await bridge.messages(thread)));
    expect(threads.length).toBeGreaterThanOrEqual(2);
    expect(everything.join('\n')).not.toContain(sandboxCibaClient.secret);
    // …while the server did receive it, so the places above are where it could have leaked.
    expect(service.sandbox.state.calls.filter((c) => c.path.endsWith('/oauth/ciba-token')).length).toBeGreaterThan(0);
  });
});

/** A port nothing listens on now (the bridge below must know its own before it starts). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the CIBA sandbox as npm start mounts it (/sandbox/ciba, no HANDOFF_CIBA_CLIENTS)', () => {
  let bridge: TestBridge;
  let agent: Awaited<ReturnType<typeof startTestAgent>>;
  beforeAll(async () => {
    bridge = await startTestBridge('ciba-demo', {
      env: { PORT: String(await freePort()) },
      sandbox: { cibaIntervalSeconds: 1 },
    });
    agent = await startTestAgent(bridge);
  });
  afterAll(async () => {
    await agent?.close();
    await bridge?.close();
  });

  it('logs in with the sandbox’s own client, approved on its stand-in device', async () => {
    const thread = freshThread('demo');
    const service = `${bridge.url}/sandbox/ciba`;
    const job = await agent.run(thread, ['alice'], 'agent-demo', service, { approverEmail: 'alice@example.com' });
    const text = await waitFor('the CIBA request', async () =>
      (await botTexts(bridge, thread)).find((t) => t.includes('Approve on your device')),
    );
    await decideOnDevice(service, 'approve', 'alice@example.com', /Handoff [A-Z0-9]{4}-[A-Z0-9]{4}/.exec(text)![0]);
    expect(await job.waitUntilFinished(agent.events, 20_000)).toMatchObject({ status: 200 });
  });
});
