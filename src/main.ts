import { createPublicKey } from 'node:crypto';
import { githubPlatform } from '../adapters/github/index.js';
import { linearPlatform } from '../adapters/linear/index.js';
import { localPlatform } from '../adapters/local/index.js';
import { slackPlatform } from '../adapters/slack/index.js';
import { startBridge, type Bridge, type LoginContext, type LoginSetup } from './app/bridge.js';
import { systemClock, type Clock } from './core/clock.js';
import { loadConfig, type Config } from './core/config.js';
import type { SecretFileReader } from './core/config-files.js';
import { ConfigError, HandoffError } from './core/errors.js';
import { createLogger, type Logger } from './core/logger.js';
import { enabledProtocols } from './core/config-login.js';
import { createNetworkPolicy, type NetworkPolicy } from './core/network-policy.js';
import type { PlatformDescriptor } from './core/platform.js';
import { registerSecretShapes } from './core/secret-patterns.js';
import { agentSessionsProtocol } from './login/agent-sessions.js';
import { authMdProtocol } from './login/authmd.js';
import { idJagJwksRoute } from './login/id-jag-issuer.js';
import { cibaProtocol } from './login/ciba.js';
import { deviceProtocol } from './login/device.js';
import { createServiceDiscovery } from './login/discovery.js';
import { sandboxServicesOf, type ProtocolModule } from './login/protocol-module.js';
import { createServiceHttp, type ServiceHttp, type ServiceHttpOptions } from './login/service-http.js';
import { sandboxCibaClients } from './sandbox/ciba-state.js';
import { createSandbox, type Sandbox, type SandboxMount, type SandboxOptions } from './sandbox/index.js';
import { readAgentsFile } from './store/agents-file.js';
import { openAuditSink } from './store/audit-sink.js';
import { generateApiToken, generateVaultKey, readOrCreateSecret } from './store/data-dir.js';
import { createJsonCache } from './store/json-cache.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './store/embedded-redis.js';
import { redactUrl } from './store/redis.js';

/**
 * The one place that knows every concrete adapter and protocol, and the process around the
 * bridge: configuration, the private Redis and generated secrets in development, the banner,
 * signals.
 */

/**
 * The login protocols this build speaks: the registry. Config (`HANDOFF_PROTOCOLS`), the
 * engine's check of a request's `protocol`, discovery's choice (by each one's rank), secret
 * masking and the sandbox take what they need from this list and from nowhere else.
 */
export const loginProtocols: readonly ProtocolModule[] = [
  agentSessionsProtocol,
  authMdProtocol,
  deviceProtocol,
  cibaProtocol,
];
registerSecretShapes(loginProtocols.flatMap((p) => p.secretShapes));

/** One sandbox service per protocol that declares one, where it says. */
const sandboxMounts = (registry: readonly ProtocolModule[]): SandboxMount[] =>
  registry.flatMap((p) =>
    sandboxServicesOf(p).map((s) => ({
      base: s.base,
      options: { serviceName: s.serviceName, protocols: [p.name], ...(s.variant ? { variant: s.variant } : {}) },
    })),
  );

/**
 * Every platform the bridge can serve, in the order help text and errors list them. A new
 * platform is one folder under adapters/ and one entry here (docs/adding-a-platform.md).
 */
export const platforms: readonly PlatformDescriptor[] = [localPlatform, slackPlatform, githubPlatform, linearPlatform];

// Their tokens are masked in every log line and audit entry, configured or not.
registerSecretShapes(platforms.flatMap((p) => p.secretShapes));

/** The configuration, with every registered platform's variables (see loadConfig). */
export function loadHandoffConfig(env: Readonly<Record<string, string | undefined>>, files?: SecretFileReader): Config {
  return loadConfig(env, platforms, files);
}

