import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { enabledProtocols } from '../../src/core/config-login.js';
import { HandoffError } from '../../src/core/errors.js';
import { createServiceDiscovery } from '../../src/login/discovery.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { loginProtocols } from '../../src/main.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { developmentPolicy } from '../helpers/network.js';

/**
 * Discovery and CIBA over HTTP: a server shaped like a Keycloak realm (CIBA beside the device
 * flow) gets the device flow under "auto" (rank 20 before 25) and CIBA when the bridge speaks
 * only that; a server with CIBA in push mode only, or with endpoints on another site, does not
 * get CIBA at all, and the finding says why in the bridge's words.
 */
const ctx = { agentId: 'a1', correlationId: 'c1' };
let doc: (origin: string) => Record<string, unknown> = () => ({});

describe('discovering CIBA', () => {
  let server: FakeServer;
  beforeAll(async () => {
    server = await startFakeServer((_req, res, path) => {
      if (path === '/api') return sendJson(res, 401, { error: 'unauthorized' });
      if (path.includes('oauth-authorization-server')) return sendJson(res, 200, doc(server.origin));
      sendJson(res, 404, {});
    });
  });
  afterAll(async () => server?.close());

  const discovery = () =>
    createServiceDiscovery({
      protocols: loginProtocols,
      http: createServiceHttp({ policy: developmentPolicy, backoffMs: 10 }),
      cacheTtlMs: 0,
      clock: systemClock,
      policy: developmentPolicy,
    });
  const keycloakLike = (o: string) => ({
    issuer: o,
    token_endpoint: `${o}/protocol/openid-connect/token`,
    device_authorization_endpoint: `${o}/protocol/openid-connect/auth/device`,
    grant_types_supported: ['urn:ietf:params:oauth:grant-type:device_code', 'urn:openid:params:grant-type:ciba'],
    backchannel_token_delivery_modes_supported: ['poll', 'ping'],
    backchannel_authentication_endpoint: `${o}/protocol/openid-connect/ext/ciba/auth`,
  });

  it('prefers the device flow on a server that offers both, and chooses CIBA where the bridge speaks only it', async () => {
    doc = keycloakLike;
    const all = enabledProtocols(undefined, loginProtocols);
    expect((await discovery().choose(`${server.origin}/api`, all, ctx)).protocol).toBe('device');
    expect((await discovery().choose(`${server.origin}/api`, ['ciba', 'agent-sessions'], ctx)).protocol).toBe('ciba');
  });

  it('does not choose CIBA in push mode only, and says so in the finding', async () => {
    doc = (o) => ({
      ...keycloakLike(o),
      device_authorization_endpoint: null,
      backchannel_token_delivery_modes_supported: ['push'],
    });
    const err = await discovery()
      .choose(`${server.origin}/api`, ['ciba'], ctx)
      .catch((e: unknown) => e as HandoffError);
    expect(err).toBeInstanceOf(HandoffError);
    expect((err as HandoffError).code).toBe('no_supported_login');
    expect((err as HandoffError).message).toContain('a CIBA endpoint without poll mode');
  });

  it('refuses a backchannel endpoint on another site (the service cannot steer the bridge elsewhere)', async () => {
    doc = (o) => ({ ...keycloakLike(o), backchannel_authentication_endpoint: 'https://evil.example/bc-authorize' });
    const err = await discovery()
      .choose(`${server.origin}/api`, ['ciba'], ctx)
      .catch((e: unknown) => e as HandoffError);
    expect((err as HandoffError).code).toBe('metadata_cross_site');
    expect((err as HandoffError).message).not.toContain('evil.example');
  });
});
