import { z } from 'zod';
import { flag, positiveMs } from './config-fields.js';
import { ConfigError } from './errors.js';
import { parseOriginGlob } from './origin-glob.js';

/**
 * Network variables of the configuration schema (merged into the one schema in config.ts):
 * which internal services the bridge may call (no SSRF), and how much of the bridge one slow
 * service may take (fairness).
 */
const originGlobs = z.string().transform((v, ctx) => {
  const entries = v
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (!parseOriginGlob(entry, 'wildcards')) {
      ctx.addIssue({
        code: 'custom',
        message: `has "${entry.slice(0, 80)}", which is not an origin glob: use comma-separated origins such as https://*.corp.example,http://10.0.0.5:8080 (no path)`,
      });
      return z.NEVER;
    }
  }
  return entries;
});

const concurrency = z.coerce
  .number({ error: 'must be a whole number from 1 to 100' })
  .int('must be a whole number from 1 to 100')
  .min(1, 'must be a whole number from 1 to 100')
  .max(100, 'must be a whole number from 1 to 100');

export const networkEnv = {
  HANDOFF_ALLOWED_SERVICES: originGlobs.optional(),
  HANDOFF_ALLOW_PRIVATE_NETWORKS: flag.optional(),
  HANDOFF_SERVICE_CONCURRENCY: concurrency.default(4),
  HANDOFF_START_TIMEOUT_MS: positiveMs
    .min(5_000, 'must be at least 5000')
    .max(600_000, 'must be at most 600000')
    .default(30_000),
};

export interface NetworkConfig {
  /** Origin globs reachable at internal addresses and over http (`HANDOFF_ALLOWED_SERVICES`). Default none. */
  readonly allowedServices: readonly string[];
  /** Development only: private networks are reachable too. Default false. */
  readonly allowPrivateNetworks: boolean;
  /** Login starts and polls in flight at once per service origin, across all processes (4). */
  readonly serviceConcurrency: number;
  /** How long a handoff may take to start (discovery, the service's start call, retries), ms (30 s). */
  readonly startTimeoutMs: number;
}

export function networkConfigFrom(e: {
  NODE_ENV: string;
  HANDOFF_ALLOWED_SERVICES?: string[] | undefined;
  HANDOFF_ALLOW_PRIVATE_NETWORKS?: boolean | undefined;
  HANDOFF_SERVICE_CONCURRENCY: number;
  HANDOFF_START_TIMEOUT_MS: number;
}): NetworkConfig {
  if (e.NODE_ENV === 'production' && e.HANDOFF_ALLOW_PRIVATE_NETWORKS) {
    throw new ConfigError(
      'HANDOFF_ALLOW_PRIVATE_NETWORKS',
      'Invalid configuration:\n  - HANDOFF_ALLOW_PRIVATE_NETWORKS is a development setting; in production list the internal services the bridge may call in HANDOFF_ALLOWED_SERVICES (origin globs)',
    );
  }
  return {
    allowedServices: e.HANDOFF_ALLOWED_SERVICES ?? [],
    allowPrivateNetworks: e.HANDOFF_ALLOW_PRIVATE_NETWORKS ?? false,
    serviceConcurrency: e.HANDOFF_SERVICE_CONCURRENCY,
    startTimeoutMs: e.HANDOFF_START_TIMEOUT_MS,
  };
}
