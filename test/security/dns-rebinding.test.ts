import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandoffError } from '../../src/core/errors.js';
import { createNetworkPolicy, type NetworkPolicy } from '../../src/core/network-policy.js';
import { createServiceHttp } from '../../src/login/service-http.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/services/fake-http-server.js';

/**
 * DNS rebinding: a name that resolves to a harmless address when the bridge checks it and to
 * an internal one when it connects. The resolver here answers 127.0.0.1 the first time and
 * 127.0.0.2 (standing in for an internal host, refused by the policy below) every time after.
 * The bridge resolves once per connection, checks that answer, and connects to exactly it: the
 * request reaches 127.0.0.1, the resolver is asked once, and 127.0.0.2 sees nothing. A new
 * connection asks again, gets 127.0.0.2, and is refused before a byte is sent.
 */

/** The development policy, except that 127.0.0.2 and 127.0.0.3 count as internal hosts. */
function standInPolicy(): NetworkPolicy {
  const base = createNetworkPolicy({ production: false });
  const internal = new Set(['127.0.0.2', '127.0.0.3']);
  return {
    ...base,
    checkAddress: (url, address) =>
      internal.has(address)
        ? { ok: false, code: 'service_address_not_allowed', reason: `resolves to an internal address (${address}).` }
        : base.checkAddress(url, address),
  };
}

describe('DNS rebinding cannot switch the address between check and connect', () => {
  let good: FakeServer;
  let internal: FakeServer;
  let port = 0;

  beforeAll(async () => {
    // Every answer closes its connection, so each request needs a new one (and a new lookup).
    good = await startFakeServer((_req, res) => sendJson(res, 200, { where: 'good' }, { connection: 'close' }));
    port = Number(new URL(good.origin).port);
    internal = await startFakeServer((_req, res) => sendJson(res, 200, { where: 'internal' }), {
      host: '127.0.0.2',
      port,
    });
  });
  afterAll(async () => {
    await good.close();
    await internal.close();
  });

  it('connects to the address it checked, resolving once per connection', async () => {
    const answers: string[] = [];
    const http = createServiceHttp({
      policy: standInPolicy(),
      retries: 0,
      resolve: async () => {
        const address = answers.length === 0 ? '127.0.0.1' : '127.0.0.2';
        answers.push(address);
        return [address];
      },
    });

    const first = await http.request(`http://rebind.test:${port}/whoami`);
    expect(first.body).toEqual({ where: 'good' });
    expect(answers).toEqual(['127.0.0.1']);
    // The Host header kept the name the request was made to.
    expect(good.requests.at(-1)?.headers.host).toBe(`rebind.test:${port}`);

    const second = await http.request(`http://rebind.test:${port}/whoami`).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(HandoffError);
    expect(second).toMatchObject({ code: 'service_address_not_allowed', retry: 'never' });
    expect(answers).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(internal.requests).toEqual([]);
  });

  it('one internal address among several refuses the host (no first-good-then-bad trick)', async () => {
    const http = createServiceHttp({
      policy: standInPolicy(),
      retries: 0,
      resolve: async () => ['127.0.0.1', '127.0.0.3'],
    });
    const before = good.requests.length;
    await expect(http.request(`http://mixed.test:${port}/`)).rejects.toMatchObject({
      code: 'service_address_not_allowed',
    });
    // Not even the good address was used: the host as a whole is refused.
    expect(good.requests.length).toBe(before);
  });

  it('a redirect to another origin is never followed, whatever it resolves to', async () => {
    const redirecting = await startFakeServer((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.2:${port}/steal` });
      res.end();
    });
    try {
      const http = createServiceHttp({ policy: standInPolicy(), retries: 0 });
      await expect(http.request(`${redirecting.origin}/start`)).rejects.toMatchObject({
        code: 'cross_origin_redirect',
      });
      expect(internal.requests).toEqual([]);
    } finally {
      await redirecting.close();
    }
  });

  it('a resolver that hangs is cut off, as unreachable', async () => {
    const http = createServiceHttp({
      policy: standInPolicy(),
      retries: 0,
      timeoutMs: 300,
      resolve: () => new Promise<never>(() => undefined),
    });
    const started = Date.now();
    await expect(http.request(`http://slow-dns.test:${port}/`)).rejects.toMatchObject({
      code: expect.stringMatching(/^service_(unreachable|timeout)$/),
    });
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
