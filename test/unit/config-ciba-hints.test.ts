import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { loginHintFor } from '../../src/login/ciba-login-hint.js';
import { loadHandoffConfig } from '../../src/main.js';

/** HANDOFF_CIBA_LOGIN_HINTS: per authorization-server origin, email (default) or Auth0's iss_sub with a mapping file. */
describe('HANDOFF_CIBA_LOGIN_HINTS', () => {
  const load = (env: Record<string, string>) => loadHandoffConfig({ NODE_ENV: 'test', ...env });
  const dir = mkdtempSync(join(tmpdir(), 'ciba-hints-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, 0o600);
    return path;
  };
  const failure = (value: string) => {
    try {
      load({ HANDOFF_CIBA_LOGIN_HINTS: value });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain('HANDOFF_CIBA_LOGIN_HINTS');
      return (err as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('reads email and iss_sub entries; mapping emails are matched case-insensitively; absent: none', () => {
    const path = file(
      'auth0.json',
      JSON.stringify({ 'Ida@Corp.example': 'auth0|65f0ida', 'bob@corp.example': 'google-oauth2|1' }),
    );
    const hints = load({
      HANDOFF_CIBA_LOGIN_HINTS: `https://acme.us.auth0.com=iss_sub:${path}\nhttps://login.example.com=email`,
    }).login.cibaLoginHints;
    expect(hints['https://login.example.com']).toEqual({ format: 'email' });
    expect(hints['https://acme.us.auth0.com']).toMatchObject({ format: 'iss_sub', mappingPath: path });
    expect(loginHintFor(hints, 'https://acme.us.auth0.com', 'https://acme.us.auth0.com/', 'IDA@corp.example')).toBe(
      '{"format":"iss_sub","iss":"https://acme.us.auth0.com/","sub":"auth0|65f0ida"}',
    );
    expect(loginHintFor(hints, 'https://other.example.com', 'https://other.example.com', 'ida@corp.example')).toBe(
      'ida@corp.example',
    );
    expect(load({}).login.cibaLoginHints).toEqual({});
  });

  it('refuses formats it does not speak, naming login_hint_token and id_token_hint as unsupported', () => {
    for (const format of ['login_hint_token', 'id_token_hint', 'phone'])
      expect(failure(`https://acme.us.auth0.com=${format}`)).toContain(
        'login_hint_token and id_token_hint are not supported',
      );
  });

  it('refuses a mapping that is missing, not JSON, not an object, or holds a bad entry; and email with a file', () => {
    expect(failure(`https://a.example=iss_sub:${join(dir, 'missing.json')}`)).toContain('cannot be read (ENOENT)');
    expect(failure(`https://a.example=iss_sub:${file('bad.json', '{nope')}`)).toContain('is not JSON');
    expect(failure(`https://a.example=iss_sub:${file('arr.json', '[]')}`)).toContain('not a JSON object');
    expect(failure(`https://a.example=iss_sub:${file('num.json', '{"ida@corp.example": 7}')}`)).toContain(
      'is not email → subject',
    );
    expect(failure(`https://a.example=iss_sub:${file('sp.json', '{"ida@corp.example": "auth0|a b"}')}`)).toContain(
      'is not email → subject',
    );
    expect(failure('https://a.example=iss_sub:relative.json')).toContain('absolute path');
    expect(failure(`https://a.example=email:${file('x.json', '{}')}`)).toContain('does not use');
    expect(failure('https://a.example=email,https://a.example/x=email')).toContain('repeats https://a.example');
    expect(failure('not-an-origin=email')).toContain('http(s) origin');
  });

  it('a subject with quotes cannot reshape the hint: it is JSON-escaped, the object keeps three members', () => {
    const hints = {
      'https://t.example': {
        format: 'iss_sub' as const,
        mappingPath: '/x',
        subjects: { 'ida@corp.example': 'auth0|x","iss":"https://evil.example/' },
      },
    };
    const hint = JSON.parse(
      loginHintFor(hints, 'https://t.example', 'https://t.example/', 'ida@corp.example'),
    ) as Record<string, string>;
    expect(hint).toEqual({
      format: 'iss_sub',
      iss: 'https://t.example/',
      sub: 'auth0|x","iss":"https://evil.example/',
    });
  });
});
