import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { startHangingServer, type HangingServer } from '../fakes/services/hanging-server.js';
import { botTexts, requestIn } from '../helpers/agent.js';
import { freshThread, startTestBridge, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue #11 item 8: discovery always ends. A service that answers 200 without asking for
 * auth, one that never answers, one whose metadata never answers, and one nobody listens for
 * each fail the handoff within the start window with a specific code; the agent reads the
 * reason in the handoff, the thread hears it too. The window is 5 s here (HANDOFF_START_TIMEOUT_MS;
 * 30 s by default) to keep the suite quick; the bound is the same rule.
 */
const windowMs = 5_000;

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('discovery that would never end (real Redis, real BullMQ)', () => {
  let bridge: TestBridge;
  let hanging: HangingServer;
  let open: FakeServer;
  let steering: FakeServer;

  beforeAll(async () => {
    hanging = await startHangingServer('127.0.0.1');
    // Answers 200 with JSON to everything, without asking for any credential.
    open = await startFakeServer((_req, res) => sendJson(res, 200, { ok: true, message: 'welcome' }));
    // A 401 whose resource metadata lives on the hanging server (same site: 127.0.0.1).
    steering = await startFakeServer((_req, res) =>
      sendJson(
        res,
        401,
        { error: 'unauthorized' },
        { 'www-authenticate': `Bearer resource_metadata="${hanging.origin}/.well-known/oauth-protected-resource"` },
      ),
    );
    bridge = await startTestBridge('hanging', { env: { HANDOFF_START_TIMEOUT_MS: String(windowMs) } });
  });
  afterAll(async () => {
    await hanging.close();
    await open.close();
    await steering.close();
    await bridge?.close();
  });

  async function failureOf(service: string) {
    const thread = freshThread('ends');
    const created = await bridge.api.createHandoff({ service, thread, agent: { id: 'agent-ends' } });
    const view = await waitFor(
      'the handoff to fail',
      async () => {
        const v = await bridge.api.getHandoff(created.id);
        return v.status === 'failed' ? v : undefined;
      },
      windowMs * 4,
    );
    const notice = await waitFor('the failure notice', async () =>
      (await botTexts(bridge, thread)).find((t) => t.startsWith('❌')),
    );
    return { view, notice, tookMs: view.updatedAt - view.createdAt };
  }

  it('a service that answers 200 without auth: no_supported_login, at once', async () => {
    const { view, notice, tookMs } = await failureOf(`${open.origin}/api`);
    expect(view.error?.code).toBe('no_supported_login');
    expect(view.error?.message).toContain(`${open.origin}/api offers no login the bridge speaks`);
    expect(view.error?.message).not.toContain('welcome');
    expect(notice).toContain('offers no login the bridge speaks');
    expect(tookMs).toBeLessThan(windowMs);
  });

  it('a service that never answers: service_timeout within the window', async () => {
    const { view, notice, tookMs } = await failureOf(`${hanging.origin}/api`);
    expect(view.error?.code).toBe('service_timeout');
    expect(view.error?.message).toContain(hanging.origin);
    expect(notice).toContain(hanging.origin);
    expect(tookMs).toBeLessThan(windowMs + 2_000);
  });

  it('a service whose metadata never answers: service_timeout within the window', async () => {
    const { view, tookMs } = await failureOf(`${steering.origin}/api`);
    expect(view.error?.code).toBe('service_timeout');
    expect(tookMs).toBeLessThan(windowMs + 2_000);
  });

  it('nobody listening: service_unreachable within the window, after retries that wait as delayed jobs', async () => {
    const service = `http://127.0.0.1:${await closedPort()}/api`;
    const { view, tookMs } = await failureOf(service);
    expect(view.error?.code).toBe('service_unreachable');
    expect(view.error?.message).toContain('ECONNREFUSED');
    expect(tookMs).toBeLessThan(windowMs + 2_000);
  });

  it('transient trouble inside the window is retried, and the login starts', async () => {
    const sandbox = bridge.sandboxes.get('/sandbox')!;
    // The client's own three tries all fail; the next start attempt, parked, succeeds.
    sandbox.faults.inject('/agent-sessions/start', 'error_500', 4);
    const thread = freshThread('flaky');
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      protocol: 'agent-sessions',
      thread,
      agent: { id: 'agent-flaky' },
    });
    await requestIn(bridge, thread, 1, windowMs * 2);
    const view = await bridge.api.getHandoff(created.id);
    expect(view.status).toBe('awaiting_human');
    expect(
      sandbox.state.calls.filter((c) => c.path.endsWith('/agent-sessions/start') && c.correlationId === created.id)
        .length,
    ).toBe(5);
    await bridge.api.cancelHandoff(created.id);
  });
});
