import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../src/core/logger.js';
import { createHttpServer } from '../../src/http/http-server.js';
import { createSandbox, type Sandbox, type SandboxMount, type SandboxOptions } from '../../src/sandbox/index.js';

/** The sandbox service alone, on a real HTTP port, for protocol tests that need no bridge. */
export async function startSandboxServer(
  options: Partial<SandboxOptions> = {},
  base = '/sandbox',
): Promise<{ sandbox: Sandbox; url: string; origin: string; close(): Promise<void> }> {
  const sandbox = createSandbox(options, base);
  const server = createHttpServer({ routes: sandbox.routes, logger: silentLogger });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    sandbox,
    url: `${origin}${sandbox.base}`,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Several sandbox instances on one server (one origin), each at its own base. */
export async function startSandboxes(
  mounts: readonly SandboxMount[],
): Promise<{ origin: string; sandboxes: Map<string, Sandbox>; close(): Promise<void> }> {
  const sandboxes = new Map(mounts.map((m) => [m.base, createSandbox(m.options, m.base)]));
  const server = createHttpServer({ routes: [...sandboxes.values()].flatMap((s) => s.routes), logger: silentLogger });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sandboxes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/** Approves a sandbox agent-sessions login the way the browser form does; returns the finish code shown. */
export async function approveOnSandbox(approvalUrl: string, email = 'alice@example.com'): Promise<string> {
  const res = await fetch(approvalUrl, form({ email, decision: 'approve' }));
  const code = /aae_[0-9a-f]{48}/.exec(await res.text())?.[0];
  if (!code) throw new Error(`the sandbox page showed no finish code (HTTP ${res.status})`);
  return code;
}

/** Signs in on an auth.md claim page and claims; returns the finish code the page shows. */
export async function claimOnSandbox(claimUrl: string, email = 'alice@example.com'): Promise<string> {
  const res = await fetch(claimUrl, form({ email, decision: 'approve' }));
  const code = /acf_[0-9a-f]{32}/.exec(await res.text())?.[0];
  if (!code) throw new Error(`the claim page showed no finish code (HTTP ${res.status})`);
  return code;
}

/** Opens the newest claim email to `to` in the sandbox mailbox and returns the 6-digit code its link shows. */
export async function codeFromMailbox(serviceUrl: string, to: string): Promise<string> {
  const box = await (await fetch(`${serviceUrl}/mailbox?to=${encodeURIComponent(to)}`)).text();
  const link = /data-testid="mail-link"[^>]*>|href="([^"]+)" data-testid="mail-link"/.exec(box)?.[1];
  if (!link) throw new Error(`no claim email to ${to} in the sandbox mailbox`);
  const page = await (await fetch(link.replace(/&amp;/g, '&'))).text();
  const otp = /data-testid="otp">(\d{6})</.exec(page)?.[1];
  if (!otp) throw new Error('the emailed link showed no code');
  return otp;
}

/** Approves (or denies) a device login on the sandbox's verification page; the URL may carry the code. */
export async function decideDevice(
  verificationUrl: string,
  decision: 'approve' | 'deny',
  userCode?: string,
  email = 'alice@example.com',
): Promise<void> {
  const url = new URL(verificationUrl);
  const code = userCode ?? url.searchParams.get('user_code') ?? '';
  const res = await fetch(`${url.origin}${url.pathname}`, form({ user_code: code, email, decision }));
  if (res.status !== 200)
    throw new Error(`the verification page refused the ${decision} (HTTP ${res.status}): ${await res.text()}`);
}

/**
 * Plays the person on the claim page of auth.md's later shapes: signs in as `email` and, on the
 * polling line, types `userCode`. Returns the code the read-back page shows, or "done".
 */
export async function confirmOnLinePage(verificationUri: string, email: string, userCode?: string): Promise<string> {
  const res = await fetch(verificationUri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, ...(userCode ? { user_code: userCode } : {}) }).toString(),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`the claim page answered ${res.status}`);
  return /data-testid="user-code">(\d{6})</.exec(text)?.[1] ?? 'done';
}
