import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { createLogger } from '../src/core/logger.js';
import { createHttpServer } from '../src/http/http-server.js';
import { createSandbox, type Sandbox } from '../src/sandbox/index.js';

/**
 * The real sandbox service on its own HTTP server (the bridge's HTTP server code, the
 * sandbox's routes), so a bridge measured for memory does not also hold the sandbox's
 * login requests. Also what a person does in a browser: approve a login to get its code.
 */
export interface SandboxServer {
  /** Service URL to put in handoff requests, e.g. http://127.0.0.1:41234/sandbox. */
  readonly serviceUrl: string;
  readonly sandbox: Sandbox;
  close(): Promise<void>;
}

export async function startSandboxServer(): Promise<SandboxServer> {
  // Long-lived login requests: a slow bench run (100,000 parked at ~60/s on a loaded machine)
  // must not see them expire, nor the handoffs whose expiry they bound.
  const sandbox = createSandbox({ requestTtlMs: 4 * 3_600_000 });
  const server: Server = createHttpServer({ routes: sandbox.routes, logger: createLogger({ level: 'error' }) });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    serviceUrl: `http://127.0.0.1:${port}${sandbox.base}`,
    sandbox,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Approves a login on the sandbox's page over HTTP, as a browser would; returns the finish code.
 * Through undici's `request` (kept-alive connections), not `fetch`: cheaper per call for the
 * bench's load process.
 */
export async function approveLogin(approvalUrl: string, email = 'alice@example.com'): Promise<string> {
  const res = await request(approvalUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, decision: 'approve' }).toString(),
  });
  const page = await res.body.text();
  const code = /aae_[0-9a-f]{48}/.exec(page)?.[0];
  if (!code) throw new Error(`the sandbox did not show a finish code (HTTP ${res.statusCode})`);
  return code;
}
