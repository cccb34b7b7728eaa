import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitedError, UpstreamError } from '../../src/core/errors.js';
import { createServiceHttp, readServiceError } from '../../src/login/service-http.js';
import { developmentPolicy } from '../helpers/network.js';

/** A real HTTP server whose behaviour each test scripts, counting the calls it gets. */
function scriptedServer() {
  let handler: (req: IncomingMessage, res: ServerResponse, call: number) => void = (_q, res) => res.end();
  let calls = 0;
  const seen: IncomingMessage['headers'][] = [];
  const server = createServer((req, res) => {
    calls += 1;
    seen.push(req.headers);
    req.resume();
    handler(req, res, calls);
  });
  return {
    server,
    seen,
    script(next: typeof handler) {
      calls = 0;
      seen.length = 0;
      handler = next;
    },
    calls: () => calls,
  };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('service HTTP: retries, limits and headers', () => {
  const s = scriptedServer();
  const other = scriptedServer();
  let base = '';
  let otherBase = '';
  const http = createServiceHttp({
    policy: developmentPolicy,
    backoffMs: 5,
    retries: 2,
    // The client's default per-attempt timeout: a short one here made a slow first answer on a
    // busy machine count as a failed attempt, and the retry tests miscounted. The timeout test
    // sets its own.
    maxBodyBytes: 10_000,
  });
  const ctx = { agentId: 'agent-1', correlationId: 'corr-1' };

  beforeAll(async () => {
    for (const srv of [s.server, other.server]) await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    otherBase = `http://127.0.0.1:${(other.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const srv of [s.server, other.server]) {
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
    }
  });

  it('retries 5xx with backoff and returns the first good answer', async () => {
    s.script((_q, res, call) => (call < 3 ? json(res, 503, { error: 'busy' }) : json(res, 200, { ok: true })));
    const res = await http.request(`${base}/x`, { json: { a: 1 }, ctx });
    expect(res.status).toBe(200);
    expect(s.calls()).toBe(3);
  });

  it('gives up after the retries with a retryable service_unavailable', async () => {
    s.script((_q, res) => json(res, 502, { code: 'DOWN' }));
    const err = await http.request(`${base}/x`, { ctx }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({
      code: 'service_unavailable',
      upstreamStatus: 502,
      upstreamCode: 'DOWN',
      retry: 'backoff',
    });
    expect(s.calls()).toBe(3);
  });

  it('never retries a 4xx: the answer goes back to the protocol once', async () => {
    s.script((_q, res) => json(res, 400, { error: 'MISSING_FIELDS', message: 'client_type' }));
    const res = await http.request(`${base}/x`, { json: {}, ctx });
    expect(res.status).toBe(400);
    expect(s.calls()).toBe(1);
  });

  it('turns 429 into RateLimitedError with the Retry-After delay', async () => {
    s.script((_q, res) => json(res, 429, { error: 'rate_limited' }, { 'retry-after': '7' }));
    const err = await http.request(`${base}/x`, { ctx }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err).toMatchObject({ retryAfterMs: 7_000, retry: 'after_delay' });
    expect(s.calls()).toBe(1);
  });

  it('sends the agent headers and JSON content type', async () => {
    s.script((_q, res) => json(res, 200, {}));
    await http.request(`${base}/x`, { json: { a: 1 }, ctx });
    expect(s.seen[0]).toMatchObject({
      'x-agent-id': 'agent-1',
      'x-correlation-id': 'corr-1',
      'content-type': 'application/json',
    });
  });

  it('stops reading bodies over the limit', async () => {
    s.script((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`"${'x'.repeat(20_000)}"`);
    });
    await expect(http.request(`${base}/x`)).rejects.toMatchObject({ code: 'service_response_too_large' });
  });

  it('times out a silent service and says so', async () => {
    s.script(() => undefined); // never answers
    const started = Date.now();
    await expect(http.request(`${base}/x`, { retryTransient: false, timeoutMs: 500 })).rejects.toMatchObject({
      code: 'service_timeout',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('follows same-origin redirects and refuses cross-origin ones', async () => {
    s.script((req, res) => {
      if (req.url === '/old') return res.writeHead(302, { location: '/new' }).end();
      if (req.url === '/away') return res.writeHead(302, { location: `${otherBase}/steal` }).end();
      json(res, 200, { at: req.url });
    });
    expect((await http.request(`${base}/old`)).body).toEqual({ at: '/new' });
    await expect(http.request(`${base}/away`)).rejects.toMatchObject({ code: 'cross_origin_redirect' });
    expect(other.calls()).toBe(0);
  });

  it('keeps a non-JSON body as undefined instead of failing', async () => {
    s.script((_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hi</html>'));
    expect((await http.request(`${base}/x`)).body).toBeUndefined();
  });

  it('reads both error body shapes services use', () => {
    expect(readServiceError({ error: 'INVALID_STATE', message: 'not yet' })).toEqual({
      code: 'INVALID_STATE',
      message: 'not yet',
    });
    expect(readServiceError({ code: 'INVALID_STATE', message: 'not yet' })).toEqual({
      code: 'INVALID_STATE',
      message: 'not yet',
    });
    expect(readServiceError({ error: 'invalid_grant', error_description: 'expired' })).toEqual({
      code: 'invalid_grant',
      message: 'expired',
    });
    expect(readServiceError('<html>')).toEqual({});
  });
});
