import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A raw HTTP server for services that misbehave in ways the sandbox does not (bodies of any
 * size, trickled bytes, stalls, redirects anywhere). Handlers see the path and write what
 * they like; every request is recorded.
 */
export interface FakeServer {
  readonly origin: string;
  readonly requests: Array<{ method: string; path: string; headers: IncomingMessage['headers'] }>;
  close(): Promise<void>;
}

export type FakeHandler = (req: IncomingMessage, res: ServerResponse, path: string) => void | Promise<void>;

/** `host`: a loopback address other than 127.0.0.1 stands in for an internal host; `port` 0 = any. */
export async function startFakeServer(
  handler: FakeHandler,
  at: { host?: string; port?: number } = {},
): Promise<FakeServer> {
  const requests: FakeServer['requests'] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://fake.invalid').pathname;
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers });
    Promise.resolve(handler(req, res, path)).catch(() => res.destroy());
  });
  const host = at.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port ?? 0, host, resolve);
  });
  return {
    origin: `http://${host}:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
