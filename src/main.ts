import { createLocalPlatform } from '../adapters/local/index.js';
import { startBridge, type Bridge, type LoginContext, type LoginSetup, type PlatformContext, type PlatformModule } from './app/bridge.js';
import { systemClock, type Clock } from './core/clock.js';
import { loadConfig, type Config } from './core/config.js';
import { ConfigError, HandoffError } from './core/errors.js';
import { createLogger, type Logger } from './core/logger.js';
import type { LoginProtocol, ProtocolName } from './core/login-protocol.js';
import { createAgentSessionsProtocol } from './login/agent-sessions.js';
import { createAuthMdProtocol } from './login/authmd.js';
import { createDeviceProtocol } from './login/device.js';
import { createServiceDiscovery } from './login/discovery.js';
import { createServiceHttp, type ServiceHttp, type ServiceHttpOptions } from './login/service-http.js';
import { createSandbox, defaultSandboxMounts, type Sandbox, type SandboxMount, type SandboxOptions } from './sandbox/index.js';
import { generateApiToken, generateVaultKey, readOrCreateSecret } from './store/data-dir.js';
import { createJsonCache } from './store/json-cache.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './store/embedded-redis.js';

/**
 * The one place that knows every concrete adapter and protocol, and the process around the
 * bridge: configuration, the private Redis and generated secrets in development, the banner,
 * signals.
 */

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
  readonly serviceHttp?: ServiceHttpOptions;
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
  const clock = runtime.clock ?? systemClock;
  const http = createServiceHttp(runtime.serviceHttp);
  const mounts = config.sandbox ? [...defaultSandboxMounts, ...(runtime.extraSandboxes ?? [])] : [];
  const sandboxes = new Map(mounts.map((m) => [m.base, createSandbox({ clock, ...runtime.sandboxOptions, ...m.options }, m.base)]));
  const sandbox = sandboxes.get('/sandbox');

  const platforms = await configuredPlatforms(config);
  const bridge = await startBridge({
    redisUrl: runtime.redisUrl,
    prefix: config.prefix,
    vaultKey: runtime.vaultKey,
    apiToken: runtime.apiToken,
    host: config.host,
    port: config.port,
    role: config.role,
    workerConcurrency: config.workerConcurrency,
    logger: runtime.logger,
    clock,
    policy: {
      production: config.env === 'production',
      defaultExpiresInMs: config.handoff.defaultExpiresInMs,
      maxExpiresInMs: config.handoff.maxExpiresInMs,
      pollIntervalMs: config.handoff.pollIntervalMs,
      pollMaxIntervalMs: config.handoff.pollMaxIntervalMs,
      publicThreads: { github: config.github?.allowPublicRepos ? 'warn' : 'refuse', slack: config.slack?.sharedChannels ?? 'warn' },
      publicThreadsHowToAllow: {
        github: 'set GITHUB_ALLOW_PUBLIC_REPOS=true on the bridge (the link is then posted with a warning)',
        slack: 'set SLACK_SHARED_CHANNELS=warn on the bridge (the link is then posted with a warning)',
      },
      refreshBeforeMs: config.login.refreshBeforeMs,
    },
    login: (ctx) => loginSetup(config, ctx, http, runtime.serviceHttp),
    platforms: (ctx) => platforms.map((create) => create(ctx)),
    extraRoutes: [...sandboxes.values()].flatMap((s) => s.routes),
    howToEnable: {
      slack:
        'Set SLACK_BOT_TOKEN and either SLACK_SIGNING_SECRET (events over HTTP at POST /slack/events) or SLACK_APP_TOKEN (Socket Mode); see the Slack section of the README.',
      github: 'Set GITHUB_TOKEN, or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY, to enable GitHub threads (see README, "GitHub").',
      linear: 'To use them, set LINEAR_API_KEY (or LINEAR_ACCESS_TOKEN), plus LINEAR_WEBHOOK_SECRET for webhooks (without it the bridge polls Linear).',
    },
  });
  return { bridge, sandbox, sandboxes };
}

/** The login protocols the bridge speaks (in order of preference) and discovery for "auto". */
function loginSetup(config: Config, ctx: LoginContext, http: ServiceHttp, httpOptions: ServiceHttpOptions = {}): LoginSetup {
  const allowInsecureHttp = config.env !== 'production';
  // Metadata documents are small: a tighter body limit and one retry.
  const metadataHttp = createServiceHttp({ ...httpOptions, maxBodyBytes: 256 * 1024, retries: 1 });
  const discovery = createServiceDiscovery({
    http: metadataHttp,
    cache: createJsonCache({ redis: ctx.redis, keys: ctx.keys, namespace: 'discovery' }),
    cacheTtlMs: config.login.discoveryCacheMs,
    clock: ctx.clock,
    allowInsecureHttp,
  });
  const clientId = (service: string) => config.login.deviceClientIds[new URL(service).origin] ?? config.login.deviceClientId;
  const all: Record<ProtocolName, LoginProtocol> = {
    'agent-sessions': createAgentSessionsProtocol({ http }),
    authmd: createAuthMdProtocol({ http, discovery, clock: ctx.clock, allowInsecureHttp }),
    device: createDeviceProtocol({ http, discovery, clock: ctx.clock, clientId, allowInsecureHttp }),
  };
  return { protocols: config.login.protocols.map((name) => all[name]), discovery };
}

