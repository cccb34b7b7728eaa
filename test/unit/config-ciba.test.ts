import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { loadHandoffConfig } from '../../src/main.js';

/** HANDOFF_CIBA_CLIENTS: per authorization-server origin, a client id and a secret or a private key path. */
describe('HANDOFF_CIBA_CLIENTS', () => {
  const load = (env: Record<string, string>) => loadHandoffConfig({ NODE_ENV: 'test', ...env });
  const dir = mkdtempSync(join(tmpdir(), 'ciba-config-'));

  it('reads origin=client_id:secret pairs, separated by commas or newlines; a secret may hold ":" and "="', () => {
    const config = load({
      HANDOFF_CIBA_CLIENTS:
        'https://login.example.com=handoff:s3cret, https://id.example.org:8443/ignored=bridge:a:b=c==\nhttp://127.0.0.1:8080=handoff-sandbox:sandbox-ciba-secret',
    });
    expect(config.login.cibaClients).toEqual({
      'https://login.example.com': { clientId: 'handoff', kind: 'secret', secret: 's3cret' },
      'https://id.example.org:8443': { clientId: 'bridge', kind: 'secret', secret: 'a:b=c==' },
      'http://127.0.0.1:8080': { clientId: 'handoff-sandbox', kind: 'secret', secret: 'sandbox-ciba-secret' },
    });
    expect(load({}).login.cibaClients).toEqual({});
  });

  it('takes an absolute .pem path as a private key for private_key_jwt, checked when the config is read', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const path = join(dir, 'ciba.pem');
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const client = load({ HANDOFF_CIBA_CLIENTS: `https://login.example.com=handoff:${path}` }).login.cibaClients[
      'https://login.example.com'
    ];
    expect(client).toMatchObject({ clientId: 'handoff', kind: 'private_key', keyPath: path });

    const notKey = join(dir, 'not-a-key.pem');
    writeFileSync(notKey, 'hello');
    for (const [value, says] of [
      [`https://login.example.com=handoff:${notKey}`, 'holds no PEM private key'],
      [`https://login.example.com=handoff:${join(dir, 'missing.pem')}`, 'cannot be read (ENOENT)'],
    ] as const) {
      const err = (() => {
        try {
          load({ HANDOFF_CIBA_CLIENTS: value });
        } catch (e) {
          return e as ConfigError;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(ConfigError);
      expect(err?.message).toContain('HANDOFF_CIBA_CLIENTS entry 1');
      expect(err?.message).toContain(says);
    }
  });

  it.each([
    ['no origin', 'handoff:s3cret-value', 'does not start with an http(s) origin'],
    ['no client id', 'https://login.example.com=:s3cret-value', 'has no client id'],
    ['a short secret', 'https://login.example.com=handoff:abc', 'shorter than 6 characters'],
    ['no secret', 'https://login.example.com=handoff', 'has no client id before ":"'],
    [
      'a repeated origin',
      'https://a.example=x:s3cret-one,https://a.example/=y:s3cret-two',
      'repeats https://a.example',
    ],
  ])('refuses %s, naming the variable and the entry but never the secret', (_name, value, says) => {
    let err: unknown;
    try {
      load({ HANDOFF_CIBA_CLIENTS: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    expect(message).toContain('HANDOFF_CIBA_CLIENTS entry');
    expect(message).toContain(says);
    for (const secret of ['s3cret-value', 's3cret-one', 's3cret-two']) expect(message).not.toContain(secret);
  });

  it('may come from a file (HANDOFF_CIBA_CLIENTS_FILE) that only its owner can read', () => {
    const path = join(dir, 'ciba-clients');
    writeFileSync(path, 'https://login.example.com=handoff:from-a-file\n');
    chmodSync(path, 0o600);
    expect(load({ HANDOFF_CIBA_CLIENTS_FILE: path }).login.cibaClients).toEqual({
      'https://login.example.com': { clientId: 'handoff', kind: 'secret', secret: 'from-a-file' },
    });
    chmodSync(path, 0o644);
    expect(() => load({ HANDOFF_CIBA_CLIENTS_FILE: path })).toThrow(/HANDOFF_CIBA_CLIENTS_FILE names .* chmod 600/);
  });
});
