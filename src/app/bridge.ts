import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Route } from '../core/http-route.js';
import type { Logger } from '../core/logger.js';
import type { LoginDiscovery, LoginProtocol } from '../core/login-protocol.js';
import type { ConfiguredPlatform, PlatformModule } from '../core/platform.js';
import type { InboundSink, LinkOpenedSink } from '../core/thread-adapter.js';
import type { Platform } from '../core/thread-ref.js';
import type { AgentLimits } from '../core/agent-policy.js';
import { authenticateAgentKey } from '../engine/agents.js';
import { noteLinkOpened } from '../engine/link-opened.js';
import type { EngineDeps, EnginePolicy } from '../engine/engine-deps.js';
import { agentRoutes } from '../http/agent-routes.js';
import { createAdapterRegistry, createProtocolRegistry } from '../engine/registries.js';
import { adminTokenAuthenticator, createApiGuard } from '../http/api-auth.js';
import { credentialRoutes } from '../http/credential-routes.js';
import { ownHostNames } from '../http/browser-guard.js';
import { eventRoutes } from '../http/event-routes.js';
import { createFeedCursors, feedCursorKey } from '../http/feed-cursor.js';
import { createHttpServer } from '../http/http-server.js';
import { handoffRoutes } from '../http/handoff-routes.js';
import { healthRoutes } from '../http/health-routes.js';
import { createStatusEvents, type StatusEvents } from '../http/status-events.js';
import { createCredentialWorker, scheduleCredentialSweep } from '../queue/credential-worker.js';
import { createDriverWorker } from '../queue/driver-worker.js';
import { createInboundIntake } from '../queue/inbound-intake.js';
import { createInboundWorker } from '../queue/inbound-worker.js';
import { createOutboundWorker } from '../queue/outbound-worker.js';
import { startPolling } from '../queue/poll-worker.js';
import { createQueueMetrics } from '../queue/queue-metrics.js';
import { createQueues, type Queues } from '../queue/queues.js';
import { createAgentStore } from '../store/agent-store.js';
import type { FileAgent } from '../store/agents-file.js';
import type { AuditSink } from '../store/audit-sink.js';
import { createAgentFeed } from '../store/agent-feed.js';
import { createDedupeStore } from '../store/dedupe.js';
import { createKeys, type Keys } from '../store/keys.js';
import { createServiceGate } from '../store/service-gate.js';
import {
  connectRedis,
  duplicateConnection,
  endConnection,
  reportConnection,
  storeTimeoutMs,
  type Redis,
} from '../store/redis.js';
import { createEngineStore } from './engine-store.js';
import { finishOrCut, shutdownGraceMs, workersReadyOrRedisLost } from './shutdown.js';
import { redisKeyValue } from './redis-key-value.js';

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