type PlatformFactory = (ctx: PlatformContext) => PlatformModule;

/**
 * The platforms this bridge serves. Each platform's adapter, and with it its SDK (Bolt,
 * Octokit, the Linear SDK), is imported only when that platform is configured: a bridge
 * without Slack does not pay Bolt's start-up time and memory.
 */
async function configuredPlatforms(config: Config): Promise<PlatformFactory[]> {
  const factories: PlatformFactory[] = [
    (ctx) => createLocalPlatform({ redis: ctx.redis, keyPrefix: `${ctx.keyPrefix}:local`, sink: ctx.sink, now: () => ctx.clock.now() }),
  ];
  const { slack, github, linear } = config;
  if (slack) {
    // Events over HTTP routes, or a Socket Mode connection.
    const { createSlackPlatform } = await import('../adapters/slack/index.js');
    factories.push((ctx) => createSlackPlatform({ config: slack, sink: ctx.sink, now: () => ctx.clock.now(), logger: ctx.logger }));
  }
  if (github) {
    const { createGithubPlatform } = await import('../adapters/github/index.js');
    factories.push((ctx) =>
      createGithubPlatform({ config: github, redis: ctx.redis, keyPrefix: `${ctx.keyPrefix}:github`, sink: ctx.sink, now: () => ctx.clock.now(), logger: ctx.logger }),
    );
  }
  if (linear) {
    const { createLinearPlatform } = await import('../adapters/linear/index.js');
    factories.push((ctx) =>
      createLinearPlatform({
        config: linear,
        redis: ctx.redis,
        keyPrefix: `${ctx.keyPrefix}:linear`,
        sink: ctx.sink,
        clock: ctx.clock,
        logger: ctx.logger,
        // The adapter's links between issues and threads must outlast the longest handoff.
        stateTtlMs: config.handoff.maxExpiresInMs + 7 * 24 * 3_600_000,
      }),
    );
  }
  return factories;
}

function banner(config: Config, url: string, details: { redis: string; tokenPath?: string; token?: string; sandbox: boolean }): string {
  const base = config.publicUrl ?? url;
  const lines = [
    '',
    `handoff bridge is running (${config.role}, ${config.env})`,
    `  API       ${base}/v1/handoffs`,
    `  Token     ${details.tokenPath ? `${details.tokenPath}${details.token ? `  (${details.token})` : ''}` : 'from HANDOFF_API_TOKEN'}`,
    `  Threads   ${base}/threads/demo`,
    ...(details.sandbox
      ? [`  Sandbox   ${base}/sandbox (agent sessions), ${base}/sandbox/authmd (auth.md; mail at /sandbox/authmd/mailbox), ${base}/sandbox/device (device flow)`]
      : []),
    ...(config.slack
      ? [`  Slack     ${config.slack.inbound.mode === 'events' ? `${base}/slack/events, ${base}/slack/interactivity` : 'Socket Mode (workers connect to Slack)'}`]
      : []),
    `  Redis     ${details.redis}`,
    '',
    ...(details.sandbox
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

/** `handoff serve` / `npm start`. Returns the process exit code. */
export async function serve(env: NodeJS.ProcessEnv, role?: 'all' | 'server' | 'worker'): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(role ? { ...env, HANDOFF_ROLE: role } : env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: config.log.level, format: config.log.format ?? (process.stderr.isTTY ? 'pretty' : 'json') });
  // Node would print such an error raw (an SDK error can carry request headers) and end the
  // process; queued work is safe in Redis either way, so log it masked and keep serving.
  process.on('unhandledRejection', (reason) => logger.error('unhandled promise rejection; the bridge keeps running (please report this as a bug)', { error: reason }));

  let embedded: EmbeddedRedis | undefined;
  let running: RunningHandoff | undefined;
  try {
    let redisUrl = config.redisUrl;
    if (!redisUrl) {
      embedded = await startEmbeddedRedis({ dataDir: config.dataDir, pathEnv: env.PATH });
      redisUrl = embedded.url;
      logger.info(embedded.owned ? 'started a private redis-server' : 'reusing the private redis-server from an earlier start', { url: redisUrl });
    }
    let vaultKey = config.vaultKey;
    if (!vaultKey) {
      const generated = await readOrCreateSecret(config.dataDir, 'vault.key', generateVaultKey);
      vaultKey = Buffer.from(generated.value, 'base64');
      logger.warn('HANDOFF_VAULT_KEY is not set: using a development key from the data directory. Set HANDOFF_VAULT_KEY in production.', {
        path: generated.path,
        created: generated.created,
      });
    }
    let apiToken = config.apiToken;
    let tokenPath: string | undefined;
    let printedToken: string | undefined;
    if (!apiToken) {
      const generated = await readOrCreateSecret(config.dataDir, 'api-token', generateApiToken);
      apiToken = generated.value;
      tokenPath = generated.path;
      printedToken = generated.value;
    }
    running = await startHandoff(config, { redisUrl, vaultKey, apiToken, logger });
    if (running.bridge.url) {
      process.stdout.write(
        `${banner(config, running.bridge.url, {
          redis: embedded ? `${redisUrl} (private; data in ${config.dataDir}/redis)` : redisUrl.replace(/\/\/[^@]*@/, '//***@'),
          ...(tokenPath ? { tokenPath } : {}),
          ...(printedToken ? { token: printedToken } : {}),
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
