import type { AddressInfo } from 'node:net';
import type { Caller } from '../../src/core/caller.js';
import { adminTokenAuthenticator, createApiGuard, type Authenticate } from '../../src/http/api-auth.js';
import { eventRoutes } from '../../src/http/event-routes.js';
import { createFeedCursors, feedCursorKey } from '../../src/http/feed-cursor.js';
import { handoffRoutes } from '../../src/http/handoff-routes.js';
import { createHttpServer } from '../../src/http/http-server.js';
import { createStatusEvents } from '../../src/http/status-events.js';
import { createAgentFeed } from '../../src/store/agent-feed.js';
import { captureLogs } from './logs.js';
import type { TestBridge } from './test-bridge.js';

/**
 * The agent API of a test bridge (handoffs and the feed of endings) served again on a port of
 * its own, behind a guard that also knows test agent keys: `keys` maps a bearer token to an
 * agent id, the bridge's token stays the admin. Agent keys themselves (hashes, rotation) are
 * another branch's; this stands in for them through the guard's pluggable authenticator.
 */
export interface AgentApiServer {
  readonly url: string;
  /** GET/POST/DELETE with a bearer token; the JSON body (or undefined) and status. */
  call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  close(): Promise<void>;
}

export async function startAgentApiServer(bridge: TestBridge, keys: Readonly<Record<string, string>>): Promise<AgentApiServer> {
  const admin = adminTokenAuthenticator(bridge.apiToken);
  const authenticate: Authenticate = async (bearer) => {
    const agentId = Object.hasOwn(keys, bearer) ? keys[bearer] : undefined;
    return agentId === undefined ? admin(bearer) : ({ kind: 'agent', agentId } satisfies Caller);
  };
  const guard = createApiGuard(authenticate);
  const { redis, keys: redisKeys, engine } = bridge.bridge;
  const events = await createStatusEvents(redis.duplicate(), redisKeys.events());
  const routes = [
    ...handoffRoutes({ engine, events, guard }),
    ...eventRoutes({ feed: createAgentFeed({ redis, keys: redisKeys }), events, cursors: createFeedCursors(feedCursorKey(bridge.vaultKey)), guard }),
  ];
  const server = createHttpServer({ routes, logger: captureLogs('agent-api-server').logger });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async call(token, method, path, body) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed, text };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await events.close();
    },
  };
}
