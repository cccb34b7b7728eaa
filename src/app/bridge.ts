import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Route } from '../core/http-route.js';
import type { Logger } from '../core/logger.js';
import type { LoginDiscovery, LoginProtocol } from '../core/login-protocol.js';
import type { InboundPoller } from '../core/inbound-poller.js';
import type { InboundSink, ThreadAdapter } from '../core/thread-adapter.js';
import type { Platform } from '../core/thread-ref.js';
import type { EngineDeps, EnginePolicy } from '../engine/engine-deps.js';
import { createAdapterRegistry, createProtocolRegistry } from '../engine/registries.js';
import { adminTokenAuthenticator, createApiGuard } from '../http/api-auth.js';
import { credentialRoutes } from '../http/credential-routes.js';
import { eventRoutes } from '../http/event-routes.js';
import { createFeedCursors, feedCursorKey } from '../http/feed-cursor.js';
import { createHttpServer } from '../http/http-server.js';
import { handoffRoutes } from '../http/handoff-routes.js';
import { healthRoutes } from '../http/health-routes.js';
import { createStatusEvents, type StatusEvents } from '../http/status-events.js';
import { createCredentialJobs } from '../queue/credential-jobs.js';
import { createCredentialWorker } from '../queue/credential-worker.js';
import { createDriverWorker } from '../queue/driver-worker.js';
import { createHandoffJobs } from '../queue/handoff-jobs.js';
import { createInboundIntake } from '../queue/inbound-intake.js';
import { createInboundWorker } from '../queue/inbound-worker.js';
import { createOutboundWorker } from '../queue/outbound-worker.js';
import { createOutbox } from '../queue/outbox.js';
import { startPolling } from '../queue/poll-worker.js';
import { createQueues, type Queues } from '../queue/queues.js';
import { createAgentFeed } from '../store/agent-feed.js';
import { createAuditLog } from '../store/audit-log.js';
import { createCredentialStore } from '../store/credential-store.js';
import { createDedupeStore } from '../store/dedupe.js';
import { createHandoffStore } from '../store/handoff-store.js';
import { createIdempotencyStore } from '../store/idempotency-store.js';
import { createKeys, type Keys } from '../store/keys.js';
import { connectRedis, reportConnection, type Redis } from '../store/redis.js';
import { createVault } from '../store/vault.js';

/** What a platform module gets to build itself. */
export interface PlatformContext {
  readonly redis: Redis;
  /** Prefix for the platform's own Redis keys. */
  readonly keyPrefix: string;
  readonly sink: InboundSink;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** What login protocols get to build themselves (a cache for discovery, say). */
export interface LoginContext {
  /** The bridge's Redis connection (for caches; not for queues). */
  readonly redis: Redis;
  /** Key names under the bridge's prefix. */
  readonly keys: Keys;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The protocols a bridge speaks, in order of preference, and how it chooses for `auto`. */
export interface LoginSetup {
  /** In order of preference; `auto` chooses among these only. */
  readonly protocols: readonly LoginProtocol[];
  /** Chooses a protocol for `auto`; without it, `auto` means the first protocol. */
  readonly discovery?: LoginDiscovery;
}

/** One configured platform: its adapter, its inbound routes, and any background inbound. */
export interface PlatformModule {
  readonly adapter: ThreadAdapter;
  readonly routes?: readonly Route[];
  /** Inbound by polling, run as a repeatable job (only in processes that run workers). */
  readonly poller?: InboundPoller;
  /** Starts background inbound such as a Socket Mode connection (only in processes that run workers). */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export interface BridgeOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly vaultKey: Buffer;
  readonly apiToken: string;
  readonly host: string;
  readonly port: number;
  /** `server` answers HTTP only, `worker` runs queues only, `all` both. */
  readonly role: 'all' | 'server' | 'worker';
  readonly workerConcurrency: number;
  readonly policy: EnginePolicy;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly platforms: (ctx: PlatformContext) => readonly PlatformModule[];
  /** Builds the login protocols once Redis is connected. */
  readonly login: (ctx: LoginContext) => LoginSetup;
  /** Routes mounted without the API token (the sandbox). */
  readonly extraRoutes?: readonly Route[];
  /** How to enable each platform that is not configured, for error messages. */
  readonly howToEnable?: Partial<Record<Platform, string>>;
}

export interface Bridge {
  /** Base URL of the HTTP server, when this process runs one. */
  readonly url: string | undefined;
  readonly engine: EngineDeps;
  readonly queues: Queues;
  readonly redis: Redis;
  readonly keys: Keys;
  readonly sink: InboundSink;
  close(): Promise<void>;
}

export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const { logger, clock } = options;
  const redis = await connectRedis(options.redisUrl);
  reportConnection(redis, logger, 'main');
  const keys = createKeys(options.prefix);
  const now = () => clock.now();
  const vault = createVault({ redis, keys, key: options.vaultKey });
  // Deliveries arrive many at once: their dedupe scripts share a connection that sends the
  // commands of one tick in one write (ioredis auto-pipelining), so a burst costs few syscalls.
  const intakeRedis = redis.duplicate({ enableAutoPipelining: true });
  reportConnection(intakeRedis, logger, 'intake');
  const dedupe = createDedupeStore({ redis: intakeRedis, keys });

