import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeApiError } from '../../src/client/bridge-client.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { freshThread, type TestBridge } from '../helpers/test-bridge.js';
import { waitFor } from '../helpers/wait.js';
import { startProductionBridge } from './production-bridge.js';

/**
 * Issue #11 item 3, the addresses: an agent names a service that is really an internal host,
 * in every spelling. A production bridge refuses IP spellings when the handoff is created and
 * names that resolve to internal addresses when it connects, before a single byte is sent.
 * 127.0.0.2 stands in for the internal host; it must see no connection at all.
 */
describe('SSRF by address (production bridge, only 127.0.0.1 allowlisted)', () => {
  let bridge: TestBridge;
  let internal: FakeServer;
  let port = 0;
  const resolved: string[] = [];

  beforeAll(async () => {
    internal = await startFakeServer((_req, res) => sendJson(res, 200, { secret: 'internal-only' }), {
      host: '127.0.0.2',
    });
    port = Number(new URL(internal.origin).port);
    bridge = await startProductionBridge('ssrf-addr', {
      resolve: async (host) => {
        resolved.push(host);
        if (host === 'internal.test') return ['127.0.0.2'];
        if (host === 'mixed.test') return ['127.0.0.1', '127.0.0.2'];
        if (host === 'mapped.test') return ['::ffff:127.0.0.2'];
        throw Object.assign(new Error(`no such host ${host}`), { code: 'ENOTFOUND' });
      },
    });
  });
  afterAll(async () => {
    await bridge?.close();
    await internal?.close();
  });

  async function refusal(service: string): Promise<{ status: number; code: string; message: string }> {
    try {
      await bridge.api.createHandoff({ service, thread: freshThread('ssrf'), agent: { id: 'agent-ssrf' } });
    } catch (err) {
      if (err instanceof BridgeApiError) return { status: err.status, code: err.code, message: err.message };
      throw err;
    }
    throw new Error(`${service} was accepted`);
  }

  it.each([
    [() => `http://127.0.0.2:${port}/api`, 'service_address_not_allowed'],
    [() => `https://127.0.0.2:${port}/api`, 'service_address_not_allowed'],
    [() => `https://127.2:${port}`, 'service_address_not_allowed'],
    [() => `https://2130706434:${port}`, 'service_address_not_allowed'],
    [() => `https://0x7f000002:${port}`, 'service_address_not_allowed'],
    [() => `https://0177.0.0.2:${port}`, 'service_address_not_allowed'],
    [() => `https://0x7f.0.0.2:${port}`, 'service_address_not_allowed'],
    [() => `https://[::ffff:127.0.0.2]:${port}`, 'service_address_not_allowed'],
    [() => `https://[::1]:${port}`, 'service_address_not_allowed'],
    [() => 'https://169.254.169.254/latest/meta-data/', 'service_address_not_allowed'],
    [() => 'https://0xa9fea9fe/latest/meta-data/', 'service_address_not_allowed'],
    [() => 'https://10.0.0.1/', 'service_address_not_allowed'],
    [() => 'https://100.64.0.1/', 'service_address_not_allowed'],
    [() => 'https://[fd00::1]/', 'service_address_not_allowed'],
    [() => 'https://0.0.0.0/', 'service_address_not_allowed'],
    [() => `http://localhost:${port}/api`, 'invalid_service_url'],
    [() => 'http://api.example.com/', 'invalid_service_url'],
  ])('%# refuses the service at creation with 400 %s', async (service, code) => {
    const answer = await refusal(service());
    expect(answer).toMatchObject({ status: 400, code });
    expect(internal.requests).toEqual([]);
  });

  it('refuses names that resolve to an internal address when connecting, before any byte is sent', async () => {
    for (const host of ['internal.test', 'mixed.test', 'mapped.test']) {
      const created = await bridge.api.createHandoff({
        service: `https://${host}:${port}/api`,
        thread: freshThread('ssrf'),
        agent: { id: 'agent-ssrf' },
      });
      const view = await waitFor(`${host} to fail`, async () => {
        const v = await bridge.api.getHandoff(created.id);
        return v.status === 'failed' ? v : undefined;
      });
      expect(view.error?.code).toBe('service_address_not_allowed');
      expect(view.error?.message).toContain(`https://${host}:${port}`);
      expect(view.error?.message).toContain('loopback');
    }
    expect(resolved).toEqual(expect.arrayContaining(['internal.test', 'mixed.test', 'mapped.test']));
    expect(internal.requests).toEqual([]);
  });

  it('the allowlisted service itself still works (the sandbox on 127.0.0.1)', async () => {
    const created = await bridge.api.createHandoff({
      service: `${bridge.url}/sandbox`,
      thread: freshThread('ok'),
      agent: { id: 'agent-ok' },
    });
    const view = await waitFor('awaiting_human', async () => {
      const v = await bridge.api.getHandoff(created.id);
      return v.status === 'awaiting_human' ? v : undefined;
    });
    expect(view.approvalUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/sandbox\/authorize\//);
    await bridge.api.cancelHandoff(created.id);
  });
});
