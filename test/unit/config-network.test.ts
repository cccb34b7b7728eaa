import { describe, expect, it } from 'vitest';
import { loadHandoffConfig as loadConfigAsIs } from '../../src/main.js';
import { ConfigError } from '../../src/core/errors.js';

/** Development unless the test says otherwise (the schema defaults to production). */
const loadConfig = (env: Record<string, string | undefined>) => loadConfigAsIs({ NODE_ENV: 'development', ...env });

const production = {
  NODE_ENV: 'production',
  HANDOFF_API_TOKEN: 'a'.repeat(32),
  HANDOFF_VAULT_KEY: Buffer.alloc(32, 7).toString('base64'),
  REDIS_URL: 'redis://redis.internal:6379/0',
};

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('network configuration', () => {
  it('reads the allowlist, the private-network switch and the fairness settings', () => {
    const config = loadConfig({
      HANDOFF_ALLOWED_SERVICES: 'https://*.corp.example, http://10.0.0.5:8080',
      HANDOFF_ALLOW_PRIVATE_NETWORKS: 'true',
      HANDOFF_SERVICE_CONCURRENCY: '2',
      HANDOFF_START_TIMEOUT_MS: '20000',
    });
    expect(config.network).toEqual({
      allowedServices: ['https://*.corp.example', 'http://10.0.0.5:8080'],
      allowPrivateNetworks: true,
      serviceConcurrency: 2,
      startTimeoutMs: 20_000,
    });
  });

  it.each([
    ['HANDOFF_ALLOWED_SERVICES', 'corp.example', 'not an origin glob'],
    ['HANDOFF_ALLOWED_SERVICES', 'https://ok.example,https://x.example/path', 'https://x.example/path'],
    ['HANDOFF_ALLOW_PRIVATE_NETWORKS', 'maybe', 'HANDOFF_ALLOW_PRIVATE_NETWORKS'],
    ['HANDOFF_SERVICE_CONCURRENCY', '0', 'from 1 to 100'],
    ['HANDOFF_START_TIMEOUT_MS', '1000', 'at least 5000'],
  ])('%s=%s is refused, naming the variable', (name, value, says) => {
    const err = configError({ [name]: value });
    expect(err.variable).toBe(name);
    expect(err.message).toContain(says);
  });

  it('refuses HANDOFF_ALLOW_PRIVATE_NETWORKS in production and points at the allowlist', () => {
    const err = configError({ ...production, HANDOFF_ALLOW_PRIVATE_NETWORKS: 'true' });
    expect(err.variable).toBe('HANDOFF_ALLOW_PRIVATE_NETWORKS');
    expect(err.message).toContain('HANDOFF_ALLOWED_SERVICES');
    expect(
      loadConfig({ ...production, HANDOFF_ALLOWED_SERVICES: 'http://10.0.0.5:8080' }).network.allowedServices,
    ).toEqual(['http://10.0.0.5:8080']);
  });

  it.each([
    ['HANDOFF_PUBLIC_URL', 'javascript:alert(1)'],
    ['HANDOFF_PUBLIC_URL', 'data:text/html,hi'],
    ['GITHUB_API_URL', 'javascript:alert(1)'],
    ['SLACK_API_URL', 'file:///etc/passwd'],
    ['LINEAR_API_URL', 'data:application/json,{}'],
  ])('every URL setting takes http(s) only: %s=%s is refused', (name, value) => {
    expect(configError({ [name]: value }).variable).toBe(name);
  });
});
