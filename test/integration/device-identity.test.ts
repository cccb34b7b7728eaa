import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { createDeviceProtocol } from '../../src/login/device.js';
import { createServiceDiscovery } from '../../src/login/discovery.js';
import { loginProtocols } from '../../src/main.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { developmentPolicy } from '../helpers/network.js';

/**
 * Who approved a device login, from what an OAuth server says about the account: the token
 * answer's id_token (claims checked by oauth4webapi: issuer, audience, expiry), else userinfo.
 * A loopback authorization server whose every answer the test chooses.
 */
const clientId = 'bridge-client';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('device logins say who approved (id_token, userinfo)', () => {
  let server: FakeServer;
  let idToken: (origin: string) => Record<string, unknown> | undefined;
  let userinfo: Record<string, unknown> | undefined;
  let advertiseUserinfo = true;

  beforeAll(async () => {
    server = await startFakeServer((req, res, path) => {
      const origin = server.origin;
      if (path === '/api')
        return sendJson(
          res,
          401,
          {},
          { 'www-authenticate': `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource"` },
        );
      if (path === '/.well-known/oauth-protected-resource')
        return sendJson(res, 200, { resource: `${origin}/api`, authorization_servers: [origin] });
      if (path === '/.well-known/oauth-authorization-server') {
        return sendJson(res, 200, {
          issuer: origin,
          device_authorization_endpoint: `${origin}/device`,
          token_endpoint: `${origin}/token`,
          ...(advertiseUserinfo ? { userinfo_endpoint: `${origin}/userinfo` } : {}),
        });
      }
      if (path === '/device')
        return sendJson(res, 200, {
          device_code: 'dc-1',
          user_code: 'BCDF-GHJK',
          verification_uri: `${origin}/activate`,
          expires_in: 600,
          interval: 1,
        });
      if (path === '/token') {
        const claims = idToken(origin);
        // The signature is not checked (OIDC Core §3.1.3.7: straight from the token endpoint).
        const jwt = claims ? `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.c2lnbmF0dXJl` : undefined;
        return sendJson(res, 200, {
          access_token: 'at-1',
          token_type: 'Bearer',
          expires_in: 3600,
          ...(jwt ? { id_token: jwt } : {}),
        });
      }
      if (path === '/userinfo')
        return userinfo ? sendJson(res, 200, userinfo) : sendJson(res, 403, { error: 'insufficient_scope' });
      return sendJson(res, 404, {});
    });
  });
  afterAll(async () => server?.close());

  async function poll() {
    const http = createServiceHttp({ policy: developmentPolicy, backoffMs: 5 });
    const discovery = createServiceDiscovery({
      protocols: loginProtocols,
      http,
      cacheTtlMs: 0,
      clock: systemClock,
      policy: developmentPolicy,
    });
    const protocol = createDeviceProtocol({
      http,
      discovery,
      clock: systemClock,
      clientId: () => clientId,
      policy: developmentPolicy,
    });
    const ctx = { agentId: 'a', correlationId: 'c' };
    const started = await protocol.start({
      ...ctx,
      handoffId: 'hf_1',
      service: `${server.origin}/api`,
      scopes: ['openid', 'email'],
      label: 'test',
    });
    return protocol.poll!(started.secret, ctx);
  }
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (origin: string, extra: Record<string, unknown>) => ({
    iss: origin,
    aud: clientId,
    sub: 'user-7',
    iat: now(),
    exp: now() + 300,
    ...extra,
  });

  it('reads a verified email from the id_token', async () => {
    idToken = (origin) => claims(origin, { email: 'Alice@Example.com', email_verified: true });
    userinfo = undefined;
    expect(await poll()).toMatchObject({
      kind: 'credential',
      approvedBy: { source: 'id_token', email: 'alice@example.com', subject: 'user-7' },
    });
  });

  it('asks userinfo when the id_token’s email is unverified, and keeps the subject consistent', async () => {
    idToken = (origin) => claims(origin, { email: 'alice@example.com', email_verified: false });
    userinfo = { sub: 'user-7', email: 'carol@example.com', email_verified: true };
    expect(await poll()).toMatchObject({
      kind: 'credential',
      approvedBy: { source: 'userinfo', email: 'carol@example.com' },
    });
    // Userinfo about another subject than the id_token's is not believed.
    userinfo = { sub: 'someone-else', email: 'mallory@example.com', email_verified: true };
    const other = await poll();
    expect(other.kind === 'credential' ? other.approvedBy : other).toEqual({ source: 'id_token', subject: 'user-7' });
  });

  it('reports nobody when the server says nothing usable (no id_token, userinfo refused or not advertised)', async () => {
    idToken = () => undefined;
    userinfo = undefined;
    const refused = await poll();
    expect(refused.kind === 'credential' ? refused.approvedBy : refused).toBeUndefined();
    advertiseUserinfo = false;
    userinfo = { sub: 'u', email: 'x@example.com' };
    const silent = await poll();
    expect(silent.kind === 'credential' ? silent.approvedBy : silent).toBeUndefined();
    advertiseUserinfo = true;
  });

  it('does not take an id_token minted for another client', async () => {
    idToken = (origin) => ({
      ...claims(origin, { email: 'alice@example.com', email_verified: true }),
      aud: 'someone-elses-client',
    });
    await expect(poll()).rejects.toMatchObject({ code: 'service_malformed_response' });
  });
});
