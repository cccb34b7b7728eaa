import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { enabledProtocols } from '../../src/core/config-login.js';
import { loadHandoffConfig as loadConfigAsIs } from '../../src/main.js';
import { ConfigError } from '../../src/core/errors.js';
import { loginProtocols, serve } from '../../src/main.js';

/** These tests read settings of a development bridge unless they set NODE_ENV (the default is production). */
const loadConfig = (env: Record<string, string | undefined>) => loadConfigAsIs({ NODE_ENV: 'development', ...env });

const key = randomBytes(32);
const production = {
  NODE_ENV: 'production',
  HANDOFF_VAULT_KEY: key.toString('base64'),
  HANDOFF_API_TOKEN: 'k3J9x2PqLm8sVt4wZr7nYb5c',
  REDIS_URL: 'redis://redis.internal:6379/0',
};

/** The ConfigError `loadConfig(env)` throws (fails the test when it does not throw one). */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('is production unless told otherwise: an empty environment names the three secrets it needs', () => {
    const err = (() => {
      try {
        loadConfigAsIs({});
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('an empty environment was accepted');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    for (const variable of ['HANDOFF_VAULT_KEY', 'HANDOFF_API_TOKEN', 'REDIS_URL'])
      expect(err.message).toContain(`${variable} is required in production`);
    const config = loadConfigAsIs({
      HANDOFF_VAULT_KEY: production.HANDOFF_VAULT_KEY,
      HANDOFF_API_TOKEN: production.HANDOFF_API_TOKEN,
      REDIS_URL: production.REDIS_URL,
    });
    expect(config).toMatchObject({ env: 'production', sandbox: false, localThreads: false, metricsToken: undefined });
  });

  it('runs a development bridge from NODE_ENV=development alone', () => {
    expect(loadConfig({})).toEqual({
      env: 'development',
      port: 8080,
      host: '127.0.0.1',
      redisUrl: undefined,
      apiToken: undefined,
      vaultKey: undefined,
      vaultPreviousKeys: [],
      dataDir: '.handoff',
      publicUrl: undefined,
      prefix: 'handoff',
      role: 'all',
      sandbox: true,
      localThreads: true,
      metricsToken: undefined,
      handoff: {
        defaultExpiresInMs: 30 * 60_000,
        maxExpiresInMs: 24 * 3_600_000,
        pollIntervalMs: 2_000,
        pollMaxIntervalMs: 5 * 60_000,
        claimLeaseMs: 60_000,
      },
      workerConcurrency: 32,
      jobLockMs: 30_000,
      log: { level: 'info', format: undefined },
      login: {
        protocols: undefined,
        discoveryCacheMs: 10 * 60_000,
        refreshBeforeMs: 5 * 60_000,
        deviceClientId: 'handoff-bridge',
        deviceClientIds: {},
        approverEmailServices: [],
        cibaClients: {},
        cibaLoginHints: {},
      },
      agents: {
        file: undefined,
        limits: { maxOpenHandoffs: 20, maxHandoffsPerMinute: 60 },
        credentialMaxAgeMs: 30 * 24 * 3_600_000,
        credentialIdleMs: 7 * 24 * 3_600_000,
        auditSink: { kind: 'off' },
      },
      network: { allowedServices: [], allowPrivateNetworks: false, serviceConcurrency: 4, startTimeoutMs: 30_000 },
      waiting: { remindAfterMs: undefined, expiryWarningMs: 5 * 60_000 },
      // Local threads only: no other platform's variables are set.
      platforms: [expect.objectContaining({ name: 'local' })],
    });
  });

  it('reads the values it is given and decodes the vault key', () => {
    const config = loadConfig({
      PORT: '9090',
      HOST: '0.0.0.0',
      LOG_LEVEL: 'debug',
      HANDOFF_VAULT_KEY: key.toString('base64'),
    });
    expect(config.port).toBe(9090);
    expect(config.host).toBe('0.0.0.0');
    expect(config.log.level).toBe('debug');
    expect(config.vaultKey?.equals(key)).toBe(true);
  });

  it('treats blank optional values as unset', () => {
    const config = loadConfig({ REDIS_URL: '  ', HANDOFF_API_TOKEN: '', HANDOFF_VAULT_KEY: ' ' });
    expect(config.redisUrl).toBeUndefined();
    expect(config.apiToken).toBeUndefined();
    expect(config.vaultKey).toBeUndefined();
  });

  it('never reads process.env', () => {
    const before = process.env.PORT;
    process.env.PORT = '1234';
    try {
      expect(loadConfig({}).port).toBe(8080);
    } finally {
      if (before === undefined) delete process.env.PORT;
      else process.env.PORT = before;
    }
  });
});

describe('loadConfig rejects bad values and names the variable', () => {
  it.each([
    { env: { PORT: 'eighty' }, variable: 'PORT', says: 'whole number from 0 to 65535' },
    { env: { PORT: '70000' }, variable: 'PORT', says: 'whole number from 0 to 65535' },
    { env: { PORT: '-1' }, variable: 'PORT', says: 'whole number from 0 to 65535' },
    { env: { PORT: '80.5' }, variable: 'PORT', says: 'whole number from 0 to 65535' },
    {
      env: { HANDOFF_VAULT_KEY: randomBytes(16).toString('base64') },
      variable: 'HANDOFF_VAULT_KEY',
      says: '32 random bytes',
    },
    {
      env: { HANDOFF_VAULT_KEY: randomBytes(33).toString('base64') },
      variable: 'HANDOFF_VAULT_KEY',
      says: '32 random bytes',
    },
    {
      env: { HANDOFF_VAULT_KEY: 'correct horse battery staple!!' },
      variable: 'HANDOFF_VAULT_KEY',
      says: 'openssl rand -base64 32',
    },
    { env: { HANDOFF_VAULT_KEY: randomBytes(32).toString('hex') }, variable: 'HANDOFF_VAULT_KEY', says: 'base64' },
    { env: { REDIS_URL: 'localhost:6379' }, variable: 'REDIS_URL', says: 'redis://host:6379' },
    { env: { REDIS_URL: 'http://localhost:6379' }, variable: 'REDIS_URL', says: 'redis://host:6379' },
    { env: { REDIS_URL: 'redis+cluster://' }, variable: 'REDIS_URL', says: 'redis+cluster://host1:7000,host2:7001' },
    {
      env: { REDIS_URL: 'redis+cluster://a:7000,b:70000' },
      variable: 'REDIS_URL',
      says: 'for a Redis Cluster must look like redis+cluster://',
    },
    { env: { LOG_LEVEL: 'verbose' }, variable: 'LOG_LEVEL', says: 'debug' },
    { env: { HANDOFF_API_TOKEN: 'short' }, variable: 'HANDOFF_API_TOKEN', says: 'at least 16 characters' },
    { env: { HANDOFF_PUBLIC_URL: 'bridge.example.com' }, variable: 'HANDOFF_PUBLIC_URL', says: '' },
    { env: { HANDOFF_POLL_INTERVAL_MS: '500' }, variable: 'HANDOFF_POLL_INTERVAL_MS', says: 'at least 1000' },
    { env: { HANDOFF_REMIND_AFTER_MS: '5000' }, variable: 'HANDOFF_REMIND_AFTER_MS', says: 'at least 60000' },
    { env: { HANDOFF_REMIND_AFTER_MS: 'hourly' }, variable: 'HANDOFF_REMIND_AFTER_MS', says: 'milliseconds' },
    { env: { HANDOFF_EXPIRY_WARNING_MS: '-1' }, variable: 'HANDOFF_EXPIRY_WARNING_MS', says: '0 or more' },
    { env: { HANDOFF_PREFIX: 'has space' }, variable: 'HANDOFF_PREFIX', says: 'letters, digits' },
    { env: { NODE_ENV: 'staging' }, variable: 'NODE_ENV', says: 'production' },
    {
      env: { HANDOFF_PROTOCOLS: 'agent-sessions,OAuth 1' },
      variable: 'HANDOFF_PROTOCOLS',
      says: 'protocol names separated by commas',
    },
    { env: { HANDOFF_PROTOCOLS: ' , ' }, variable: 'HANDOFF_PROTOCOLS', says: 'at least one protocol' },
    { env: { HANDOFF_DISCOVERY_CACHE_MS: '-5' }, variable: 'HANDOFF_DISCOVERY_CACHE_MS', says: '0 or more' },
    { env: { HANDOFF_REFRESH_BEFORE_MS: '0' }, variable: 'HANDOFF_REFRESH_BEFORE_MS', says: 'positive' },
    {
      env: { HANDOFF_DEVICE_CLIENT_IDS: 'github.com=abc' },
      variable: 'HANDOFF_DEVICE_CLIENT_IDS',
      says: 'origin=client_id',
    },
    {
      env: { HANDOFF_DEVICE_CLIENT_IDS: 'https://github.com=' },
      variable: 'HANDOFF_DEVICE_CLIENT_IDS',
      says: 'origin=client_id',
    },
  ])('$variable from $env', ({ env, variable, says }) => {
    const err = configError(env);
    expect(err.variable).toBe(variable);
    expect(err.code).toBe('invalid_config');
    expect(err.message).toContain(`- ${variable} `);
    expect(err.message).toContain(says);
  });

  it('lists every bad variable, not just the first', () => {
    const err = configError({ PORT: 'x', LOG_LEVEL: 'loud' });
    expect(err.message).toContain('PORT');
    expect(err.message).toContain('LOG_LEVEL');
  });

  it('never echoes a rejected vault key', () => {
    const badKey = randomBytes(20).toString('base64');
    expect(configError({ HANDOFF_VAULT_KEY: badKey }).message).not.toContain(badKey);
  });

  it('rejects a default expiry longer than the maximum', () => {
    const err = configError({ HANDOFF_DEFAULT_EXPIRES_IN_MS: '7200000', HANDOFF_MAX_EXPIRES_IN_MS: '3600000' });
    expect(err.variable).toBe('HANDOFF_DEFAULT_EXPIRES_IN_MS');
    expect(err.message).toContain('HANDOFF_MAX_EXPIRES_IN_MS');
  });

  it('accepts a default expiry equal to the maximum', () => {
    const config = loadConfig({ HANDOFF_DEFAULT_EXPIRES_IN_MS: '3600000', HANDOFF_MAX_EXPIRES_IN_MS: '3600000' });
    expect(config.handoff).toMatchObject({ defaultExpiresInMs: 3_600_000, maxExpiresInMs: 3_600_000 });
  });

  it('reads how long a worker holds a job (HANDOFF_JOB_LOCK_MS): 30 s by default, at least 1 s', () => {
    expect(loadConfig({}).jobLockMs).toBe(30_000);
    expect(loadConfig({ HANDOFF_JOB_LOCK_MS: '5000' }).jobLockMs).toBe(5_000);
    for (const bad of ['999', '0', 'soon']) {
      const err = configError({ HANDOFF_JOB_LOCK_MS: bad });
      expect(err.variable).toBe('HANDOFF_JOB_LOCK_MS');
      expect(err.message).toMatch(/HANDOFF_JOB_LOCK_MS/);
    }
  });
});

describe('production', () => {
  it('loads when the vault key, API token and Redis URL are set, with the sandbox off', () => {
    const config = loadConfig(production);
    expect(config.env).toBe('production');
    expect(config.redisUrl).toBe('redis://redis.internal:6379/0');
    expect(config.apiToken).toBe(production.HANDOFF_API_TOKEN);
    expect(config.sandbox).toBe(false);
  });

  it('names all three missing variables at once', () => {
    const err = configError({ NODE_ENV: 'production' });
    expect(err.message).toMatch(/HANDOFF_VAULT_KEY is required in production/);
    expect(err.message).toMatch(/HANDOFF_API_TOKEN is required in production/);
    expect(err.message).toMatch(/REDIS_URL is required in production/);
  });

  it.each(['HANDOFF_VAULT_KEY', 'HANDOFF_API_TOKEN', 'REDIS_URL'] as const)('requires %s', (variable) => {
    const err = configError({ ...production, [variable]: undefined });
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(`${variable} is required in production`);
    const others = ['HANDOFF_VAULT_KEY', 'HANDOFF_API_TOKEN', 'REDIS_URL'].filter((v) => v !== variable);
    for (const other of others) expect(err.message).not.toContain(other);
  });

  it('counts a blank value as missing', () => {
    expect(configError({ ...production, REDIS_URL: '' }).variable).toBe('REDIS_URL');
  });
});

describe('HANDOFF_SANDBOX', () => {
  it.each([
    ['1', true],
    ['true', true],
    ['on', true],
    ['yes', true],
    ['0', false],
    ['false', false],
    ['off', false],
    ['no', false],
  ])('%s → %s', (value, sandbox) => {
    expect(loadConfig({ HANDOFF_SANDBOX: value }).sandbox).toBe(sandbox);
    expect(loadConfig({ ...production, HANDOFF_SANDBOX: value }).sandbox).toBe(sandbox);
  });

  it('defaults to on outside production and off in production', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).sandbox).toBe(true);
    expect(loadConfig(production).sandbox).toBe(false);
  });

  it('rejects anything else and names the variable', () => {
    expect(configError({ HANDOFF_SANDBOX: 'maybe' }).variable).toBe('HANDOFF_SANDBOX');
  });
});