export interface RuntimeOverrides {
  readonly redisUrl: string;
  readonly vaultKey: Buffer;
  readonly apiToken: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Applied to every sandbox instance (clock, lifetimes…) unless its mount says otherwise. */
  readonly sandboxOptions?: Partial<SandboxOptions>;
  /** Sandbox instances mounted besides the default ones (tests use them). */
  readonly extraSandboxes?: readonly SandboxMount[];
  /** Client settings for calls to services (the network policy always comes from the config). */
  readonly serviceHttp?: Omit<ServiceHttpOptions, 'policy'>;
  /** The protocol registry, when not `loginProtocols` (tests register throwaway protocols). */
  readonly loginProtocols?: readonly ProtocolModule[];
}

export interface RunningHandoff {
  readonly bridge: Bridge;
  /** The sandbox at /sandbox (agent sessions), when the sandbox is on. */
  readonly sandbox: Sandbox | undefined;
  /** Every mounted sandbox instance by base path. */
  readonly sandboxes: ReadonlyMap<string, Sandbox>;
}

/** Builds and starts a bridge from a parsed config (used by `serve` and by the tests). */
export async function startHandoff(config: Config, runtime: RuntimeOverrides): Promise<RunningHandoff> {
  const registry = runtime.loginProtocols ?? loginProtocols;
  registerSecretShapes(registry.flatMap((p) => p.secretShapes));
  // Before anything opens: a protocol name nothing registers stops start-up naming the ones there are.
  const protocols = enabledProtocols(config.login.protocols, registry);
  const clock = runtime.clock ?? systemClock;
  const policy = createNetworkPolicy({
    production: config.env === 'production',
    allowPrivateNetworks: config.network.allowPrivateNetworks,
    allowedServices: config.network.allowedServices,
  });
  const http = createServiceHttp({ ...runtime.serviceHttp, policy });
  const mounts = config.sandbox ? [...sandboxMounts(registry), ...(runtime.extraSandboxes ?? [])] : [];
  // With an ID-JAG issuer configured, the sandbox trusts it, so `npm start` can demo the ID-JAG registration.
  const idJag = config.login.idJag;
  const trust = idJag ? { idJagIssuers: { [idJag.issuer]: createPublicKey(idJag.key) } } : {};
  const sandboxes = new Map(
    mounts.map((m) => [m.base, createSandbox({ clock, ...trust, ...runtime.sandboxOptions, ...m.options }, m.base)]),
  );
  const sandbox = sandboxes.get('/sandbox');

  // Read before anything opens: a bad agents file stops start-up naming the entry.
  const fileAgents = config.agents.file ? await readAgentsFile(config.agents.file) : [];
  const auditSink = await openAuditSink(config.agents.auditSink);
  const bridge = await startBridge({
    redisUrl: runtime.redisUrl,
    prefix: config.prefix,
    vaultKey: runtime.vaultKey,
    previousVaultKeys: config.vaultPreviousKeys,
    apiToken: runtime.apiToken,
    host: config.host,
    port: config.port,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
    role: config.role,
    workerConcurrency: config.workerConcurrency,
    jobLockMs: config.jobLockMs,
    logger: runtime.logger,
    clock,
    policy: {
      production: config.env === 'production',
      defaultExpiresInMs: config.handoff.defaultExpiresInMs,
      maxExpiresInMs: config.handoff.maxExpiresInMs,
      pollIntervalMs: config.handoff.pollIntervalMs,
      pollMaxIntervalMs: config.handoff.pollMaxIntervalMs,
      claimLeaseMs: config.handoff.claimLeaseMs,
      publicThreads: Object.fromEntries(
        config.platforms.flatMap((p) => (p.publicThreads ? [[p.name, p.publicThreads.mode]] : [])),
      ),
      publicThreadsHowToAllow: Object.fromEntries(
        config.platforms.flatMap((p) => (p.publicThreads ? [[p.name, p.publicThreads.howToAllow]] : [])),
      ),
      refreshBeforeMs: config.login.refreshBeforeMs,
      credentialMaxAgeMs: config.agents.credentialMaxAgeMs,
      credentialIdleMs: config.agents.credentialIdleMs,
      approverEmailServices: config.login.approverEmailServices,
      network: policy,
      startTimeoutMs: config.network.startTimeoutMs,
      serviceConcurrency: config.network.serviceConcurrency,
      ...(config.waiting.remindAfterMs !== undefined ? { remindAfterMs: config.waiting.remindAfterMs } : {}),
      expiryWarningMs: config.waiting.expiryWarningMs,
    },
    agents: { fileAgents, limits: config.agents.limits },
    ...(auditSink ? { auditSink } : {}),
    login: (ctx) => loginSetup(config, registry, protocols, ctx, http, policy, runtime.serviceHttp),
    platforms: config.platforms,
    extraRoutes: [...sandboxes.values()].flatMap((s) => s.routes).concat(idJag ? [idJagJwksRoute(idJag)] : []),
    howToEnable: Object.fromEntries(platforms.map((p) => [p.name, p.howToEnable])),
  });
  return { bridge, sandbox, sandboxes };
}

