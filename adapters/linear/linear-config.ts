import { z } from 'zod';
import { optionalText, positiveMs } from '../../src/core/config-fields.js';
import { ConfigError } from '../../src/core/errors.js';

/**
 * Linear variables of the configuration schema (merged into the one schema in config.ts).
 * Linear is configured when any LINEAR_* variable is set; then it needs exactly one
 * credential and at least one way to read replies (webhooks or polling).
 */
export const linearEnv = {
  LINEAR_API_KEY: optionalText,
  LINEAR_ACCESS_TOKEN: optionalText,
  LINEAR_API_URL: optionalText.pipe(
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://api.linear.app/graphql' }).optional(),
  ),
  LINEAR_WEBHOOK_SECRET: optionalText,
  LINEAR_POLL: optionalText.pipe(z.enum(['auto', 'on', 'off'], { error: 'must be auto, on or off' }).optional()),
  LINEAR_POLL_INTERVAL_MS: positiveMs.min(2_000, 'must be at least 2000').optional(),
};

/** How the bridge authenticates to Linear: the two exclude each other. */
export type LinearAuth =
  /** A personal API key (Settings → Security & access), sent as is. */
  | { readonly kind: 'api_key'; readonly apiKey: string }
  /** An OAuth application's access token, sent as a bearer token. */
  | { readonly kind: 'access_token'; readonly accessToken: string };

export interface LinearPollConfig {
  /** Between two polls of the same issues, ms (default 15 000). */
  readonly intervalMs: number;
}

export interface LinearConfig {
  readonly auth: LinearAuth;
  /** The GraphQL endpoint; default https://api.linear.app/graphql. */
  readonly apiUrl: string;
  /** Present: webhooks at POST /linear/webhooks are accepted when signed with it. */
  readonly webhookSecret: string | undefined;
  /** Present: replies are also read by polling. */
  readonly poll: LinearPollConfig | undefined;
}

export const defaultLinearApiUrl = 'https://api.linear.app/graphql';
export const defaultLinearPollIntervalMs = 15_000;

/** The SDK refuses plain http except to a development server on this machine. */
const localHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

function invalid(variable: string, message: string): ConfigError {
  return new ConfigError(variable, `Invalid configuration:\n  - ${variable} ${message}`);
}

export function linearConfigFrom(env: Readonly<Record<string, unknown>>): LinearConfig | undefined {
  const text = (name: string) => (typeof env[name] === 'string' ? (env[name] as string) : undefined);
  const apiKey = text('LINEAR_API_KEY');
  const accessToken = text('LINEAR_ACCESS_TOKEN');
  const webhookSecret = text('LINEAR_WEBHOOK_SECRET');
  const apiUrl = text('LINEAR_API_URL') ?? defaultLinearApiUrl;
  const poll = (text('LINEAR_POLL') ?? 'auto') as 'auto' | 'on' | 'off';
  const intervalMs =
    typeof env.LINEAR_POLL_INTERVAL_MS === 'number' ? env.LINEAR_POLL_INTERVAL_MS : defaultLinearPollIntervalMs;

  const anySet = Object.keys(linearEnv).some((name) => env[name] !== undefined);
  if (!anySet) return undefined;
  if (apiKey && accessToken) {
    throw invalid(
      'LINEAR_ACCESS_TOKEN',
      'and LINEAR_API_KEY are both set: use the personal API key or the OAuth access token, not both',
    );
  }
  if (!apiKey && !accessToken) {
    throw invalid(
      'LINEAR_API_KEY',
      'is required to use Linear: a personal API key (lin_api_…), or set LINEAR_ACCESS_TOKEN to an OAuth app token',
    );
  }
  const url = new URL(apiUrl);
  if (url.protocol === 'http:' && !localHosts.has(url.hostname)) {
    throw invalid('LINEAR_API_URL', 'must use https (plain http is allowed only for localhost)');
  }
  const polling = poll === 'on' || (poll === 'auto' && !webhookSecret);
  if (!webhookSecret && !polling) {
    throw invalid(
      'LINEAR_WEBHOOK_SECRET',
      'is required when LINEAR_POLL=off: the bridge needs webhooks or polling to read replies',
    );
  }
  return {
    auth: apiKey ? { kind: 'api_key', apiKey } : { kind: 'access_token', accessToken: accessToken! },
    apiUrl,
    webhookSecret,
    poll: polling ? { intervalMs } : undefined,
  };
}
