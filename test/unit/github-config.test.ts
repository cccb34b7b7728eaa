import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadPlatformConfig as loadConfigAsIs } from '../helpers/platform-config.js';
import { ConfigError } from '../../src/core/errors.js';

/** These tests read settings of a development bridge unless they set NODE_ENV (the default is production). */
const loadConfig = (env: Record<string, string | undefined>) => loadConfigAsIs({ NODE_ENV: 'development', ...env });

const pem = generateKeyPairSync('rsa', {
  modulusLength: 1024,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(Object.keys(env))}`);
}

describe('GitHub configuration', () => {
  it('is absent unless a token or an App is configured', () => {
    expect(loadConfig({}).github).toBeUndefined();
    expect(loadConfig({ GITHUB_POLL_INTERVAL_MS: '5000' }).github).toBeUndefined();
  });

  it('reads a token with polling-only defaults', () => {
    expect(loadConfig({ GITHUB_TOKEN: 'ghp_exampleexampleexample1234' }).github).toEqual({
      auth: { kind: 'token', token: 'ghp_exampleexampleexample1234' },
      apiUrl: 'https://api.github.com',
      webhookSecret: undefined,
      allowPublicRepos: false,
      acceptEdits: false,
      approverPermission: 'write',
      polling: { enabled: true, intervalMs: 30_000 },
    });
  });

  it('polls as a slower safety net when webhooks are configured, and takes every option', () => {
    const github = loadConfig({
      GITHUB_TOKEN: 't0ken',
      GITHUB_WEBHOOK_SECRET: 'a-webhook-secret-of-some-length',
      GITHUB_API_URL: 'https://ghe.example.com/api/v3/',
      GITHUB_ALLOW_PUBLIC_REPOS: 'true',
      GITHUB_ACCEPT_EDITS: 'yes',
      GITHUB_APPROVER_PERMISSION: 'maintain',
    }).github!;
    expect(github).toMatchObject({
      apiUrl: 'https://ghe.example.com/api/v3',
      allowPublicRepos: true,
      acceptEdits: true,
      approverPermission: 'maintain',
      polling: { enabled: true, intervalMs: 300_000 },
    });
    expect(
      loadConfig({ GITHUB_TOKEN: 't', GITHUB_POLLING: 'off', GITHUB_POLL_INTERVAL_MS: '2000' }).github!.polling,
    ).toEqual({ enabled: false, intervalMs: 2_000 });
  });

  it('reads a GitHub App, with a key written on one line with \\n escapes', () => {
    const github = loadConfig({
      GITHUB_APP_ID: '12345',
      GITHUB_APP_PRIVATE_KEY: pem.replace(/\n/g, '\\n'),
      GITHUB_APP_INSTALLATION_ID: '678',
    }).github!;
    expect(github.auth).toEqual({ kind: 'app', appId: 12345, privateKey: pem, installationId: 678 });
  });

  it('names the variable to fix', () => {
    expect(configError({ GITHUB_APP_ID: '1' }).variable).toBe('GITHUB_APP_PRIVATE_KEY');
    expect(configError({ GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY: 'not a key' }).message).toMatch(
      /GITHUB_APP_PRIVATE_KEY must be a PEM private key/,
    );
    expect(configError({ GITHUB_APP_PRIVATE_KEY: pem }).variable).toBe('GITHUB_APP_ID');
    expect(configError({ GITHUB_TOKEN: 't', GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY: pem }).variable).toBe(
      'GITHUB_TOKEN',
    );
    expect(configError({ GITHUB_TOKEN: 't', GITHUB_APP_INSTALLATION_ID: '5' }).variable).toBe('GITHUB_APP_ID');
    expect(configError({ GITHUB_WEBHOOK_SECRET: 'a-webhook-secret-of-some-length' }).variable).toBe('GITHUB_TOKEN');
    expect(configError({ GITHUB_TOKEN: 't', GITHUB_WEBHOOK_SECRET: 'short' }).variable).toBe('GITHUB_WEBHOOK_SECRET');
    expect(configError({ GITHUB_TOKEN: 't', GITHUB_APP_ID: 'abc' }).variable).toBe('GITHUB_APP_ID');
    expect(configError({ GITHUB_TOKEN: 't', GITHUB_API_URL: 'ftp://x' }).variable).toBe('GITHUB_API_URL');
    expect(configError({ GITHUB_TOKEN: 't', GITHUB_APPROVER_PERMISSION: 'owner' }).message).toMatch(
      /GITHUB_APPROVER_PERMISSION must be one of read, triage, write, maintain, admin/,
    );
    expect(configError({ GITHUB_TOKEN: 't', GITHUB_POLL_INTERVAL_MS: '10' }).variable).toBe('GITHUB_POLL_INTERVAL_MS');
  });

  it('never puts a secret in an error message', () => {
    const message = configError({
      GITHUB_TOKEN: 'ghp_secretsecretsecretsecret12',
      GITHUB_APP_ID: '1',
      GITHUB_APP_PRIVATE_KEY: pem,
    }).message;
    expect(message).not.toContain('ghp_secret');
    expect(message).not.toContain('PRIVATE KEY-----\n');
  });
});
