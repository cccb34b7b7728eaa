import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandoffError } from '../../src/core/errors.js';
import { createNetworkPolicy, type NetworkPolicy } from '../../src/core/network-policy.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';

/**
 * Hostile services against the service HTTP client, all on loopback: 127.0.0.2 stands in for an
 * internal host (refused by the policy below, which is the only place a non-loopback range
 * would be refused). Every case checks the error code callers see and that the client let go of
 * the service (no attempt held past its deadline, no connection left reading a body it refused).
 */

function standInPolicy(): NetworkPolicy {
  const base = createNetworkPolicy({ production: false });
  return {
    ...base,
    checkAddress: (url, address) =>
      address === '127.0.0.2'
        ? { ok: false, code: 'service_address_not_allowed', reason: `resolves to an internal address (${address}).` }
        : base.checkAddress(url, address),
  };
}

/** A raw TCP server: for answers node:http would not write (no headers at all, resets, huge header blocks). */
async function rawServer(onSocket: (socket: Socket) => void): Promise<{ origin: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => r());
      }),
  };
}

describe('service HTTP against hostile services', () => {
  let svc: FakeServer;
  let other: FakeServer;
  let internal: FakeServer;
  /** Set when a response the client gave up on was closed by the client. */
  const closed: string[] = [];
  const http = createServiceHttp({ policy: standInPolicy(), retries: 0, maxBodyBytes: 10_000, timeoutMs: 600 });

  beforeAll(async () => {
    other = await startFakeServer((_req, res) => sendJson(res, 200, { where: 'other' }));
    svc = await startFakeServer((req, res, path) => {
      res.on('close', () => closed.push(path));
      switch (path) {
        case '/to-other':
          return void res.writeHead(302, { location: `${other.origin}/steal` }).end();
        case '/loop':
          return void res.writeHead(307, { location: '/loop' }).end();
        case '/declared-big':
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '20000' });
          return void res.write('"');
        case '/endless': {
          // Chunked, no declared length, never ends on its own.
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = 'x'.repeat(4096);
          const pump = () => {
            while (!res.destroyed && res.write(chunk));
            if (!res.destroyed) res.once('drain', pump);
          };
          return pump();
        }
        case '/trickle': {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('"');
          const timer = setInterval(() => res.write('x'), 20);
          return void res.on('close', () => clearInterval(timer));
        }
        case '/bad-json':
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(Buffer.concat([Buffer.from('{"a": "\\ud800", "b": '), Buffer.from([0xff, 0xfe])]));
        case '/many':
          res.setHeader('set-cookie', ['a=1', 'b=2']);
          res.setHeader('www-authenticate', ['Bearer realm="x"', 'DPoP']);
          return sendJson(res, 200, { ok: true });
        default:
          return sendJson(res, 200, { path, agent: req.headers['x-agent-id'] });
      }
    });
    internal = await startFakeServer((_req, res) => sendJson(res, 200, { where: 'internal' }), {
      host: '127.0.0.2',
      port: Number(new URL(svc.origin).port),
    });
  });
  afterAll(async () => {
    for (const s of [svc, other, internal]) await s.close();
  });

  it('refuses a redirect to another origin without calling it', async () => {
    await expect(http.request(`${svc.origin}/to-other`)).rejects.toMatchObject({
      code: 'cross_origin_redirect',
      retry: 'never',
    });
    expect(other.requests).toEqual([]);
  });

  it('stops a redirect loop after three hops', async () => {
    const before = svc.requests.length;
    await expect(http.request(`${svc.origin}/loop`)).rejects.toMatchObject({ code: 'too_many_redirects' });
    expect(svc.requests.length - before).toBe(4); // the first call and three hops
  });

  it('checks every hop: a same-origin redirect whose new connection resolves to a refused address is refused', async () => {
    // The name resolves to 127.0.0.1 first and to 127.0.0.2 after; the redirect closes its
    // connection, so the next hop connects anew, resolves again, and is refused.
    const answers: string[] = [];
    const port = Number(new URL(svc.origin).port);
    const redirecting = await startFakeServer(
      (_req, res) => void res.writeHead(302, { location: '/next', connection: 'close' }).end(),
      { port: 0 },
    );
    const rport = Number(new URL(redirecting.origin).port);
    const rebinding = createServiceHttp({
      policy: standInPolicy(),
      retries: 0,
      resolve: async () => {
        answers.push(answers.length === 0 ? '127.0.0.1' : '127.0.0.2');
        return [answers.at(-1)!];
      },
    });
    try {
      const err = await rebinding.request(`http://hop.test:${rport}/first`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HandoffError);
      expect(err).toMatchObject({ code: 'service_address_not_allowed', retry: 'never' });
      expect(answers).toEqual(['127.0.0.1', '127.0.0.2']);
      expect(redirecting.requests.map((r) => r.path)).toEqual(['/first']);
      expect(internal.requests).toEqual([]);
      // And a redirect straight to the internal address is another origin: never followed.
      const direct = await startFakeServer(
        (_req, res) => void res.writeHead(302, { location: `http://127.0.0.2:${port}/x` }).end(),
      );
      await expect(http.request(`${direct.origin}/`)).rejects.toMatchObject({ code: 'cross_origin_redirect' });
      await direct.close();
      expect(internal.requests).toEqual([]);
    } finally {
      await redirecting.close();
    }
  });

  it('refuses a declared length over the cap before reading, and closes the connection', async () => {
    await expect(http.request(`${svc.origin}/declared-big`)).rejects.toMatchObject({
      code: 'service_response_too_large',
      retry: 'never',
    });
    await expect.poll(() => closed.includes('/declared-big')).toBe(true);
  });

  it('cuts an undeclared body as soon as it passes the cap, and closes the connection', async () => {
    await expect(http.request(`${svc.origin}/endless`)).rejects.toMatchObject({
      code: 'service_response_too_large',
    });
    await expect.poll(() => closed.includes('/endless')).toBe(true);
  });

  it('cuts a body trickled byte by byte at the deadline (600 ms), not at the end of the body', async () => {
    const started = Date.now();
    await expect(http.request(`${svc.origin}/trickle`)).rejects.toMatchObject({ code: 'service_timeout' });
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect.poll(() => closed.includes('/trickle')).toBe(true);
  });

  it("the caller's signal cuts a trickled body too, and no further attempt starts", async () => {
    const patient = createServiceHttp({ policy: standInPolicy(), retries: 2, backoffMs: 1, timeoutMs: 60_000 });
    const before = svc.requests.length;
    const started = Date.now();
    const ctx = { agentId: 'a', correlationId: 'c', signal: AbortSignal.timeout(400) };
    await expect(patient.request(`${svc.origin}/trickle`, { ctx })).rejects.toMatchObject({
      code: 'service_timeout',
    });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(svc.requests.length - before).toBe(1);
    // A signal already aborted: nothing is sent at all.
    const after = svc.requests.length;
    await expect(patient.request(`${svc.origin}/x`, { ctx })).rejects.toMatchObject({ code: 'service_timeout' });
    expect(svc.requests.length).toBe(after);
  });

  it('times out a service that takes the request and never sends headers', async () => {
    const silent = await rawServer((socket) => socket.resume());
    try {
      const started = Date.now();
      await expect(http.request(`${silent.origin}/`)).rejects.toMatchObject({ code: 'service_timeout' });
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await silent.close();
    }
  });

  it('reports a reset mid-body as unreachable, with a code and none of the bytes', async () => {
    const resetting = await rawServer((socket) => {
      socket.once('data', () => {
        socket.write(
          'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n{"secret-ish": "',
        );
        setTimeout(() => socket.resetAndDestroy(), 30);
      });
    });
    try {
      const err = await http.request(`${resetting.origin}/`).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'service_unreachable', retry: 'backoff' });
      expect((err as Error).message).toMatch(/could not be reached \([A-Z0-9_]+\)/);
      expect((err as Error).message).not.toContain('secret-ish');
    } finally {
      await resetting.close();
    }
  });

  it('refuses a 1 MB header block as unreachable without buffering it', async () => {
    const huge = await rawServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\n');
        const line = `x-pad: ${'y'.repeat(1000)}\r\n`;
        for (let i = 0; i < 1024 && !socket.destroyed; i++) socket.write(line);
        socket.end('content-length: 2\r\n\r\n{}');
      });
    });
    try {
      await expect(http.request(`${huge.origin}/`)).rejects.toMatchObject({
        code: 'service_unreachable',
        message: expect.stringContaining('UND_ERR_HEADERS_OVERFLOW'),
      });
    } finally {
      await huge.close();
    }
  });

  it('keeps invalid JSON as text (well-formed), with body undefined', async () => {
    const res = await http.request(`${svc.origin}/bad-json`);
    expect(res.status).toBe(200);
    expect(res.body).toBeUndefined();
    expect(res.text.isWellFormed()).toBe(true);
    expect(res.text.startsWith('{"a": "\\ud800", "b": ')).toBe(true);
  });

  it('reads headers case-insensitively, repeated ones joined as Headers joins them', async () => {
    const res = await http.request(`${svc.origin}/many`, { ctx: { agentId: 'agent-7', correlationId: 'c' } });
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="x", DPoP');
    expect(res.headers.get('x-missing')).toBeNull();
    expect([...res.headers].filter(([name]) => name === 'set-cookie')).toEqual([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
    // Our headers went out; no Accept-Encoding, so bodies come uncompressed and the cap counts bytes received.
    const sent = svc.requests.at(-1)!.headers;
    expect(sent).toMatchObject({ accept: 'application/json', 'x-agent-id': 'agent-7', 'x-correlation-id': 'c' });
    expect(sent['accept-encoding']).toBeUndefined();
    // The same pairs a Response built from them reads back (what oauth-fetch does).
    const response = new Response('{}', { headers: [...res.headers] });
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="x", DPoP');
  });
});