/** The login protocols the bridge speaks (most preferred first) and discovery for "auto". */
function loginSetup(
  config: Config,
  registry: readonly ProtocolModule[],
  enabled: readonly string[],
  ctx: LoginContext,
  http: ServiceHttp,
  policy: NetworkPolicy,
  httpOptions: Omit<ServiceHttpOptions, 'policy'> = {},
): LoginSetup {
  // Metadata documents are small: a tighter body limit and one retry.
  const metadataHttp = createServiceHttp({ ...httpOptions, policy, maxBodyBytes: 256 * 1024, retries: 1 });
  const discovery = createServiceDiscovery({
    protocols: registry,
    http: metadataHttp,
    cache: createJsonCache({ redis: ctx.redis, keys: ctx.keys, namespace: 'discovery' }),
    cacheTtlMs: config.login.discoveryCacheMs,
    clock: ctx.clock,
    policy,
  });
  // With the sandbox mounted, its CIBA stand-in accepts the bridge as a client out of the box (npm start).
  const login = config.sandbox
    ? { ...config.login, cibaClients: { ...sandboxCibaClients(config), ...config.login.cibaClients } }
    : config.login;
  const context = { http, discovery, clock: ctx.clock, policy, login };
  const byName = new Map(registry.map((p) => [p.name, p]));
  return { protocols: enabled.flatMap((name) => byName.get(name)?.create(context) ?? []), discovery };
}

function banner(config: Config, url: string, details: { redis: string; tokenPath?: string; sandbox: boolean }): string {
  const base = config.publicUrl ?? url;
  const lines = [
    '',
    `handoff bridge is running (${config.role}, ${config.env})`,
    ...(config.env === 'production'
      ? []
      : [
          `  Mode      ${config.env}: sandbox ${config.sandbox ? 'on' : 'off'}, secrets generated into ${config.dataDir}/ unless set, a private Redis unless REDIS_URL is set.`,
          '            Not for production: run `handoff serve` (production by default) with REDIS_URL, HANDOFF_API_TOKEN and HANDOFF_VAULT_KEY.',
        ]),
    `  API       ${base}/v1/handoffs`,
    // The path only: the token itself stays out of terminals, scroll-back and captured output.
    `  Token     ${details.tokenPath ? `${details.tokenPath} (the CLI reads it from there)` : 'from HANDOFF_API_TOKEN'}`,
    ...(details.sandbox
      ? [
          `  Sandbox   ${loginProtocols
            .flatMap((p) => sandboxServicesOf(p).map((s) => `${base}${s.base} (${s.label})`))
            .join(', ')}`,
        ]
      : []),
    ...config.platforms.flatMap((p) => p.bannerLine?.(base) ?? []),
    `  Redis     ${details.redis}`,
    '',
    ...(details.sandbox && config.localThreads
      ? [
          'Try it: in another terminal run',
          `  npx handoff login --service ${base}/sandbox --thread local:demo --out credential.json`,
          `then open ${base}/threads/demo, follow the link, approve, and paste the finish code there.`,
          'The same from a BullMQ job (the agent keeps its queue on a Redis of its own, never this one):',
          `  HANDOFF_URL=${base} node --import tsx examples/agent-worker.ts --service ${base}/sandbox --thread local:demo`,
          '',
        ]
      : []),
  ];
  return lines.join('\n');
}

