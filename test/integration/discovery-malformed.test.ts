import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { HandoffError } from '../../src/core/errors.js';
import { createServiceDiscovery } from '../../src/login/discovery.js';
import { loginProtocols } from '../../src/main.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';
import { developmentPolicy } from '../helpers/network.js';

/**
 * Hostile or broken metadata must fail discovery with a specific code, quickly, and never
 * hang it. Each case is a service at /<case> whose 401 names resource metadata at
 * /prm/<case> (so the document is one the service *advertised*).
 */
const ctx = { agentId: 'malformed-test', correlationId: 'corr-malformed' };
/** Generous: the point is "it ends", not how fast (the budget below is 1.5 s). */
const neverHangsMs = 10_000;

describe('discovery against malformed metadata', () => {
  let fake: FakeServer;
  let elsewhere: FakeServer;
  const held: ServerResponse[] = [];

  const prmFor = (name: string): ((res: ServerResponse) => void) | undefined =>
    (<Record<string, (res: ServerResponse) => void>>{
      'wrong-types': (res) => sendJson(res, 200, { resource_name: 'Broken', authorization_servers: 42 }),
      'wrong-types-as': (res) => sendJson(res, 200, { authorization_servers: [`${fake.origin}/as`] }),
      html: (res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><html><body>Welcome to our app</body></html>');
      },
      'json-labelled-html': (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('<html>oops</html>');
      },
      redirect: (res) => {
        res.writeHead(302, { location: `${elsewhere.origin}/prm` });
        res.end();
      },
      'huge-declared': (res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) });
        res.write('{"resource_name":"');
        // Never sends the rest: the declared length alone must be refused.
        held.push(res);
      },
      'huge-streamed': (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = 'x'.repeat(64 * 1024);
        res.write('{"resource_name":"');
        let sent = 0;
        const pump = () => {
          while (sent < 10 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
          if (sent < 10 * 1024 * 1024 && !res.destroyed) res.once('drain', pump);
          else res.end('"}');
        };
        pump();
      },
      silent: (res) => {
        held.push(res); // never answers
      },
      trickle: (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{');
        const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 100);
        res.on('close', () => clearInterval(timer));
      },
    })[name];

  beforeAll(async () => {
    elsewhere = await startFakeServer((_req, res) =>
      sendJson(res, 200, { authorization_servers: ['https://evil.example'] }),
    );
    fake = await startFakeServer((_req, res, path) => {
      const [, first, second] = path.split('/');
      if (first === 'prm' && second) return prmFor(second)?.(res);
      if (path === '/as/.well-known/oauth-authorization-server')
        return sendJson(res, 200, { issuer: 'x', agent_auth: { register_uri: 12 } });
      if (first && prmFor(first)) {
        return sendJson(
          res,
          401,
          { error: 'unauthorized' },
          { 'www-authenticate': `Bearer resource_metadata="${fake.origin}/prm/${first}"` },
        );
      }
      if (path.startsWith('/slowguess')) {
        // Every guess answers 404, slowly: the whole discovery must stop at its budget.
        setTimeout(() => sendJson(res, 404, { error: 'not_found' }), 400);
        return;
      }
      sendJson(res, 404, { error: 'not_found' });
    });
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    await fake.close();
    await elsewhere.close();
  });

  const discovery = () =>
    createServiceDiscovery({
      protocols: loginProtocols,
      http: createServiceHttp({ policy: developmentPolicy, maxBodyBytes: 256 * 1024, retries: 1, backoffMs: 10 }),
      cacheTtlMs: 0,
      clock: systemClock,
      policy: developmentPolicy,
      requestTimeoutMs: 500,
      totalTimeoutMs: 1_500,
    });

  async function outcome(name: string): Promise<{ code: string; retry: string; ms: number }> {
    const started = Date.now();
    try {
      await discovery().choose(`${fake.origin}/${name}`, ['agent-sessions', 'authmd', 'device'], ctx);
    } catch (err) {
      if (!(err instanceof HandoffError)) throw err;
      return { code: err.code, retry: err.retry, ms: Date.now() - started };
    }
    throw new Error(`discovery of /${name} succeeded`);
  }

  it.each([
    ['wrong-types', 'metadata_invalid', 'never'],
    ['wrong-types-as', 'metadata_invalid', 'never'],
    ['html', 'metadata_not_json', 'never'],
    ['json-labelled-html', 'metadata_not_json', 'never'],
    ['redirect', 'cross_origin_redirect', 'never'],
    ['huge-declared', 'service_response_too_large', 'never'],
    ['huge-streamed', 'service_response_too_large', 'never'],
    ['silent', 'service_timeout', 'backoff'],
    ['trickle', 'service_timeout', 'backoff'],
    ['slowguess', 'discovery_timeout', 'backoff'],
  ])('/%s fails with %s (retry: %s) and does not hang', async (name, code, retry) => {
    const result = await outcome(name);
    expect({ code: result.code, retry: result.retry }).toEqual({ code, retry });
    expect(result.ms).toBeLessThan(neverHangsMs);
  });

  it('never followed the redirect to the other origin', () => {
    expect(elsewhere.requests).toEqual([]);
  });
});
