import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { HandoffError } from '../../src/core/errors.js';
import { isUserCode } from '../../src/core/untrusted-text.js';
import { createDeviceProtocol } from '../../src/login/device.js';
import type { ServiceDiscovery } from '../../src/login/discovered-service.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { developmentPolicy } from '../helpers/network.js';

/**
 * Issue #11: the device flow's `user_code` is the service's text, shown to a person who types
 * it. A hostile RFC 8628 service on loopback answers with a code that is markup; the login
 * fails at once with `invalid_user_code` and nothing reaches a thread. A code in RFC 8628's
 * shape (letters and digits, dash-grouped) still works.
 */
describe('a device service that sends a hostile user_code', () => {
  let service: FakeServer;
  let userCode = '';
  beforeAll(async () => {
    service = await startFakeServer((_req, res, path) => {
      if (path !== '/device') return sendJson(res, 404, {});
      sendJson(res, 200, {
        device_code: 'dc_1',
        user_code: userCode,
        verification_uri: `${service.origin}/verify`,
        expires_in: 600,
        interval: 5,
      });
    });
  });
  afterAll(async () => service?.close());

  const protocol = () => {
    const discovery: ServiceDiscovery = {
      discover: async (url) => ({
        service: url,
        findings: [],
        device: {
          issuer: service.origin,
          deviceAuthorizationEndpoint: `${service.origin}/device`,
          tokenEndpoint: `${service.origin}/token`,
        },
      }),
    };
    return createDeviceProtocol({
      http: createServiceHttp({ policy: developmentPolicy, backoffMs: 10 }),
      discovery,
      clock: systemClock,
      clientId: () => 'c1',
      policy: developmentPolicy,
    });
  };
  const start = () =>
    protocol().start({
      handoffId: 'hf_1',
      service: service.origin,
      scopes: [],
      agentId: 'a1',
      correlationId: 'c1',
      label: 'test',
    });

  it.each([
    '[Approve](https://evil.example)',
    'WDJB-MJHT <!here>',
    '<@U0ALICE001>',
    'WDJB\n\n# MJHT',
    '\u202eTHMJ-BJDW',
    'A'.repeat(33),
  ])('refuses %j with invalid_user_code', async (code) => {
    userCode = code;
    const err = await start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HandoffError);
    expect(err).toMatchObject({ code: 'invalid_user_code', retry: 'never' });
    expect((err as Error).message).toContain('RFC 8628');
  });

  it('accepts codes in RFC 8628’s shape, and shows them as values', async () => {
    userCode = 'WDJB-MJHT';
    const started = await start();
    expect(started.userCode).toBe('WDJB-MJHT');
    for (const ok of ['WDJB-MJHT', '123456', 'ABCD EFGH', 'x7k2-p9q4-r3']) expect(isUserCode(ok), ok).toBe(true);
  });
});
