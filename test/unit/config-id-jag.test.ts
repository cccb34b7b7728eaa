import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { loadHandoffConfig } from '../../src/main.js';

/** HANDOFF_ID_JAG_ISSUER, HANDOFF_ID_JAG_KEY(_FILE), HANDOFF_ID_JAG_SERVICES: all or none. */
describe('HANDOFF_ID_JAG_*', () => {
  const load = (env: Record<string, string>) => loadHandoffConfig({ NODE_ENV: 'test', ...env });
  const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
    key.export({ type: 'pkcs8', format: 'pem' }).toString();
  const ecPem = pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const full = {
    HANDOFF_ID_JAG_ISSUER: 'https://handoff.example.com/',
    HANDOFF_ID_JAG_KEY: ecPem,
    HANDOFF_ID_JAG_SERVICES: 'https://tasks.example.com,https://*.corp.example',
  };
  const failure = (env: Record<string, string>) => {
    try {
      load(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it('reads the issuer (no trailing slash), an EC, RSA or Ed25519 key and the service globs; absent: no issuer', () => {
    const idJag = load(full).login.idJag;
    expect(idJag).toMatchObject({
      issuer: 'https://handoff.example.com',
      services: ['https://tasks.example.com', 'https://*.corp.example'],
    });
    expect(idJag?.key.asymmetricKeyType).toBe('ec');
    for (const key of [
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      generateKeyPairSync('ed25519').privateKey,
    ]) {
      expect(load({ ...full, HANDOFF_ID_JAG_KEY: pem(key) }).login.idJag?.key.asymmetricKeyType).toBe(
        key.asymmetricKeyType,
      );
    }
    expect(load({}).login.idJag).toBeUndefined();
  });

  it('names the missing variable when only some are set', () => {
    for (const missing of Object.keys(full)) {
      const env: Record<string, string> = { ...full };
      delete env[missing];
      const err = failure(env);
      expect(err.variable).toBe(missing);
      expect(err.message).toContain(missing);
    }
  });

  it('refuses a key it does not sign with, naming the variable and never echoing the key', () => {
    const weak = pem(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey);
    const rsa1024 = pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
    const publicOnly = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    for (const key of [weak, rsa1024, publicOnly, 'not a key at all, secret words']) {
      const err = failure({ ...full, HANDOFF_ID_JAG_KEY: key });
      expect(err.message).toContain('HANDOFF_ID_JAG_KEY must hold a PEM private key');
      expect(err.message).not.toContain('BEGIN');
      expect(err.message).not.toContain(key.slice(20, 30));
    }
  });

  it('refuses an issuer that is not https (http only on loopback), or carries a query or fragment', () => {
    for (const bad of ['http://handoff.example.com', 'ftp://x.example', 'https://h.example.com/?a=1', 'nope']) {
      expect(failure({ ...full, HANDOFF_ID_JAG_ISSUER: bad }).message).toContain('HANDOFF_ID_JAG_ISSUER must be');
    }
    expect(load({ ...full, HANDOFF_ID_JAG_ISSUER: 'http://127.0.0.1:8080' }).login.idJag?.issuer).toBe(
      'http://127.0.0.1:8080',
    );
  });

  it('refuses a services entry that is not an origin glob', () => {
    expect(failure({ ...full, HANDOFF_ID_JAG_SERVICES: 'tasks.example.com/path' }).message).toContain(
      'HANDOFF_ID_JAG_SERVICES must be comma-separated origins',
    );
  });
});
