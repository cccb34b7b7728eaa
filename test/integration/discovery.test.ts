import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { HandoffError } from '../../src/core/errors.js';
import type { ProtocolName } from '../../src/core/login-protocol.js';
import { createNetworkPolicy } from '../../src/core/network-policy.js';
import { createServiceDiscovery } from '../../src/login/discovery.js';
import { loginProtocols } from '../../src/main.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { createJsonCache } from '../../src/store/json-cache.js';
import { createKeys } from '../../src/store/keys.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { connectTestRedis, deletePrefix, randomPrefix } from '../helpers/redis.js';
import { startSandboxes } from '../helpers/sandbox-server.js';
import { developmentPolicy } from '../helpers/network.js';

/**
 * Discovery over real HTTP: differently configured sandbox services on one origin, and the
 * metadata shapes of real services served by a fake, each answered with the right protocol
 * or a clear `no_supported_login`.
 */
const all: ProtocolName[] = ['agent-sessions', 'authmd', 'device'];
const ctx = { agentId: 'discovery-test', correlationId: 'corr-discovery' };

async function errorOf(promise: Promise<unknown>): Promise<HandoffError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof HandoffError) return err;
    throw err;
  }
  throw new Error('expected a HandoffError');
}

describe('discovery against differently configured sandbox services', () => {
  let services: Awaited<ReturnType<typeof startSandboxes>>;
  const redis = connectTestRedis();
  const prefix = randomPrefix('disc');
  const http = createServiceHttp({ policy: developmentPolicy, backoffMs: 10 });

  beforeAll(async () => {
    services = await startSandboxes([
      { base: '/analytics', options: { serviceName: 'Sandbox Analytics', protocols: ['agent-sessions'] } },
      { base: '/notes', options: { serviceName: 'Sandbox Notes', protocols: ['authmd'] } },
      { base: '/files', options: { serviceName: 'Sandbox Files', protocols: ['device'] } },
      { base: '/plain', options: { serviceName: 'Sandbox Plain', protocols: [] } },
      { base: '/bare', options: { protocols: ['agent-sessions'], metadata: false } },
    ]);
  });
  afterAll(async () => {
    await services.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  const discovery = (cacheTtlMs = 0) =>
    createServiceDiscovery({
      protocols: loginProtocols,
      http,
      cacheTtlMs,
      clock: systemClock,
      policy: developmentPolicy,
      cache: createJsonCache({ redis, keys: createKeys(prefix), namespace: 'discovery' }),
    });

  it.each([
    ['/analytics', 'agent-sessions', 'Sandbox Analytics'],
    ['/notes', 'authmd', 'Sandbox Notes'],
    ['/files', 'device', 'Sandbox Files'],
  ] as const)('%s → %s, named by its resource metadata, with its logo', async (base, protocol, name) => {
    const chosen = await discovery().choose(`${services.origin}${base}`, all, ctx);
    expect(chosen).toEqual({ protocol, serviceName: name, serviceLogoUrl: `${services.origin}${base}/logo.svg` });
  });

  it('follows the 401 challenge of the service URL, not a guess, when there is one', async () => {
    const calls = services.sandboxes.get('/notes')!.state.calls;
    const before = calls.length;
    await discovery().discover(`${services.origin}/notes`, ctx);
    const paths = calls.slice(before).map((c) => c.path);
    expect(paths[0]).toBe('/notes');
    expect(paths[1]).toBe('/.well-known/oauth-protected-resource/notes');
    expect(paths[2]).toBe('/notes/.well-known/oauth-authorization-server');
    expect(paths).toHaveLength(3);
  });

  it('finds agent sessions on a service with no metadata at all', async () => {
    const found = await discovery().discover(`${services.origin}/bare`, ctx);
    expect(found.probed).toEqual({ 'agent-sessions': true });
    expect((await discovery().choose(`${services.origin}/bare/`, all, ctx)).protocol).toBe('agent-sessions');
  });

  it('fails clearly with no_supported_login on a service with none, naming what it found', async () => {
    const err = await errorOf(discovery().choose(`${services.origin}/plain`, all, ctx));
    expect(err.code).toBe('no_supported_login');
    expect(err.retry).toBe('never');
    // The service's URL, not the name it gave itself: errors carry nothing the service wrote.
    expect(err.message).toContain(`${services.origin}/plain offers no login the bridge speaks`);
    expect(err.message).not.toContain('Sandbox Plain');
    expect(err.message).toContain('protected-resource metadata where its 401 said');
    expect(err.message).toContain('no agent_auth block');
    expect(err.message).toContain('no device_authorization_endpoint');
    expect(err.message).toMatch(/agent-sessions\/start answered 404/);
  });

  it('chooses only among the protocols the bridge speaks, asking for agent sessions when it must', async () => {
    expect((await errorOf(discovery().choose(`${services.origin}/notes`, ['device'], ctx))).code).toBe(
      'no_supported_login',
    );
    const err = await errorOf(discovery().choose(`${services.origin}/files`, ['agent-sessions'], ctx));
    expect(err.message).toMatch(/agent-sessions\/start answered 404/);
  });

  it('caches results per service URL for the configured time', async () => {
    const d = discovery(400);
    const files = services.sandboxes.get('/files')!.state.calls;
    const notes = services.sandboxes.get('/notes')!.state.calls;
    await d.discover(`${services.origin}/files`, ctx);
    const afterFirst = files.length;
    await d.discover(`${services.origin}/files`, ctx);
    expect(files.length).toBe(afterFirst); // served from Redis
    const notesBefore = notes.length;
    await d.discover(`${services.origin}/notes`, ctx); // same origin, another service: its own entry
    expect(notes.length).toBeGreaterThan(notesBefore);
    await new Promise((r) => setTimeout(r, 500));
    await d.discover(`${services.origin}/files`, ctx);
    expect(files.length).toBeGreaterThan(afterFirst); // expired: asked again
  });
});

describe('discovery reads the metadata shapes real services publish', () => {
  let fake: FakeServer;
  let asDocument: unknown;
  const fixture = (name: string): unknown =>
    JSON.parse(readFileSync(new URL(`../fixtures/discovery/${name}`, import.meta.url), 'utf8'));
  /** The real document with every absolute URL moved onto the fake's origin, as if the provider served it there. */
  const rehosted = (doc: unknown): unknown =>
    JSON.parse(JSON.stringify(doc), (_key, value: unknown) =>
      typeof value === 'string' && /^https?:\/\/[^/\s{}]+/.test(value)
        ? value.replace(/^https?:\/\/[^/\s]+/, fake.origin)
        : value,
    );

  beforeAll(async () => {
    // One origin for everything, as many real servers do: a 401 naming the resource metadata,
    // which names the origin as authorization server (with a trailing slash), whose RFC 8414
    // document lives at the origin. No agent sessions.
    fake = await startFakeServer((req, res, path) => {
      if (path === '/api') {
        sendJson(
          res,
          401,
          { error: 'unauthorized' },
          {
            'www-authenticate': `Bearer realm="api", resource_metadata="${fake.origin}/.well-known/oauth-protected-resource/api"`,
          },
        );
      } else if (path === '/.well-known/oauth-protected-resource/api') {
        sendJson(res, 200, {
          resource: `${fake.origin}/api`,
          resource_name: 'Real Shape',
          authorization_servers: [`${fake.origin}/`],
          extra: { x: 1 },
        });
      } else if (path === '/.well-known/oauth-authorization-server') {
        sendJson(res, 200, asDocument);
      } else {
        res.writeHead(404, { 'content-type': 'text/html' });
        res.end('<h1>Not found</h1>');
      }
    });
  });
  afterAll(async () => fake.close());

  it.each([
    ['google-openid-configuration.json', 'device'],
    ['microsoft-openid-configuration.json', 'device'],
    ['auth0-openid-configuration.json', 'device'],
    ['okta-oauth-authorization-server.json', 'device'],
    ['github-device-as.json', 'device'],
    ['device-userclaimed-as.json', 'device'],
    ['workos-authmd-as.json', 'authmd'],
    ['knowgrph-authmd-as.json', 'authmd'],
    ['fingo-authmd-as.json', 'authmd'],
    ['portfolio-authmd-as.json', 'authmd'],
    ['monoes-authmd-as.json', 'authmd'],
    ['tuist-authmd-as.json', 'authmd'],
    ['polling-authmd-as.json', 'authmd'],
    ['readback-authmd-as.json', 'authmd'],
    ['pathstash-authmd-as.json', 'no_supported_login'],
  ])('%s → %s', async (file, expected) => {
    asDocument = rehosted(fixture(file));
    expect(await outcome()).toBe(expected);
  });

  const outcome = (policy = developmentPolicy) =>
    createServiceDiscovery({
      protocols: loginProtocols,
      http: createServiceHttp({ policy, backoffMs: 10 }),
      cacheTtlMs: 0,
      clock: systemClock,
      policy,
    })
      .choose(`${fake.origin}/api`, all, ctx)
      .then(
        (chosen) => chosen.protocol as string,
        (err: HandoffError) => err.code,
      );

  it('refuses endpoints on another site than the service (the document as GitHub serves it, on a loopback service)', async () => {
    asDocument = fixture('github-device-as.json');
    expect(await outcome()).toBe('metadata_cross_site');
    // An operator can vouch for the other site.
    expect(await outcome(createNetworkPolicy({ production: false, allowedServices: ['https://github.com'] }))).toBe(
      'device',
    );
  });
});