export interface BridgeOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly vaultKey: Buffer;
  /** Retired vault keys that still open what they sealed (HANDOFF_VAULT_PREVIOUS_KEYS). */
  readonly previousVaultKeys?: readonly Buffer[];
  readonly apiToken: string;
  readonly host: string;
  readonly port: number;
  /** HANDOFF_PUBLIC_URL: one of the names browser routes answer at. */
  readonly publicUrl?: string;
  /** HANDOFF_METRICS_TOKEN: required to read /metrics when set (and in production). */
  readonly metricsToken?: string;
  /** `server` answers HTTP only, `worker` runs queues only, `all` both. */
  readonly role: 'all' | 'server' | 'worker';
  readonly workerConcurrency: number;
  /** HANDOFF_JOB_LOCK_MS: how long a dead worker's jobs stay taken before another worker runs them. */
  readonly jobLockMs: number;
  readonly policy: EnginePolicy;
  /** Agents declared in HANDOFF_AGENTS_FILE, and the limits of agents that name none. */
  readonly agents: { readonly fileAgents: readonly FileAgent[]; readonly limits: AgentLimits };
  /** Where audit entries also go, outside Redis (closed with the bridge). */
  readonly auditSink?: AuditSink;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The configured platforms (src/core/platform.ts), created once Redis is connected. */
  readonly platforms: readonly ConfiguredPlatform[];
  /** Builds the login protocols once Redis is connected. */
  readonly login: (ctx: LoginContext) => LoginSetup;
  /** Routes mounted without the API token (the sandbox). */
  readonly extraRoutes?: readonly Route[];
  /** How to enable each registered platform that is not configured, for error messages. */
  readonly howToEnable?: Readonly<Record<Platform, string>>;
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
  // Deliveries arrive many at once: their dedupe scripts share a connection that sends the
  // commands of one tick in one write (ioredis auto-pipelining), so a burst costs few syscalls.
  const intakeRedis = duplicateConnection(redis, { enableAutoPipelining: true });
  reportConnection(intakeRedis, logger, 'intake');
  const dedupe = createDedupeStore({ redis: intakeRedis, keys });

  // Adapters need the sink before the queues (which need the adapters' platforms) exist.
  let intake: InboundSink | undefined;
  const sink: InboundSink = (reply) => {
    if (!intake) throw new Error('inbound intake used before the bridge finished starting');
    return intake(reply);
  };
  // Opened links speed up polling once the engine exists; a click before that changes nothing.
  let linkEngine: EngineDeps | undefined;
  const linkOpened: LinkOpenedSink = async (event) => {
    if (linkEngine) await noteLinkOpened(linkEngine, event);
  };
  // Where this process answers HTTP, once it listens (a worker-only process never does).
  let listeningUrl: string | undefined;
  const modules: PlatformModule[] = [];
  for (const platform of options.platforms) {
    modules.push(
      await platform.create({
        store: redisKeyValue(redis, keys.adapter(platform.name)),
        sink,
        linkOpened,
        clock,
        logger: logger.child({ platform: platform.name }),
        maxHandoffLifetimeMs: options.policy.maxExpiresInMs,
        publicBaseUrl: () => options.publicUrl ?? listeningUrl,
      }),
    );
  }
  const platforms = modules.map((m) => m.adapter.platform);
  const queues = createQueues(redis, keys.queuePrefix, platforms);
  const storeOn = (connection: Redis, on: Queues) =>
    createEngineStore({
      redis: connection,
      queues: on,
      keys,
      vaultKey: options.vaultKey,
      previousVaultKeys: options.previousVaultKeys ?? [],
      now,
      polledPlatforms: modules.filter((m) => m.poller).map((m) => m.adapter.platform),
      unpacedPlatforms: modules.filter((m) => !m.adapter.outboundRateLimit).map((m) => m.adapter.platform),
      agents: options.agents,
      ...(options.auditSink ? { auditSink: options.auditSink } : {}),
    });
  const mainStore = storeOn(redis, queues);
  intake = createInboundIntake({ queues, dedupe, vault: mainStore.vault, store: mainStore.store });
  const login = options.login({ redis, keys, clock, logger });
  const agentStore = createAgentStore({ redis, keys });
  for (const declared of options.agents.fileAgents) {
    if (await agentStore.get(declared.id)) {
      logger.warn(
        'an agent in HANDOFF_AGENTS_FILE has the id of an agent created through the API; the file wins and the API key no longer works',
        { agentId: declared.id },
      );
    }
  }

  const engine: EngineDeps = {
    ...mainStore,
    adapters: createAdapterRegistry(
      modules.map((m) => m.adapter),
      options.howToEnable,
    ),
    protocols: createProtocolRegistry(login.protocols),
    ...(login.discovery ? { discovery: login.discovery } : {}),
    serviceGate: createServiceGate({ redis, keys, now, limit: options.policy.serviceConcurrency }),
    clock,
    logger,
    policy: options.policy,
  };
  linkEngine = engine;

  const workers: Worker[] = [];
  const pollers: Array<{ close(): Promise<void> }> = [];
  const started: Array<{ stop?(): Promise<void> }> = [];
  const runsWorkers = options.role !== 'server';
  let server: Server | undefined;
  let events: StatusEvents | undefined;
  // The status events' subscriber (its own connection: subscriber mode allows nothing else).
  let subscriber: Redis | undefined;
  let url: string | undefined;
  // The agent API's own connection: every command gives up after storeTimeoutMs, so a stalled
  // or unreachable Redis makes the API answer 503 store_unavailable instead of hanging (the
  // workers' connection waits, as BullMQ's blocking commands need).
  let apiRedis: Redis | undefined;
  let apiQueues: Queues | undefined;

  // Stops whatever has started so far: on close, and when start-up fails part-way.
  async function close(): Promise<void> {
    if (server?.listening) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    const connections = () => [apiRedis, intakeRedis, redis, subscriber];
    const cut = () => {
      for (const connection of connections()) if (connection) endConnection(connection);
    };
    const graceful = stopRedisUsers(cut);
    if (!(await finishOrCut(graceful, { redis, cut }))) {
      logger.warn('stopped without waiting for Redis: it was lost or did not answer during shutdown', {
        graceMs: shutdownGraceMs,
      });
    }
    await options.auditSink?.close();
  }

  // Everything that talks to Redis, stopped gracefully while Redis answers.
  async function stopRedisUsers(cut: () => void): Promise<void> {
    await events?.close();
    for (const module of started) await module.stop?.();
    // With Redis unreachable (an outage during shutdown) a worker's graceful close waits for a
    // reconnection that may never come: close them at once instead. Their active jobs stay
    // active in Redis and are taken again as stalled once a bridge runs against it.
    await workersReadyOrRedisLost(workers, redis);
    const redisDown = redis.status !== 'ready';
    // Nothing can reach Redis: end the connections first, so no queue or QUIT waits for it.
    if (redisDown) cut();
    await Promise.all([...workers.map((w) => w.close(redisDown)), ...pollers.map((p) => p.close())]);
    await queues.close();
    await apiQueues?.close();
    await apiRedis?.quit().catch(() => apiRedis?.disconnect());
    await intakeRedis.quit().catch(() => intakeRedis.disconnect());
    await redis.quit().catch(() => redis.disconnect());
  }

  try {
    if (runsWorkers) {
      // Modules start first: one that refuses (a wrong token) stops start-up before any worker
      // opens its connections, so nothing is closed half-way through BullMQ's own set-up.
      for (const module of modules) {
        started.push(module);
        await module.start?.();
      }
      const common = { engine, connection: redis, prefix: keys.queuePrefix, logger, lockMs: options.jobLockMs };
      workers.push(createDriverWorker({ ...common, concurrency: options.workerConcurrency }));
      workers.push(createInboundWorker({ ...common, concurrency: options.workerConcurrency }));
      workers.push(createCredentialWorker(common));
      await scheduleCredentialSweep(queues.credentials);
      for (const module of modules) workers.push(createOutboundWorker({ ...common, adapter: module.adapter }));
      for (const module of modules) {
        if (module.poller) {
          pollers.push(
            await startPolling({
              platform: module.adapter.platform,
              poller: module.poller,
              store: mainStore.store,
              clock,
              redis,
              keys,
              prefix: keys.queuePrefix,
              logger,
            }),
          );
        }
      }
    }

    if (options.role !== 'worker') {
      subscriber = duplicateConnection(redis);
      reportConnection(subscriber, logger, 'status events');
      events = await createStatusEvents(subscriber, keys.events());
      apiRedis = duplicateConnection(redis, { commandTimeout: storeTimeoutMs });
      reportConnection(apiRedis, logger, 'api');
      apiQueues = createQueues(apiRedis, keys.queuePrefix, platforms);
      const apiEngine: EngineDeps = { ...engine, ...storeOn(apiRedis, apiQueues) };
      const guard = createApiGuard(
        adminTokenAuthenticator(options.apiToken, (bearer, req) =>
          authenticateAgentKey(apiEngine, bearer, { source: req.remoteAddress, requestId: req.requestId }),
        ),
      );
      const routes: Route[] = [
        ...healthRoutes({
          redis,
          queues: createQueueMetrics(
            apiQueues,
            modules.map((m) => m.adapter.platform),
          ),
          metrics: { token: options.metricsToken, production: options.policy.production },
        }),
        ...handoffRoutes({ engine: apiEngine, events, guard }),
        ...credentialRoutes({ engine: apiEngine, guard }),
        ...agentRoutes({ engine: apiEngine, guard }),
        ...eventRoutes({
          feed: createAgentFeed({ redis: apiRedis, keys }),
          events,
          cursors: createFeedCursors(feedCursorKey(options.vaultKey)),
          guard,
        }),
        ...modules.flatMap((m) => m.routes ?? []),
        ...(options.extraRoutes ?? []),
      ];
      let ownHosts: ReadonlySet<string> = new Set();
      server = createHttpServer({ routes, logger, ownHosts: () => ownHosts });
      await listen(server, options.port, options.host);
      const address = server.address() as AddressInfo;
      ownHosts = ownHostNames({
        publicUrl: options.publicUrl,
        host: options.host,
        port: address.port,
        development: !options.policy.production,
      });
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${address.port}`;
      listeningUrl = url;
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
      if (err.code === 'EADDRINUSE')
        reject(
          new ConfigError(
            'PORT',
            `Port ${port} on ${host} is already in use by another program: set PORT to a free port (or stop the other program).`,
          ),
        );
      else if (err.code === 'EACCES')
        reject(new ConfigError('PORT', `This user may not listen on port ${port}: set PORT to a port above 1023.`));
      else if (err.code === 'EADDRNOTAVAIL')
        reject(
          new ConfigError(
            'HOST',
            `${host} is not an address of this machine: set HOST to one of its addresses (127.0.0.1, or 0.0.0.0 for all).`,
          ),
        );
      else reject(err);
    });
    server.listen(port, host, () => resolve());
  });
}
