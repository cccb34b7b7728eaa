import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { createIdJagIssuer } from '../../src/login/id-jag-issuer.js';
import { verifyIdJag } from '../../src/sandbox/id-jag-verify.js';
import { startTestBridge, type TestBridge } from '../helpers/test-bridge.js';

/**
 * A bridge configured as an ID-JAG issuer (HANDOFF_ID_JAG_*) serves its public key at
 * /id-jag/jwks.json, and its sandbox auth.md v0.6 service trusts that issuer (so `npm start`
 * can demo the identity_assertion registration), while refusing an ID-JAG signed by another key.
 */
describe('the bridge as ID-JAG issuer, wired', () => {
  const issuer = 'https://handoff.example.com';
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startTestBridge('idjag-wired', {
      env: {
        HANDOFF_SANDBOX: 'true',
        HANDOFF_ID_JAG_ISSUER: issuer,
        HANDOFF_ID_JAG_KEY: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
        HANDOFF_ID_JAG_SERVICES: 'https://tasks.example.com',
      },
    });
  });
  afterAll(async () => bridge?.close());

  const register = (assertion: string) =>
    fetch(`${bridge.url}/sandbox/authmd-polling/agent/identity`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'identity_assertion',
        assertion_type: 'urn:ietf:params:oauth:token-type:id-jag',
        assertion,
      }),
    });
  const mint = (signingKey = key) =>
    createIdJagIssuer({ issuer, key: signingKey, services: [new URL(bridge.url).origin] }, systemClock).idJag(
      {
        audience: `${bridge.url}/sandbox/authmd-polling`,
        endpoint: `${bridge.url}/sandbox/authmd-polling/agent/identity`,
        service: `${bridge.url}/sandbox/authmd-polling`,
        subject: 'ida@example.com',
      },
      { agentId: 'a', correlationId: 'c' },
    );

  it('serves the public key, which verifies what the bridge signs', async () => {
    const res = await fetch(`${bridge.url}/id-jag/jwks.json`);
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys[0]!.d).toBeUndefined();
    const publicKey = createPublicKey({ key: keys[0] as never, format: 'jwk' });
    expect(verifyIdJag(await mint(), { [issuer]: publicKey }, Date.now(), new Set()).ok).toBe(true);
  });

  it('its sandbox trusts the configured issuer, and nobody else’s key', async () => {
    const ok = await register(await mint());
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ registration_type: 'identity_assertion' });
    const forged = await register(await mint(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey));
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ error: 'invalid_signature' });
  });
});