describe('login variables', () => {
  it('reads the protocol list in order, without duplicates, and per-origin device client ids', () => {
    const config = loadConfig({
      HANDOFF_PROTOCOLS: 'device, agent-sessions,device',
      HANDOFF_DISCOVERY_CACHE_MS: '0',
      HANDOFF_DEVICE_CLIENT_IDS: 'https://github.com/=Iv1.abc, https://auth.example.com:8443=0oa1b2c3',
    });
    expect(config.login.protocols).toEqual(['device', 'agent-sessions']);
    expect(config.login.discoveryCacheMs).toBe(0);
    expect(config.login.deviceClientIds).toEqual({
      'https://github.com': 'Iv1.abc',
      'https://auth.example.com:8443': '0oa1b2c3',
    });
  });

  it('enables the listed protocols that are registered, most preferred first; by default all of them', () => {
    const listed = loadConfig({ HANDOFF_PROTOCOLS: 'agent-sessions, device' }).login.protocols;
    expect(enabledProtocols(listed, loginProtocols)).toEqual(['device', 'agent-sessions']);
    expect(loadConfig({}).login.protocols).toBeUndefined();
    expect(enabledProtocols(undefined, loginProtocols)).toEqual(['authmd', 'device', 'ciba', 'agent-sessions']);
  });

  it('refuses a listed protocol no module registers, naming those registered', () => {
    const listed = loadConfig({ HANDOFF_PROTOCOLS: 'agent-sessions,oauth1' }).login.protocols;
    const err = (() => {
      try {
        enabledProtocols(listed, loginProtocols);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('oauth1 was accepted');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.variable).toBe('HANDOFF_PROTOCOLS');
    expect(err.message).toContain(
      'must list protocols from: authmd, device, ciba, agent-sessions ("oauth1" is not one)',
    );
  });

  it('stops `serve` with exit 2 naming HANDOFF_PROTOCOLS, before any Redis is started', async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      // No REDIS_URL in development: getting past the check would start a private redis-server.
      const code = await serve({ NODE_ENV: 'development', HANDOFF_PROTOCOLS: 'device,oauth1', PATH: '' });
      expect(code).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(written.join('')).toContain(
      'HANDOFF_PROTOCOLS must list protocols from: authmd, device, ciba, agent-sessions',
    );
  });
});

describe('HANDOFF_PUBLIC_URL', () => {
  it.each([
    ['https://handoff.example.com/', 'https://handoff.example.com'],
    ['https://handoff.example.com//', 'https://handoff.example.com'],
    ['https://example.com/handoff/', 'https://example.com/handoff'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
  ])('%s → %s', (value, publicUrl) => {
    expect(loadConfig({ HANDOFF_PUBLIC_URL: value }).publicUrl).toBe(publicUrl);
  });

  it('rejects a non-http scheme', () => {
    expect(configError({ HANDOFF_PUBLIC_URL: 'ftp://handoff.example.com' }).variable).toBe('HANDOFF_PUBLIC_URL');
  });
});
