import { z } from 'zod';
import { agentsConfigFrom, agentsEnv, type AgentsConfig } from './config-agents.js';
import { flag, optionalText, port, positiveMs } from './config-fields.js';
import { resolveSecretFiles, type SecretFileReader } from './config-files.js';
import { loginConfigFrom, loginEnv, type LoginConfig } from './config-login.js';
import { networkConfigFrom, networkEnv, type NetworkConfig } from './config-network.js';
import { waitingConfigFrom, waitingEnv, type WaitingConfig } from './config-waiting.js';
import { ConfigError } from './errors.js';
import { isClusterUrl, wellMadeClusterUrl } from './redis-target.js';
import { platformNames, type ConfiguredPlatform, type PlatformDescriptor } from './platform.js';
import { registerSecretShapes } from './secret-patterns.js';

/**
 * The one configuration schema. Parsed once, from an env object passed in (never read from
 * process.env here), by `loadConfig`. Every error names the variable to set. Each platform
 * brings its own variables (`PlatformDescriptor.env`), merged into this one schema.
 */

const vaultKey = z
  .string()
  .refine((v) => /^[A-Za-z0-9+/_-]+=*$/.test(v) && Buffer.from(v, 'base64').length === 32, {
    message: 'must be 32 random bytes encoded as base64 (generate one with: openssl rand -base64 32)',
  })
  .transform((v) => Buffer.from(v, 'base64'));

/** Keys a rotation retired, still used to open what they sealed until `handoff vault rekey` has run. */
const previousVaultKeys = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z.string().refine((v) => /^[A-Za-z0-9+/_-]+=*$/.test(v) && Buffer.from(v, 'base64').length === 32, {
        message: 'must list keys of 32 random bytes encoded as base64, separated by commas',
      }),
    ),
  )
  .transform((list) => list.map((v) => Buffer.from(v, 'base64')));

const bridgeEnv = {
  ...loginEnv,
  ...agentsEnv,
  ...networkEnv,
  ...waitingEnv,
  // Production unless told otherwise: `npm start` (serve --dev) asks for development.
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  PORT: port.default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  REDIS_URL: optionalText.pipe(
    z
      .string()
      .regex(
        /^rediss?(\+cluster)?:\/\/\S+$/,
        'must look like redis://host:6379 or rediss://user:pass@host:6380/0, or redis+cluster://host1:7000,host2:7001 for a Redis Cluster',
      )
      .refine((url) => !isClusterUrl(url) || wellMadeClusterUrl(url), {
        message: 'for a Redis Cluster must look like redis+cluster://[user:pass@]host1:7000,host2:7001',
      })
      .optional(),
  ),
  HANDOFF_API_TOKEN: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  HANDOFF_VAULT_KEY: optionalText.pipe(vaultKey.optional()),
  HANDOFF_VAULT_PREVIOUS_KEYS: optionalText.pipe(previousVaultKeys.optional()),
  HANDOFF_DATA_DIR: z.string().min(1).default('.handoff'),
  HANDOFF_PUBLIC_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  HANDOFF_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}-]{1,64}$/, 'may use letters, digits, _, -, { and } only')
    .default('handoff'),
  HANDOFF_ROLE: z.enum(['all', 'server', 'worker']).default('all'),
  HANDOFF_SANDBOX: flag.optional(),
  HANDOFF_LOCAL_THREADS: flag.optional(),
  HANDOFF_METRICS_TOKEN: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  HANDOFF_DEFAULT_EXPIRES_IN_MS: positiveMs.default(30 * 60_000),
  HANDOFF_MAX_EXPIRES_IN_MS: positiveMs.default(24 * 3_600_000),
  HANDOFF_POLL_INTERVAL_MS: positiveMs.min(1_000, 'must be at least 1000').default(2_000),
  HANDOFF_POLL_MAX_INTERVAL_MS: positiveMs.min(1_000, 'must be at least 1000').default(5 * 60_000),
  HANDOFF_CLAIM_LEASE_MS: positiveMs.min(300, 'must be at least 300').default(60_000),
  HANDOFF_WORKER_CONCURRENCY: z.coerce
    .number({ error: 'must be a whole number from 1 to 1000' })
    .int('must be a whole number from 1 to 1000')
    .min(1, 'must be a whole number from 1 to 1000')
    .max(1000, 'must be a whole number from 1 to 1000')
    .default(32),
  HANDOFF_JOB_LOCK_MS: positiveMs.min(1_000, 'must be at least 1000').default(30_000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
};

