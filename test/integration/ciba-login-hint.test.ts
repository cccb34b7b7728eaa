import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { CibaLoginHint } from '../../src/core/config-ciba-hints.js';
import type { HandoffError } from '../../src/core/errors.js';
import { createCibaProtocol } from '../../src/login/ciba.js';
import type { ServiceDiscovery } from '../../src/login/discovered-service.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { developmentPolicy } from '../helpers/network.js';

/**
 * CIBA `login_hint` as Auth0 deploys it: a JSON string `{"format":"iss_sub","iss":"https://TENANT/","sub":"auth0|…"}`
 * (the auth0 SDK's getLoginHint), not an email. A fake server on loopback accepts only that
 * shape for its own issuer and a user it knows, as an Auth0 tenant does; the bridge sends it
 * when HANDOFF_CIBA_LOGIN_HINTS maps the approver, and nothing at all when it does not.
 */
const bodies: string[] = [];
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('CIBA login_hint in Auth0’s iss_sub format', () => {
  let tenant: FakeServer;
  const issuer = () => `${tenant.origin}/`;
  beforeAll(async () => {
    tenant = await startFakeServer(async (req, res, path) => {
      const body = await readBody(req);
      bodies.push(body);
      if (path !== '/bc-authorize') return sendJson(res, 404, {});
      let hint: unknown;
      try {
        hint = JSON.parse(new URLSearchParams(body).get('login_hint') ?? '');
      } catch {
        hint = undefined;
      }
      const h = hint as { format?: unknown; iss?: unknown; sub?: unknown } | undefined;
      if (h?.format !== 'iss_sub' || h.iss !== issuer() || h.sub !== 'auth0|65f0ida')
        return sendJson(res, 400, { error: 'invalid_request', error_description: 'login_hint must be iss_sub' });
      return sendJson(res, 200, { auth_req_id: 'req-auth0', expires_in: 300, interval: 5 });
    });
  });
  afterAll(async () => tenant?.close());
  beforeEach(() => {
    bodies.length = 0;
  });

  const protocol = (loginHints?: Record<string, CibaLoginHint>) => {
    const discovery: ServiceDiscovery = {
      discover: async (url) => ({
        service: url,
        findings: [],
        ciba: {
          issuer: issuer(),
          backchannelAuthenticationEndpoint: `${tenant.origin}/bc-authorize`,
          tokenEndpoint: `${tenant.origin}/oauth/token`,
          authMethods: ['client_secret_post'],
          signingAlgs: [],
        },
      }),
    };
    return createCibaProtocol({
      http: createServiceHttp({ policy: developmentPolicy, backoffMs: 10, retries: 0 }),
      discovery,
      clock: systemClock,
      policy: developmentPolicy,
      clients: { [tenant.origin]: { clientId: 'handoff', kind: 'secret', secret: 'tenant-secret-123' } },
      ...(loginHints ? { loginHints } : {}),
    });
  };
  const mapping = (): Record<string, CibaLoginHint> => ({
    [tenant.origin]: {
      format: 'iss_sub',
      mappingPath: '/etc/handoff/auth0.json',
      subjects: { 'ida@corp.example': 'auth0|65f0ida' },
    },
  });
  const start = (p: ReturnType<typeof protocol>, approverEmail = 'Ida@Corp.example') =>
    p.start({
      handoffId: 'hf_1',
      service: tenant.origin,
      scopes: [],
      agentId: 'a1',
      correlationId: 'c1',
      label: 't',
      approverEmail,
    });

  it('sends the iss_sub JSON with the metadata issuer and the mapped user id; the tenant accepts it', async () => {
    const started = await start(protocol(mapping()));
    expect(started.answer).toBe('done');
    expect(new URLSearchParams(bodies.at(-1)).get('login_hint')).toBe(
      JSON.stringify({ format: 'iss_sub', iss: issuer(), sub: 'auth0|65f0ida' }),
    );
    // Who approved stays the email (the person the bridge asked for), not the tenant's subject.
    expect((started.secret as { loginHint: string }).loginHint).toBe('ida@corp.example');
  });

  it('refuses an approver the mapping does not know before sending anything, naming no email', async () => {
    const err = (await start(protocol(mapping()), 'ceo@corp.example').catch((e: unknown) => e)) as HandoffError;
    expect(err).toMatchObject({ code: 'ciba_approver_not_mapped', status: 400 });
    expect(err.message).toContain('HANDOFF_CIBA_LOGIN_HINTS');
    expect(err.message).not.toContain('ceo@');
    expect(bodies).toHaveLength(0);
  });

  it('without a format for the tenant sends the email, which such a tenant refuses', async () => {
    const err = (await start(protocol()).catch((e: unknown) => e)) as HandoffError;
    expect(new URLSearchParams(bodies.at(-1)).get('login_hint')).toBe('Ida@Corp.example');
    expect(err.code).toBe('ciba_backchannel_authentication_request_rejected');
    expect(err.message).not.toContain('must be iss_sub');
  });
});