/**
 * The environment `serve` runs with. Production unless told otherwise: `--dev` (what `npm
 * start` passes) asks for development when NODE_ENV is not set; an explicit NODE_ENV wins.
 */
export function serveEnv(
  env: NodeJS.ProcessEnv,
  role: 'all' | 'server' | 'worker' | undefined,
  args: readonly string[],
): NodeJS.ProcessEnv {
  const unknown = args.filter((arg) => arg !== '--dev');
  if (unknown.length > 0)
    throw new ConfigError(
      'arguments',
      `Unknown option ${unknown[0]}: serve takes only --dev (development mode, as npm start runs it).`,
    );
  const development = args.includes('--dev') && !env.NODE_ENV?.trim() ? { NODE_ENV: 'development' } : {};
  return { ...env, ...development, ...(role ? { HANDOFF_ROLE: role } : {}) };
}

/** `handoff serve` / `npm start` (`serve --dev`). Returns the process exit code. */
export async function serve(
  env: NodeJS.ProcessEnv,
  role?: 'all' | 'server' | 'worker',
  args: readonly string[] = [],
): Promise<number> {
  let config: Config;
  try {
    config = loadHandoffConfig(serveEnv(env, role, args));
    enabledProtocols(config.login.protocols, loginProtocols);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({
    level: config.log.level,
    format: config.log.format ?? (process.stderr.isTTY ? 'pretty' : 'json'),
  });
  // Node would print such an error raw (an SDK error can carry request headers) and end the
  // process; queued work is safe in Redis either way, so log it masked and keep serving.
  process.on('unhandledRejection', (reason) =>
    logger.error('unhandled promise rejection; the bridge keeps running (please report this as a bug)', {
      error: reason,
    }),
  );

  let embedded: EmbeddedRedis | undefined;
  let running: RunningHandoff | undefined;
  try {
    let redisUrl = config.redisUrl;
    if (!redisUrl) {
      embedded = await startEmbeddedRedis({ dataDir: config.dataDir, pathEnv: env.PATH });
      redisUrl = embedded.url;
      logger.info(
        embedded.owned ? 'started a private redis-server' : 'reusing the private redis-server from an earlier start',
        { url: redisUrl },
      );
    }
    let vaultKey = config.vaultKey;
    if (!vaultKey) {
      const generated = await readOrCreateSecret(config.dataDir, 'vault.key', generateVaultKey);
      vaultKey = Buffer.from(generated.value, 'base64');
      logger.warn(
        'HANDOFF_VAULT_KEY is not set: using a development key from the data directory. Set HANDOFF_VAULT_KEY in production.',
        {
          path: generated.path,
          created: generated.created,
        },
      );
    }
    let apiToken = config.apiToken;
    let tokenPath: string | undefined;
    if (!apiToken) {
      const generated = await readOrCreateSecret(config.dataDir, 'api-token', generateApiToken);
      apiToken = generated.value;
      tokenPath = generated.path;
    }
    running = await startHandoff(config, { redisUrl, vaultKey, apiToken, logger });
    if (running.bridge.url) {
      process.stdout.write(
        `${banner(config, running.bridge.url, {
          redis: embedded ? `${redisUrl} (private; data in ${config.dataDir}/redis)` : redactUrl(redisUrl),
          ...(tokenPath ? { tokenPath } : {}),
          sandbox: running.sandbox !== undefined,
        })}\n`,
      );
    } else logger.info('worker running');
  } catch (err) {
    await running?.bridge.close().catch(() => undefined);
    await embedded?.stop();
    if (err instanceof HandoffError) {
      process.stderr.write(`${err.message}\n`);
      return err instanceof ConfigError ? 2 : 1;
    }
    logger.error('the bridge could not start', { error: err });
    return 1;
  }

  return new Promise<number>((resolve) => {
    const stop = async (signal: string) => {
      logger.info('shutting down', { signal });
      await running?.bridge.close().catch((err: unknown) => logger.error('shutdown error', { error: err }));
      await embedded?.stop();
      resolve(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}
