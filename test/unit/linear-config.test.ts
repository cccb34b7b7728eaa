import { describe, expect, it } from 'vitest';
import { loadPlatformConfig as loadConfigAsIs } from '../helpers/platform-config.js';
import { ConfigError } from '../../src/core/errors.js';

/** These tests read settings of a development bridge unless they set NODE_ENV (the default is production). */
const loadConfig = (env: Record<string, string | undefined>) => loadConfigAsIs({ NODE_ENV: 'development', ...env });

const apiKey = 'lin_api_0123456789abcdefghijABCDEFGHIJ';
const secret = 'lin_wh_0123456789abcdefghijABCDEFGHIJ';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('Linear configuration', () => {
  it('is off when no LINEAR_* variable is set', () => {
    expect(loadConfig({}).linear).toBeUndefined();
  });

  it('takes a personal API key and a webhook secret; polling stays off behind webhooks', () => {
    expect(loadConfig({ LINEAR_API_KEY: apiKey, LINEAR_WEBHOOK_SECRET: secret }).linear).toEqual({
      auth: { kind: 'api_key', apiKey },
      apiUrl: 'https://api.linear.app/graphql',
      webhookSecret: secret,
      poll: undefined,
    });
  });

  it('takes an OAuth access token and polls when there is no webhook secret', () => {
    expect(loadConfig({ LINEAR_ACCESS_TOKEN: 'lin_oauth_abc', LINEAR_POLL_INTERVAL_MS: '30000' }).linear).toEqual({
      auth: { kind: 'access_token', accessToken: 'lin_oauth_abc' },
      apiUrl: 'https://api.linear.app/graphql',
      webhookSecret: undefined,
      poll: { intervalMs: 30_000 },
    });
  });

  it('polls as a safety net behind webhooks when LINEAR_POLL=on, and points at a local API over http', () => {
    const linear = loadConfig({
      LINEAR_API_KEY: apiKey,
      LINEAR_WEBHOOK_SECRET: secret,
      LINEAR_POLL: 'on',
      LINEAR_API_URL: 'http://127.0.0.1:9999/graphql',
    }).linear;
    expect(linear?.poll).toEqual({ intervalMs: 15_000 });
    expect(linear?.apiUrl).toBe('http://127.0.0.1:9999/graphql');
  });

  it.each([
    [{ LINEAR_WEBHOOK_SECRET: secret }, 'LINEAR_API_KEY', /LINEAR_API_KEY is required/],
    [{ LINEAR_API_KEY: apiKey, LINEAR_ACCESS_TOKEN: 'lin_oauth_x' }, 'LINEAR_ACCESS_TOKEN', /not both/],
    [{ LINEAR_API_KEY: apiKey, LINEAR_POLL: 'off' }, 'LINEAR_WEBHOOK_SECRET', /webhooks or polling/],
    [{ LINEAR_API_KEY: apiKey, LINEAR_API_URL: 'http://linear.example/graphql' }, 'LINEAR_API_URL', /https/],
    [{ LINEAR_API_KEY: apiKey, LINEAR_API_URL: 'not a url' }, 'LINEAR_API_URL', /URL/],
    [{ LINEAR_API_KEY: apiKey, LINEAR_POLL: 'sometimes' }, 'LINEAR_POLL', /auto, on or off/],
    [{ LINEAR_API_KEY: apiKey, LINEAR_POLL_INTERVAL_MS: '500' }, 'LINEAR_POLL_INTERVAL_MS', /at least 2000/],
  ])('rejects %j naming %s', (env, variable, message) => {
    const err = configError(env as Record<string, string>);
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    expect(err.message).toMatch(message);
  });

  it('never puts the credential or the secret into an error message', () => {
    const err = configError({
      LINEAR_API_KEY: apiKey,
      LINEAR_ACCESS_TOKEN: 'lin_oauth_secretsecretsecretsecret',
      LINEAR_WEBHOOK_SECRET: secret,
    });
    expect(err.message).not.toContain(apiKey);
    expect(err.message).not.toContain('lin_oauth_secret');
    expect(err.message).not.toContain(secret);
  });
});
