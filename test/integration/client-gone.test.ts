import { request as httpRequest, type ClientRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { json, type Route } from '../../src/core/http-route.js';
import { newId } from '../../src/core/ids.js';
import { adminTokenAuthenticator, createApiGuard } from '../../src/http/api-auth.js';
import { eventRoutes } from '../../src/http/event-routes.js';
import { createFeedCursors, feedCursorKey } from '../../src/http/feed-cursor.js';
import { handoffRoutes } from '../../src/http/handoff-routes.js';
import { createHttpServer } from '../../src/http/http-server.js';
import { createStatusEvents, type StatusEvents, type Waiter } from '../../src/http/status-events.js';
import { createAgentFeed } from '../../src/store/agent-feed.js';
import { duplicateConnection, type Redis } from '../../src/store/redis.js';
import { captureLogs } from '../helpers/logs.js';
import { startTestBridge, type TestBridge } from '../helpers/test-bridge.js';

/**
 * The request's "client went away" signal (src/http/http-server.ts): a long poll whose client
 * disconnects stops waiting and releases its waiter at once, not at the end of its waitMs; a
 * request answered normally never aborts its signal (aborting builds a DOMException each time);
 * a signal first asked for after the client left comes already aborted.
 */
describe('client gone: long polls stop when their client disconnects (real Redis, real HTTP)', () => {
  let bridge: TestBridge;
  let subscriber: Redis;
  let events: StatusEvents;
  let server: Server;
  let base: URL;
  /** Waiters armed by the routes and how each ended: the `next()` results, and whether it was closed. */
  const waits: { topic: string; results: boolean[]; closed: boolean }[] = [];
  /** Probe routes' signals, and a hook run when the server sees a response close. */
  const seen: { signal?: AbortSignal; late?: AbortSignal } = {};
  let release: (() => void) | undefined;
  const closedResponses: string[] = [];

  beforeAll(async () => {
    bridge = await startTestBridge('client-gone');
    subscriber = duplicateConnection(bridge.bridge.redis);
    const real = await createStatusEvents(subscriber, bridge.bridge.keys.events());
    events = real;
    // The real waiters, watched: what `next()` answered and whether the route closed it.
    const watch = (topic: string, waiter: Waiter): Waiter => {
      const wait = { topic, results: [] as boolean[], closed: false };
      waits.push(wait);
      return {
        next: async (timeoutMs, signal) => {
          const changed = await waiter.next(timeoutMs, signal);
          wait.results.push(changed);
          return changed;
        },
        close() {
          wait.closed = true;
          waiter.close();
        },
      };
    };
    const watched: StatusEvents = {
      ...real,
      armFeed: (agentId) => watch(`feed ${agentId}`, real.armFeed(agentId)),
      armHandoff: (id) => watch(`handoff ${id}`, real.armHandoff(id)),
    };
    const guard = createApiGuard(adminTokenAuthenticator(bridge.apiToken));
    const probes: Route[] = [
      {
        method: 'GET',
        path: '/probe/quick',
        handler: async (req) => {
          seen.signal = req.signal;
          return json(200, { ok: true });
        },
      },
      {
        method: 'GET',
        path: '/probe/late',
        handler: async (req) => {
          await new Promise<void>((resolve) => (release = resolve));
          seen.late = req.signal;
          return json(200, { ok: true });
        },
      },
    ];
    server = createHttpServer({
      routes: [
        ...eventRoutes({
          feed: createAgentFeed({ redis: bridge.bridge.redis, keys: bridge.bridge.keys }),
          events: watched,
          cursors: createFeedCursors(feedCursorKey(bridge.vaultKey)),
          guard,
        }),
        ...handoffRoutes({ engine: bridge.bridge.engine, events: watched, guard }),
        ...probes,
      ],
      logger: captureLogs('client-gone-server').logger,
    });
    server.on('request', (req, res) => res.once('close', () => closedResponses.push(req.url ?? '')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await events.close();
    await bridge.close();
  });

  /** A request on its own connection (no keep-alive), so destroying it closes the socket. */
  const open = (path: string): { req: ClientRequest; answered: Promise<number> } => {
    const req = httpRequest(new URL(path, base), {
      agent: false,
      headers: { authorization: `Bearer ${bridge.apiToken}` },
    });
    const answered = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
    });
    req.end();
    return { req, answered };
  };
  const until = async (what: string, check: () => boolean, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('a feed long poll whose client disconnects releases its waiter at once, not after its waitMs', async () => {
    const agentId = `gone-${newId('request').slice(4, 12)}`;
    const { req, answered } = open(`/v1/events?agent=${agentId}&waitMs=60000`);
    answered.catch(() => undefined);
    await until('the feed wait', () => waits.some((w) => w.topic === `feed ${agentId}` && !w.closed));
    // Inside its wait (armed, read, now in next()): the client goes away.
    await new Promise((r) => setTimeout(r, 50));
    req.destroy();
    const wait = waits.find((w) => w.topic === `feed ${agentId}`)!;
    await until('the waiter released', () => wait.closed);
    expect(wait.results).toEqual([false]);
  });

  it('a handoff long poll whose client disconnects releases its waiter at once', async () => {
    const id = newId('handoff');
    const now = Date.now();
    const record: HandoffRecord = {
      id,
      kind: 'login',
      status: 'awaiting_human',
      version: 0,
      service: 'http://127.0.0.1:9/svc',
      protocol: 'agent-sessions',
      thread: `local:gone-${id}`,
      approvers: [],
      agentId: 'gone-agent',
      correlationId: id,
      scopes: [],
      createdAt: now,
      updatedAt: now,
      expiresAt: now + 120_000,
      attempts: 0,
    };
    await bridge.bridge.engine.store.create(record);
    const { req, answered } = open(`/v1/handoffs/${id}?waitMs=60000`);
    answered.catch(() => undefined);
    await until('the handoff wait', () => waits.some((w) => w.topic === `handoff ${id}` && !w.closed));
    await new Promise((r) => setTimeout(r, 50));
    req.destroy();
    const wait = waits.find((w) => w.topic === `handoff ${id}`)!;
    await until('the waiter released', () => wait.closed);
    expect(wait.results).toEqual([false]);
  });

  it('a request answered normally never aborts its signal', async () => {
    const before = closedResponses.length;
    const { answered } = open('/probe/quick');
    expect(await answered).toBe(200);
    await until('the response closed', () => closedResponses.length > before);
    await new Promise((r) => setImmediate(r));
    expect(seen.signal?.aborted).toBe(false);
  });

  it('a signal first asked for after the client left comes already aborted', async () => {
    release = undefined;
    const before = closedResponses.length;
    const { req, answered } = open('/probe/late');
    answered.catch(() => undefined);
    await until('the handler waiting', () => release !== undefined);
    req.destroy();
    await until('the server saw the close', () => closedResponses.length > before);
    release!();
    await until('the late signal', () => seen.late !== undefined);
    expect(seen.late!.aborted).toBe(true);
  });
});
