import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import { maskSecrets } from '../../src/core/secret-patterns.js';
import { createIdJagIssuer, idJagJwksRoute, idJagLifetimeSeconds } from '../../src/login/id-jag-issuer.js';
import { verifyIdJag } from '../../src/sandbox/id-jag-verify.js';

/**
 * The bridge's ID-JAGs (HANDOFF_ID_JAG_*) against hostile services: one never goes to an origin
 * other than the one its audience names, nor to a service the operator does not list; the
 * verifier (the sandbox's, in the reference's order) refuses forgeries, tampering, replays and
 * stale ones; the key never appears in what the bridge says.
 */
const issuer = 'https://handoff.example.com';
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const now = 1_800_000_000_000;
const clock: Clock = { now: () => now };
const config = { issuer, key: keys.privateKey, services: ['https://tasks.example.com', 'https://*.corp.example'] };
const provider = createIdJagIssuer(config, clock);
const ctx = { agentId: 'agent-1', correlationId: 'corr-1' };
const good = {
  audience: 'https://tasks.example.com',
  endpoint: 'https://tasks.example.com/agent/identity',
  service: 'https://tasks.example.com/api',
  subject: 'Ida@Example.com',
};
const parts = (jwt: string) =>
  jwt
    .split('.')
    .slice(0, 2)
    .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>);
const trusted = { [issuer]: keys.publicKey };

describe('ID-JAG issuer against hostile services', () => {
  it('mints the draft’s claims: typ oauth-id-jag+jwt, iss/sub/aud/client_id/jti/iat/exp, 5 minutes, a fresh jti each time', async () => {
    const a = await provider.idJag(good, ctx);
    const b = await provider.idJag(good, ctx);
    const [header, claims] = parts(a);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'oauth-id-jag+jwt' });
    expect(claims).toMatchObject({
      iss: issuer,
      sub: 'ida@example.com',
      aud: 'https://tasks.example.com',
      client_id: issuer,
      email: 'ida@example.com',
      email_verified: true,
      iat: now / 1000,
      exp: now / 1000 + idJagLifetimeSeconds,
      auth_time: now / 1000,
    });
    expect(parts(b)[1]!.jti).not.toBe(claims!.jti);
  });

  it('refuses an assertion whose audience is another origin than the endpoint it would be posted to', async () => {
    for (const audience of [
      'https://victim.corp.example',
      'https://tasks.example.com.evil.example',
      'http://tasks.example.com',
    ]) {
      await expect(provider.idJag({ ...good, audience }, ctx)).rejects.toMatchObject({
        code: 'id_jag_audience_mismatch',
      });
    }
  });

  it('refuses a service or an endpoint the operator does not list, even when the audience matches', async () => {
    const evil = { audience: 'https://evil.example', endpoint: 'https://evil.example/agent/identity' };
    await expect(provider.idJag({ ...good, ...evil }, ctx)).rejects.toMatchObject({ code: 'id_jag_not_allowed' });
    await expect(provider.idJag({ ...good, service: 'https://evil.example' }, ctx)).rejects.toMatchObject({
      code: 'id_jag_not_allowed',
    });
    expect(provider.allows('https://a.corp.example/x')).toBe(true);
    expect(provider.allows('https://corp.example.evil.example')).toBe(false);
  });

  it('serves the public key at /id-jag/jwks.json, which verifies its assertions, and nothing private', async () => {
    const res = await idJagJwksRoute(config).handler({} as never);
    const { keys: jwks } = res.body as { keys: Array<Record<string, unknown>> };
    expect(jwks).toHaveLength(1);
    expect(jwks[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks[0]!.d).toBeUndefined();
    expect(parts(await provider.idJag(good, ctx))[0]!.kid).toBe(jwks[0]!.kid);
    const fromJwks = createPublicKey({ key: jwks[0] as never, format: 'jwk' });
    expect(verifyIdJag(await provider.idJag(good, ctx), { [issuer]: fromJwks }, now, new Set()).ok).toBe(true);
  });

  it('the verifier refuses a replay, tampering, alg none, another key, an unknown issuer, a stale one and a huge one', async () => {
    const seen = new Set<string>();
    const jwt = await provider.idJag(good, ctx);
    expect(verifyIdJag(jwt, trusted, now, seen).ok).toBe(true);
    expect(verifyIdJag(jwt, trusted, now, seen)).toMatchObject({ ok: false, error: 'replay_detected' });

    const [h, p, s] = (await provider.idJag(good, ctx)).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'ceo@example.com' })).toString('base64url');
    expect(verifyIdJag(`${h}.${forged}.${s}`, trusted, now, seen)).toMatchObject({ error: 'invalid_signature' });
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'oauth-id-jag+jwt' })).toString('base64url');
    expect(verifyIdJag(`${none}.${p}.`, trusted, now, seen)).toMatchObject({ error: 'invalid_request' });
    const other = { [issuer]: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey };
    expect(verifyIdJag(`${h}.${p}.${s}`, other, now, seen)).toMatchObject({ error: 'invalid_signature' });
    expect(verifyIdJag(`${h}.${p}.${s}`, {}, now, seen)).toMatchObject({ error: 'invalid_issuer' });
    expect(verifyIdJag(`${h}.${p}.${s}`, trusted, now + (idJagLifetimeSeconds + 1) * 1000, seen)).toMatchObject({
      error: 'expired',
    });
    expect(verifyIdJag('a'.repeat(100_000), trusted, now, seen)).toMatchObject({ error: 'invalid_request' });
  });

  it('never puts the key or the assertion in an error it raises', async () => {
    const pem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const err = (await provider
      .idJag({ ...good, audience: 'https://x.corp.example' }, ctx)
      .catch((e: unknown) => e)) as Error;
    const text = `${err.message} ${JSON.stringify(err)}`;
    expect(text).not.toContain(pem.slice(40, 80));
    expect(text).not.toMatch(/eyJ/);
    // And should one reach a log line, the JWT shape is masked there.
    const jwt = await provider.idJag(good, ctx);
    expect(maskSecrets(`sent ${jwt} to the service`)).not.toContain(jwt.split('.')[1]!);
  });
});
