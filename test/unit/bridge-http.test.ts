import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
