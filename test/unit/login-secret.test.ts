import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { HandoffRecord } from '../../src/core/handoff.js';
import { loginSecretDictionary, openLoginSecret, sealLoginSecret } from '../../src/engine/login-secret.js';
import { createKeys } from '../../src/store/keys.js';
import { createVault } from '../../src/store/vault.js';

// Sealing and opening touch no Redis.
const vaultWith = (key: Buffer) => createVault({ redis: undefined as never, keys: createKeys('secret'), key });
const holding = (id: string, sealedSecret: string) => ({ id, sealedSecret }) as HandoffRecord;
const agentSessionsSecret = () => ({
  authRequestId: `ar_${randomBytes(12).toString('hex')}`,
  pollToken: `aap_${randomBytes(24).toString('hex')}`,
  codeVerifier: randomBytes(32).toString('hex'),
  service: 'http://127.0.0.1:45035/sandbox',
});

describe('a login secret sealed in its record', () => {
  const vault = vaultWith(randomBytes(32));

  it('is sealed compressed, ~100 characters shorter than its JSON, and opens as it was', () => {
    const secret = agentSessionsSecret();
    const blob = sealLoginSecret(vault, 'hf_1', secret);
    const asText = vault.seal(JSON.stringify(secret), 'login-secret:hf_1');
    expect(asText.length - blob.length).toBeGreaterThanOrEqual(100);
    expect(openLoginSecret(vault, holding('hf_1', blob))).toEqual(secret);
    // Bound to its handoff like any sealed value.
    expect(() => openLoginSecret(vault, holding('hf_2', blob))).toThrow(/could not be decrypted/);
  });

  it('opens a secret sealed as JSON text, and seals one that does not compress as text', () => {
    const secret = agentSessionsSecret();
    expect(openLoginSecret(vault, holding('hf_3', vault.seal(JSON.stringify(secret), 'login-secret:hf_3')))).toEqual(
      secret,
    );
    const tiny = { t: 'zq' };
    const blob = sealLoginSecret(vault, 'hf_4', tiny);
    expect(vault.open(blob, 'login-secret:hf_4')).toBe(JSON.stringify(tiny));
    expect(openLoginSecret(vault, holding('hf_4', blob))).toEqual(tiny);
  });

  it('keeps its dictionary: secrets sealed in waiting records must still open', () => {
    expect(createHash('sha256').update(loginSecretDictionary).digest('hex')).toBe(
      '69be268de9414119b6dad7c8833b26d4c64dced9027bb507819e3ffaa38a9ee2',
    );
    // Sealed with the dictionary above under a fixed key.
    const blob =
      'v1.S7Bvjk46.0D4SvdK2vuUL7m8D.fd1afFb-Cu-gIlctDStRHg.VJVo_WZJ8b8H2_GJCUwmt4szcPxXLygAu1YLB4-Uz0N_eo6J2EBGaRNH529KSsniumzgCDbHePV7Txk-17wMjCl6iTd9UF4cNYHJ08TeuXXdzZQmpmgsR6ftPEplYgGGGvKcm-aDq8YF-_8XHmiYpLi6qwGn3wiycmiIOeUp9JxtXUhNcfc';
    expect(openLoginSecret(vaultWith(Buffer.alloc(32, 7)), holding('hf_pinned', blob))).toEqual({
      authRequestId: 'ar_e32e91be7f2822fa58c11daa',
      pollToken: 'aap_5b1c0e6f3a9d4e2b8c7f6a5d4e3b2c1a0f9e8d7c6b5a4f3e',
      codeVerifier: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      service: 'http://127.0.0.1:45035/sandbox',
    });
  });

  it('is resealed under a new key byte for byte (vault rekey)', () => {
    const oldKey = randomBytes(32);
    const secret = agentSessionsSecret();
    const blob = sealLoginSecret(vaultWith(oldKey), 'hf_5', secret);
    const rotated = createVault({
      redis: undefined as never,
      keys: createKeys('secret'),
      key: randomBytes(32),
      previousKeys: [oldKey],
    });
    const fresh = rotated.reseal(blob, 'login-secret:hf_5')!;
    expect(fresh.split('.')[1]).not.toBe(blob.split('.')[1]);
    expect(openLoginSecret(rotated, holding('hf_5', fresh))).toEqual(secret);
  });
});
