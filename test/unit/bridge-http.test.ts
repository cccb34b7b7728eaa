import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBridgeClient } from '../../src/client/bridge-client.js';
import { maxAnswerBytes } from '../../src/client/bridge-http.js';

/** The CLI's transport (node:http) against something at HANDOFF_URL that is not a sane bridge. */
describe('the bridge client over node:http', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/v1/handoffs?')) {
        // An endless answer: far more than any API answer, never finished.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const pump = () => {
          while (res.write(chunk));
          res.once('drain', pump);
        };
        res.once('close', () => res.removeAllListeners('drain'));
        pump();
        return;
      }
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end('{"error":{"code":"agent_busy","message":"Too many at once."}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it(`cuts an answer larger than ${maxAnswerBytes} bytes instead of buffering it`, async () => {
    const client = createBridgeClient({ baseUrl: url, apiToken: 'token-0123456789abcdef' });
    const err = await client.listHandoffs().catch((e: unknown) => e as { code?: string; message: string });
    expect(err).toMatchObject({ code: 'bridge_unreachable' });
    expect((err as Error).message).toContain('the answer exceeds 8 MiB');
  });

  it('reads an error answer with its code, sentence and Retry-After', async () => {
    const client = createBridgeClient({ baseUrl: url, apiToken: 'token-0123456789abcdef' });
    const err = await client.getHandoff('hf_x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'agent_busy', status: 429, message: 'Too many at once.', retryAfterMs: 7_000 });
  });
});

/**
 * A kept-alive connection the bridge closed while it sat idle (its 5 s keep-alive timeout), seen
 * closed only after the next request went out on it: the request meets a reset. What a loaded
 * load generator hit as `fetch failed` (bench/README.md, "Redis Cluster"). Here a raw server
 * answers the first request of each connection and resets the second, unanswered.
 */
describe('the bridge client when a kept-alive connection was closed under it', () => {
  let server: NetServer;
  let url: string;
  const seen: { connection: number; method: string; path: string; body: string }[] = [];

  beforeAll(async () => {
    let connections = 0;
    server = createNetServer((socket) => {
      const connection = ++connections;
      let buffered = Buffer.alloc(0);
      let requests = 0;
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        for (;;) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buffered.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffered.length < end + 4 + length) return;
          const body = buffered.subarray(end + 4, end + 4 + length).toString('utf8');
          buffered = buffered.subarray(end + 4 + length);
          const [method = '', path = ''] = head.split(' ');
          seen.push({ connection, method, path, body });
          requests += 1;
          if (requests > 1 || path.startsWith('/v1/handoffs/hf_reset')) {
            socket.resetAndDestroy();
            return;
          }
          const answer = JSON.stringify({ id: 'hf_ok', status: 'awaiting_human', connection });
          socket.write(
            `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(answer)}\r\n` +
              `connection: keep-alive\r\nkeep-alive: timeout=60\r\n\r\n${answer}`,
          );
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise((resolve) => server.close(resolve)));

  const client = () => createBridgeClient({ baseUrl: url, apiToken: 'token-0123456789abcdef' });
  const request = { service: 'https://svc.example', thread: 'local:t' };
  const attempts = (from: number, path: string) => seen.slice(from).filter((r) => r.path === path);

  it('sends a read again on a connection of its own, once', async () => {
    const c = client();
    await c.getHandoff('hf_first');
    const from = seen.length;
    const view = (await c.getHandoff('hf_second')) as unknown as { connection: number };
    const tries = attempts(from, '/v1/handoffs/hf_second');
    expect(tries).toHaveLength(2);
    expect(tries[0]!.connection).not.toBe(tries[1]!.connection);
    expect(view.connection).toBe(tries[1]!.connection);
  });

  it('sends a create again only when it carries an idempotency key', async () => {
    const keyed = client();
    await keyed.getHandoff('hf_first');
    let from = seen.length;
    await keyed.createHandoff({ ...request, idempotencyKey: 'job-7' });
    expect(attempts(from, '/v1/handoffs').map((r) => JSON.parse(r.body).idempotencyKey)).toEqual(['job-7', 'job-7']);

    const unkeyed = client();
    await unkeyed.getHandoff('hf_first');
    from = seen.length;
    const err = await unkeyed.createHandoff(request).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bridge_unreachable', status: 503 });
    expect(attempts(from, '/v1/handoffs')).toHaveLength(1);
  });

  it('does not send again after a reset on a new connection (the bridge read it, or is going down)', async () => {
    const from = seen.length;
    const err = await client()
      .getHandoff('hf_reset')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bridge_unreachable' });
    expect(attempts(from, '/v1/handoffs/hf_reset')).toHaveLength(1);
  });
});