  // Adapters need the sink before the queues (which need the adapters' platforms) exist.
  let intake: InboundSink | undefined;
  const sink: InboundSink = (reply) => {
    if (!intake) throw new Error('inbound intake used before the bridge finished starting');
    return intake(reply);
  };
  const modules = options.platforms({ redis, keyPrefix: options.prefix, sink, clock, logger });
  const queues = createQueues(redis, keys.queuePrefix, modules.map((m) => m.adapter.platform));
  const store = createHandoffStore({ redis, keys, now, polledPlatforms: modules.filter((m) => m.poller).map((m) => m.adapter.platform) });
  intake = createInboundIntake({ queues, dedupe, vault, store });
  const login = options.login({ redis, keys, clock, logger });

  const engine: EngineDeps = {
    store,
    vault,
    credentials: createCredentialStore({ redis, keys, vault }),
    idempotency: createIdempotencyStore({ redis, keys }),
    audit: createAuditLog({ redis, keys }),
    adapters: createAdapterRegistry(
      modules.map((m) => m.adapter),
      options.howToEnable,
    ),
    protocols: createProtocolRegistry(login.protocols),
    ...(login.discovery ? { discovery: login.discovery } : {}),
    outbox: createOutbox(queues),
    jobs: createHandoffJobs(queues),
    credentialJobs: createCredentialJobs(queues, now),
    clock,
    logger,
    policy: options.policy,
  };

  const workers: Worker[] = [];
  const pollers: Array<{ close(): Promise<void> }> = [];
  const started: Array<{ stop?(): Promise<void> }> = [];
  const runsWorkers = options.role !== 'server';
  let server: Server | undefined;
  let events: StatusEvents | undefined;
  let url: string | undefined;

  // Stops whatever has started so far: on close, and when start-up fails part-way.
  async function close(): Promise<void> {
    if (server?.listening) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    await events?.close();
    for (const module of started) await module.stop?.();
    await Promise.all([...workers.map((w) => w.close()), ...pollers.map((p) => p.close())]);
    await queues.close();
    await intakeRedis.quit().catch(() => intakeRedis.disconnect());
    await redis.quit().catch(() => redis.disconnect());
  }

  try {
    if (runsWorkers) {
      const common = { engine, connection: redis, prefix: keys.queuePrefix, logger };
      workers.push(createDriverWorker({ ...common, concurrency: options.workerConcurrency }));
      workers.push(createInboundWorker({ ...common, concurrency: options.workerConcurrency }));
      workers.push(createCredentialWorker(common));
      for (const module of modules) workers.push(createOutboundWorker({ ...common, adapter: module.adapter }));
      for (const module of modules) {
        if (module.poller) {
          pollers.push(await startPolling({ platform: module.adapter.platform, poller: module.poller, store, clock, redis, keys, prefix: keys.queuePrefix, logger }));
        }
        started.push(module);
        await module.start?.();
      }
    }

    if (options.role !== 'worker') {
      const subscriber = redis.duplicate();
      reportConnection(subscriber, logger, 'status events');
      events = await createStatusEvents(subscriber, keys.events());
      const guard = createApiGuard(adminTokenAuthenticator(options.apiToken));
      const routes: Route[] = [
        ...healthRoutes({ redis, queues, platforms: modules.map((m) => m.adapter.platform) }),
        ...handoffRoutes({ engine, events, guard }),
        ...credentialRoutes({ engine, guard }),
        ...eventRoutes({ feed: createAgentFeed({ redis, keys }), events, cursors: createFeedCursors(feedCursorKey(options.vaultKey)), guard }),
        ...modules.flatMap((m) => m.routes ?? []),
        ...(options.extraRoutes ?? []),
      ];
      server = createHttpServer({ routes, logger });
      await listen(server, options.port, options.host);
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${address.port}`;
    }
  } catch (err) {
    await close().catch((closeErr: unknown) => logger.error('could not stop what had started', { error: closeErr }));
    throw err;
  }

  return {
    url,
    engine,
    queues,
    redis,
    keys,
    sink,
    close,
  };
}

/** Listens, or says which variable to change when the address is taken or not allowed. */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new ConfigError('PORT', `Port ${port} on ${host} is already in use by another program: set PORT to a free port (or stop the other program).`));
      else if (err.code === 'EACCES') reject(new ConfigError('PORT', `This user may not listen on port ${port}: set PORT to a port above 1023.`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new ConfigError('HOST', `${host} is not an address of this machine: set HOST to one of its addresses (127.0.0.1, or 0.0.0.0 for all).`));
      else reject(err);
    });
    server.listen(port, host, () => resolve());
  });
}
