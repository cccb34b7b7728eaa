import { z } from 'zod';
import { flag, optionalText, positiveMs } from '../../src/core/config-fields.js';
import { ConfigError } from '../../src/core/errors.js';

/**
 * GitHub variables of the configuration schema (merged into the one schema in config.ts).
 * GitHub is configured when GITHUB_TOKEN or GITHUB_APP_ID is set; the two exclude each other.
 */
const permissions = ['read', 'triage', 'write', 'maintain', 'admin'] as const;
export type GithubPermission = (typeof permissions)[number];

export const githubEnv = {
  GITHUB_TOKEN: optionalText,
  GITHUB_APP_ID: optionalText.pipe(
    z
      .string()
      .regex(/^\d{1,12}$/, 'must be the numeric App ID from the App’s settings page')
      .optional(),
  ),
  GITHUB_APP_PRIVATE_KEY: optionalText,
  GITHUB_APP_INSTALLATION_ID: optionalText.pipe(
    z
      .string()
      .regex(/^\d{1,15}$/, 'must be a numeric installation id')
      .optional(),
  ),
  GITHUB_API_URL: optionalText.pipe(
    z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://github.example.com/api/v3' })
      .optional(),
  ),
  GITHUB_WEBHOOK_SECRET: optionalText.pipe(
    z.string().min(16, 'must be at least 16 characters (the secret set on the webhook)').optional(),
  ),
  GITHUB_ALLOW_PUBLIC_REPOS: flag.optional(),
  GITHUB_ACCEPT_EDITS: flag.optional(),
  GITHUB_APPROVER_PERMISSION: z.enum(permissions, { error: `must be one of ${permissions.join(', ')}` }).optional(),
  GITHUB_POLLING: flag.optional(),
  GITHUB_POLL_INTERVAL_MS: positiveMs.min(1_000, 'must be at least 1000').optional(),
};

type GithubEnv = { readonly [K in keyof typeof githubEnv]?: z.output<(typeof githubEnv)[K]> };

/** How the bridge authenticates to GitHub: one of two modes. */
export type GithubAuthConfig =
  | { readonly kind: 'token'; readonly token: string }
  | {
      readonly kind: 'app';
      readonly appId: number;
      /** PEM private key of the App. */
      readonly privateKey: string;
      /** Fixed installation; absent: looked up per repository. */
      readonly installationId: number | undefined;
    };

export interface GithubConfig {
  readonly auth: GithubAuthConfig;
  /** REST base URL (GraphQL is derived from it). Default https://api.github.com. */
  readonly apiUrl: string;
  /** Absent: no webhook route; inbound by polling only. */
  readonly webhookSecret: string | undefined;
  /** Post approval links into public repositories (with a warning). Default false. */
  readonly allowPublicRepos: boolean;
  /** Treat edited comments as new answers. Default false. */
  readonly acceptEdits: boolean;
  /** Least repository permission an answerer needs when no approvers are named. Default write. */
  readonly approverPermission: GithubPermission;
  readonly polling: {
    readonly enabled: boolean;
    /** Base interval per repository, ms: 30 s without webhooks, 5 min as a safety net behind them. */
    readonly intervalMs: number;
  };
}

/** Default poll interval per repository when polling is the only inbound path, ms. */
export const githubPollOnlyIntervalMs = 30_000;
/** Default poll interval per repository when webhooks are configured (a safety net), ms. */
export const githubSafetyNetIntervalMs = 5 * 60_000;

/** `.env` files often carry a PEM key on one line with `\n` escapes. */
function normalisePem(value: string): string {
  return value.includes('\\n') ? value.replace(/\\n/g, '\n') : value;
}

export function githubConfigFrom(env: GithubEnv): GithubConfig | undefined {
  const { GITHUB_TOKEN: token, GITHUB_APP_ID: appId, GITHUB_APP_PRIVATE_KEY: rawKey } = env;
  if (token === undefined && appId === undefined) {
    if (rawKey !== undefined || env.GITHUB_APP_INSTALLATION_ID !== undefined) {
      throw new ConfigError(
        'GITHUB_APP_ID',
        'Invalid configuration:\n  - GITHUB_APP_ID is required with GITHUB_APP_PRIVATE_KEY / GITHUB_APP_INSTALLATION_ID: the numeric App ID from the App’s settings page',
      );
    }
    if (env.GITHUB_WEBHOOK_SECRET !== undefined) {
      throw new ConfigError(
        'GITHUB_TOKEN',
        'Invalid configuration:\n  - GITHUB_WEBHOOK_SECRET is set but GitHub has no credentials: set GITHUB_TOKEN, or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY',
      );
    }
    return undefined;
  }
  if (token !== undefined && appId !== undefined) {
    throw new ConfigError(
      'GITHUB_TOKEN',
      'Invalid configuration:\n  - GITHUB_TOKEN and GITHUB_APP_ID exclude each other: set GITHUB_TOKEN for a token, or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY for a GitHub App',
    );
  }
  let auth: GithubAuthConfig;
  if (appId !== undefined) {
    if (rawKey === undefined) {
      throw new ConfigError(
        'GITHUB_APP_PRIVATE_KEY',
        'Invalid configuration:\n  - GITHUB_APP_PRIVATE_KEY is required with GITHUB_APP_ID: the App’s PEM private key (newlines may be written as \\n)',
      );
    }
    const privateKey = normalisePem(rawKey);
    if (!/-----BEGIN (?:RSA )?PRIVATE KEY-----[\s\S]+-----END (?:RSA )?PRIVATE KEY-----/.test(privateKey)) {
      throw new ConfigError(
        'GITHUB_APP_PRIVATE_KEY',
        'Invalid configuration:\n  - GITHUB_APP_PRIVATE_KEY must be a PEM private key ("-----BEGIN RSA PRIVATE KEY-----" … "-----END RSA PRIVATE KEY-----")',
      );
    }
    auth = {
      kind: 'app',
      appId: Number(appId),
      privateKey,
      installationId: env.GITHUB_APP_INSTALLATION_ID === undefined ? undefined : Number(env.GITHUB_APP_INSTALLATION_ID),
    };
  } else {
    if (env.GITHUB_APP_INSTALLATION_ID !== undefined || rawKey !== undefined) {
      throw new ConfigError(
        'GITHUB_APP_ID',
        'Invalid configuration:\n  - GITHUB_APP_PRIVATE_KEY / GITHUB_APP_INSTALLATION_ID belong to a GitHub App (GITHUB_APP_ID); with GITHUB_TOKEN leave them unset',
      );
    }
    auth = { kind: 'token', token: token! };
  }
  const webhookSecret = env.GITHUB_WEBHOOK_SECRET;
  return {
    auth,
    apiUrl: (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, ''),
    webhookSecret,
    allowPublicRepos: env.GITHUB_ALLOW_PUBLIC_REPOS ?? false,
    acceptEdits: env.GITHUB_ACCEPT_EDITS ?? false,
    approverPermission: env.GITHUB_APPROVER_PERMISSION ?? 'write',
    polling: {
      enabled: env.GITHUB_POLLING ?? true,
      intervalMs: env.GITHUB_POLL_INTERVAL_MS ?? (webhookSecret ? githubSafetyNetIntervalMs : githubPollOnlyIntervalMs),
    },
  };
}