/** The one schema: the bridge's variables and every registered platform's. */
function envSchema(platforms: readonly PlatformDescriptor[]) {
  const platformEnv: Record<string, z.ZodType> = {};
  for (const platform of platforms) {
    for (const [name, field] of Object.entries(platform.env)) {
      if (name in bridgeEnv || name in platformEnv)
        throw new Error(`${name} is declared twice (platform ${platform.name})`);
      platformEnv[name] = field;
    }
  }
  return z.object({ ...platformEnv, ...bridgeEnv }).superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    const required: Array<[keyof typeof env, string]> = [
      ['HANDOFF_VAULT_KEY', 'is required in production: 32 random bytes as base64 (openssl rand -base64 32)'],
      ['HANDOFF_API_TOKEN', 'is required in production: a long random string agents send as a bearer token'],
      [
        'REDIS_URL',
        'is required in production: the bridge starts its own Redis only in development (npm start, or handoff serve --dev)',
      ],
    ];
    for (const [name, message] of required) {
      if (env[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message });
    }
  });
}

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  /** Absent: start a private redis-server (development only). */
  readonly redisUrl: string | undefined;
  /** Absent: generated into `<dataDir>/api-token` (development only). */
  readonly apiToken: string | undefined;
  /** Absent: generated into `<dataDir>/vault.key` (development only). */
  readonly vaultKey: Buffer | undefined;
  /** Retired keys that still open what they sealed (a rotation in progress); default none. */
  readonly vaultPreviousKeys: readonly Buffer[];
  readonly dataDir: string;
  /** Base URL people reach the bridge at; default http://HOST:PORT. */
  readonly publicUrl: string | undefined;
  /** Prefix of every Redis key the bridge writes. */
  readonly prefix: string;
  readonly role: 'all' | 'server' | 'worker';
  /** Mount the sandbox service at /sandbox. Default: on unless production. */
  readonly sandbox: boolean;
  /** Serve local threads (`local:<name>`, /threads/*). Default: on unless production. */
  readonly localThreads: boolean;
  /** Bearer token GET /metrics requires; absent: /metrics is open outside production and refused in it. */
  readonly metricsToken: string | undefined;
  readonly handoff: {
    /** Default lifetime of a handoff, ms (30 min). */
    readonly defaultExpiresInMs: number;
    /** Longest lifetime a request may ask for, ms (24 h). */
    readonly maxExpiresInMs: number;
    /** Background poll interval when the service names none, ms (2 s). */
    readonly pollIntervalMs: number;
    /** Longest gap between background polls of an old handoff, ms (5 min). */
    readonly pollMaxIntervalMs: number;
    /** A claim not renewed for this long is presumed abandoned and released, ms (60 s). */
    readonly claimLeaseMs: number;
  };
  /** Login protocols, discovery and credential refresh. */
  readonly login: LoginConfig;
  /** Agents (file, limits), credentials' life, the audit sink. */
  readonly agents: AgentsConfig;
  /** Which internal services may be called, and how much one service may take. */
  readonly network: NetworkConfig;
  /** Reminders and the expiry warning of waiting handoffs. */
  readonly waiting: WaitingConfig;
  /** Jobs each worker runs at once. */
  readonly workerConcurrency: number;
  /** HANDOFF_JOB_LOCK_MS: a dead worker's jobs run again elsewhere within about twice this. */
  readonly jobLockMs: number;
  readonly log: { readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly format: 'json' | 'pretty' | undefined };
  /** The registered platforms that this environment configures, in registration order. */
  readonly platforms: readonly ConfiguredPlatform[];
}

/** Turns zod's issues into one ConfigError that names every variable to fix. */
function toConfigError(error: z.ZodError): ConfigError {
  const lines = error.issues.map((issue) => `${String(issue.path[0] ?? 'environment')} ${issue.message}`);
  const first = String(error.issues[0]?.path[0] ?? 'environment');
  return new ConfigError(first, `Invalid configuration:\n  - ${lines.join('\n  - ')}`);
}

/**
 * Parses the environment, with the variables of the registered `platforms` (src/main.ts lists
 * them). Secret variables may come from files (`<NAME>_FILE`), read through `files` (default
 * node:fs).
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  platforms: readonly PlatformDescriptor[],
  files?: SecretFileReader,
): Config {
  platformNames(platforms);
  // Their tokens are masked in every log line of this process from now on.
  registerSecretShapes(platforms.flatMap((p) => p.secretShapes));
  // An empty variable (`PORT=`, or `${X:-}` in compose files) means "not set".
  const resolved = resolveSecretFiles(
    env,
    files,
    platforms.flatMap((p) => p.secretVariables),
  );
  const set = Object.fromEntries(
    Object.entries(resolved).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const parsed = envSchema(platforms).safeParse(set);
  if (!parsed.success) throw toConfigError(parsed.error);
  const e = parsed.data;
  if (e.HANDOFF_DEFAULT_EXPIRES_IN_MS > e.HANDOFF_MAX_EXPIRES_IN_MS) {
    throw new ConfigError(
      'HANDOFF_DEFAULT_EXPIRES_IN_MS',
      'Invalid configuration:\n  - HANDOFF_DEFAULT_EXPIRES_IN_MS must not exceed HANDOFF_MAX_EXPIRES_IN_MS',
    );
  }
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    apiToken: e.HANDOFF_API_TOKEN,
    vaultKey: e.HANDOFF_VAULT_KEY,
    vaultPreviousKeys: e.HANDOFF_VAULT_PREVIOUS_KEYS ?? [],
    dataDir: e.HANDOFF_DATA_DIR,
    publicUrl: e.HANDOFF_PUBLIC_URL?.replace(/\/+$/, ''),
    prefix: e.HANDOFF_PREFIX,
    role: e.HANDOFF_ROLE,
    sandbox: e.HANDOFF_SANDBOX ?? e.NODE_ENV !== 'production',
    localThreads: e.HANDOFF_LOCAL_THREADS ?? e.NODE_ENV !== 'production',
    metricsToken: e.HANDOFF_METRICS_TOKEN,
    handoff: {
      defaultExpiresInMs: e.HANDOFF_DEFAULT_EXPIRES_IN_MS,
      maxExpiresInMs: e.HANDOFF_MAX_EXPIRES_IN_MS,
      pollIntervalMs: e.HANDOFF_POLL_INTERVAL_MS,
      pollMaxIntervalMs: e.HANDOFF_POLL_MAX_INTERVAL_MS,
      claimLeaseMs: e.HANDOFF_CLAIM_LEASE_MS,
    },
    login: loginConfigFrom(e),
    agents: agentsConfigFrom(e, e.NODE_ENV === 'production'),
    network: networkConfigFrom(e),
    waiting: waitingConfigFrom(e),
    workerConcurrency: e.HANDOFF_WORKER_CONCURRENCY,
    jobLockMs: e.HANDOFF_JOB_LOCK_MS,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    platforms: platforms.flatMap((p) => p.configure(e) ?? []),
  };
}
