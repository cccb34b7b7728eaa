import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { CibaClient } from '../../src/core/config-ciba.js';
import { createCibaProtocol } from '../../src/login/ciba.js';
import type { ServiceDiscovery } from '../../src/login/discovered-service.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { developmentPolicy } from '../helpers/network.js';

/**
 * `private_key_jwt` (RFC 7523 §2.2) at a CIBA server: the bridge signs a client assertion with
 * the configured key, for the server's issuer, and sends no secret. The server here checks the
 * signature with the public key, as a real one would with the client's registered JWKS.
 */
describe('CIBA with private_key_jwt', () => {
  let server: FakeServer;
  const forms: URLSearchParams[] = [];
  beforeAll(async () => {
    server = await startFakeServer(async (req, res, path) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      forms.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      if (path === '/bc-authorize') return sendJson(res, 200, { auth_req_id: 'req-42', expires_in: 120 });
      sendJson(res, 400, { error: 'authorization_pending' });
    });
  });
  afterAll(async () => server?.close());

  it.each([
    ['RSA', () => generateKeyPairSync('rsa', { modulusLength: 2048 }), 'RS256'],
    ['EC P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'ES256'],
  ])('signs a client assertion with an %s key that the server can verify', async (_kind, pair, alg) => {
    const { privateKey, publicKey } = pair();
    const clients: Record<string, CibaClient> = {
      [server.origin]: {
        clientId: 'handoff-jwt',
        kind: 'private_key',
        keyPath: '/run/secrets/ciba.pem',
        pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    };
    const discovery: ServiceDiscovery = {
      discover: async (url) => ({
        service: url,
        findings: [],
        ciba: {
          issuer: server.origin,
          backchannelAuthenticationEndpoint: `${server.origin}/bc-authorize`,
          tokenEndpoint: `${server.origin}/token`,
          authMethods: ['private_key_jwt'],
          signingAlgs: ['RS256', 'ES256'],
        },
      }),
    };
    const protocol = createCibaProtocol({
      http: createServiceHttp({ policy: developmentPolicy }),
      discovery,
      clock: systemClock,
      policy: developmentPolicy,
      clients,
    });
    const ctx = { agentId: 'a1', correlationId: 'c1' };
    const started = await protocol.start({
      ...ctx,
      handoffId: 'hf_1',
      service: server.origin,
      scopes: [],
      label: 't',
      approverEmail: 'alice@example.com',
    });
    expect(await protocol.poll!(started.secret, ctx)).toMatchObject({ kind: 'pending' });
    const sent = forms.splice(0); // the backchannel request and the poll
    expect(sent).toHaveLength(2);
    for (const form of sent) {
      expect(form.get('client_secret')).toBeNull();
      expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      const [header, payload, signature] = form.get('client_assertion')!.split('.') as [string, string, string];
      const h = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg: string };
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      expect(h.alg).toBe(alg);
      expect(claims).toMatchObject({ iss: 'handoff-jwt', sub: 'handoff-jwt' });
      expect([claims.aud].flat()).toContain(server.origin);
      const ok = verify(
        'sha256',
        Buffer.from(`${header}.${payload}`),
        { key: createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })), dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature, 'base64url'),
      );
      expect(ok).toBe(true);
    }
  });
});
