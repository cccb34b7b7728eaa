import { randomBytes } from 'node:crypto';
import { createBridgeClient, type BridgeClient } from '../../src/client/bridge-client.js';
import type { Clock } from '../../src/core/clock.js';
import { loadConfig } from '../../src/core/config.js';
import type { PlatformDescriptor } from '../../src/core/platform.js';
import type { Resolver } from '../../src/login/pinned-connector.js';
import { platforms, startHandoff, type RunningHandoff } from '../../src/main.js';
import type { SandboxMount, SandboxOptions } from '../../src/sandbox/index.js';
import type { LocalMessage } from '../../adapters/local/local-platform.js';
import { redisUrl } from './environment.js';
import { captureLogs } from './logs.js';
import { approveOnSandbox } from './sandbox-server.js';
import { connectTestRedis, deletePrefix, randomPrefix } from './redis.js';

export interface TestBridge extends RunningHandoff {
  readonly prefix: string;
  readonly url: string;
  readonly apiToken: string;
  readonly vaultKey: Buffer;
  readonly api: BridgeClient;
  readonly logs: string[];
  /** Approves a login on the sandbox's page over HTTP, as a browser would; returns the finish code. */
  approve(approvalUrl: string, email?: string): Promise<string>;
  /** Posts a reply in a local thread through the bridge's HTTP route. */
  reply(thread: string, author: string, text: string): Promise<{ status: number; body: unknown }>;
  messages(thread: string): Promise<LocalMessage[]>;
  close(): Promise<void>;
}

export async function startTestBridge(
  name: string,
  options: {
    env?: Record<string, string>;
    sandbox?: Partial<SandboxOptions>;
    /** Sandbox instances besides /sandbox, /sandbox/authmd and /sandbox/device. */
    extraSandboxes?: readonly SandboxMount[];
    clock?: Clock;
    prefix?: string;
    vaultKey?: Buffer;
    apiToken?: string;
    /** Another Redis than the suite's (a test that restarts its own). */
    redisUrl?: string;
    /** Resolves service host names instead of the system resolver (DNS tricks in security tests). */
    resolve?: Resolver;
    /** Platforms registered besides src/main.ts's (one defined under test/, say). */
    platforms?: readonly PlatformDescriptor[];
  } = {},
): Promise<TestBridge> {
  const prefix = options.prefix ?? randomPrefix(name.slice(0, 12));
  const config = loadConfig(
    { NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', HANDOFF_PREFIX: prefix, ...options.env },
    [...platforms, ...(options.platforms ?? [])],
  );
  const apiToken = options.apiToken ?? `test-${randomBytes(16).toString('hex')}`;
  const vaultKey = options.vaultKey ?? randomBytes(32);
  const { logger, lines } = captureLogs(name);
  const running = await startHandoff(config, {
    redisUrl: options.redisUrl ?? redisUrl,
    vaultKey,
    apiToken,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.sandbox ? { sandboxOptions: options.sandbox } : {}),
    ...(options.extraSandboxes ? { extraSandboxes: options.extraSandboxes } : {}),
    serviceHttp: { backoffMs: 20, ...(options.resolve ? { resolve: options.resolve } : {}) },
  });
  const url = running.bridge.url!;
  return {
    ...running,
    prefix,
    url,
    apiToken,
    vaultKey,
    logs: lines,
    api: createBridgeClient({ baseUrl: url, apiToken }),
    approve: (approvalUrl, email = 'alice@example.com') => approveOnSandbox(approvalUrl, email),
    async reply(thread, author, text) {
      const threadName = thread.replace(/^local:/, '');
      const res = await fetch(`${url}/v1/threads/local/${encodeURIComponent(threadName)}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ author, text }),
      });
      return { status: res.status, body: await res.json() };
    },
    async messages(thread) {
      const res = await fetch(`${url}/v1/threads/local/${encodeURIComponent(thread.replace(/^local:/, ''))}/messages`);
      return ((await res.json()) as { messages: LocalMessage[] }).messages;
    },
    async close() {
      await running.bridge.close();
      if (options.redisUrl) return; // that Redis is the test's own, and goes with it
      const redis = connectTestRedis();
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
}

/** A unique local thread ref for one test. */
export const freshThread = (label = 'th') => `local:${label}-${randomBytes(4).toString('hex')}`;
