import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../src/core/logger.js';
import { createHttpServer } from '../../src/http/http-server.js';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';

/** The sandbox service alone, on a real HTTP port, for protocol tests that need no bridge. */
export async function startSandboxServer(options: Partial<SandboxOptions> = {}): Promise<{ sandbox: Sandbox; url: string; close(): Promise<void> }> {
  const sandbox = createSandbox(options);
  const server = createHttpServer({ routes: sandbox.routes, logger: silentLogger });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${sandbox.base}`;
  return {
    sandbox,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Approves a sandbox login the way the browser form does; returns the finish code shown. */
export async function approveOnSandbox(approvalUrl: string, email = 'alice@example.com'): Promise<string> {
  const res = await fetch(approvalUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, decision: 'approve' }).toString(),
  });
  const code = /aae_[0-9a-f]{48}/.exec(await res.text())?.[0];
  if (!code) throw new Error(`the sandbox page showed no finish code (HTTP ${res.status})`);
  return code;
}
