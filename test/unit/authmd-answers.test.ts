import { describe, expect, it } from 'vitest';
import { HandoffError } from '../../src/core/errors.js';
import {
  readClaimAttempt,
  readIdentityAnswer,
  readLineRegistration,
  readTokenAnswer,
} from '../../src/login/authmd-answers.js';
import type { ServiceResponse } from '../../src/login/service-http.js';

/**
 * The later auth.md shapes' answers as their published documents show them (Tuist's auth.md
 * for polling, AUTHMD-VERSIONS.md §5 for read-back), and hostile ones.
 */
const now = Date.UTC(2026, 11, 3, 12, 0, 0);
const answer = (body: unknown, status = 200): ServiceResponse => ({
  status,
  headers: new Headers(),
  body,
  text: JSON.stringify(body),
  url: 'https://svc.example/agent/identity',
});
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof HandoffError ? err.code : 'not a HandoffError';
  }
  return undefined;
};

describe('registration answers tell the shape apart (the final word)', () => {
  it('Tuist service_auth (flat, with a claim block) is the polling line', () => {
    const r = readLineRegistration(
      answer({
        registration_id: 'reg_1',
        registration_type: 'service_auth',
        claim_url: 'https://svc.example/agent/identity/claim',
        claim_token: 'clm_abc',
        claim_token_expires: '2026-12-04T12:00:00Z',
        post_claim_scopes: ['mcp'],
        claim: {
          user_code: '123456',
          expires_in: 600,
          verification_uri: 'https://svc.example/agent/identity/claim?claim_attempt_token=x',
          interval: 5,
        },
      }),
      now,
    );
    expect(r).toMatchObject({
      line: '0.6',
      claimToken: 'clm_abc',
      claimExpiresAt: Date.UTC(2026, 11, 4, 12, 0, 0),
      attempt: { userCode: '123456', expiresAt: now + 600_000, intervalSeconds: 5 },
      postClaimScopes: ['mcp'],
    });
  });

  it('Tuist anonymous (flat, with an assertion) is polling; nested read-back anonymous has no attempt yet', () => {
    expect(
      readLineRegistration(
        answer({
          registration_id: 'reg_2',
          registration_type: 'anonymous',
          identity_assertion: 'eyJ.a.b',
          assertion_expires: '2026-12-03T13:00:00Z',
          claim_token: 'clm_x',
        }),
        now,
      ),
    ).toMatchObject({ line: '0.6', assertion: { value: 'eyJ.a.b' } });
    const nested = readLineRegistration(
      answer({
        id: 'reg_3',
        type: 'anonymous',
        identity: { assertion: 'eyJ.c.d', expires_at: '2026-12-03T13:00:00Z' },
        scopes: { pre_claim: ['api.read'], post_claim: ['api.read', 'api.write'] },
        claim: { token: 'clm_y', expires_at: '2026-12-04T12:00:00Z', url: 'https://svc.example/agent/identity/claim' },
      }),
      now,
    );
    expect(nested).toMatchObject({ line: '0.7', claimToken: 'clm_y', postClaimScopes: ['api.read', 'api.write'] });
    expect(nested.attempt).toBeUndefined();
  });

  it('read-back service_auth carries the link and no user_code', () => {
    const r = readLineRegistration(
      answer({
        id: 'reg_4',
        type: 'service_auth',
        scopes: { post_claim: ['api.read'] },
        claim: {
          token: 'clm_z',
          expires_at: '2026-12-04T12:00:00Z',
          attempt: { verification_uri: 'https://svc.example/claim/cvt_1', expires_at: '2026-12-03T12:10:00Z' },
        },
      }),
      now,
    );
    expect(r.attempt).toEqual({ verificationUri: 'https://svc.example/claim/cvt_1', expiresAt: now + 600_000 });
  });

  it('reads the AuthKit reference examples (agent_reg_ ids, an attempt link with its own token)', () => {
    const r = readLineRegistration(
      answer({
        id: 'agent_reg_01J9Q2Z3X4Y5W6V7U8T9S0R1Q',
        type: 'service_auth',
        scopes: { post_claim: ['read:public', 'write:data'] },
        claim: {
          token: 'clm_01J9Q2Z3X4Y5W6V7U8T9S0R1Q',
          expires_at: '2025-01-15T12:30:00Z',
          url: 'https://authkit.example/claim',
          attempt: { verification_uri: 'https://authkit.example/claim?token=att_01J9Q2Z3X4Y5W6V7U8T9S0R1Q' },
        },
      }),
      now,
    );
    expect(r).toMatchObject({
      line: '0.7',
      registrationId: 'agent_reg_01J9Q2Z3X4Y5W6V7U8T9S0R1Q',
      claimToken: 'clm_01J9Q2Z3X4Y5W6V7U8T9S0R1Q',
      attempt: { verificationUri: 'https://authkit.example/claim?token=att_01J9Q2Z3X4Y5W6V7U8T9S0R1Q' },
      postClaimScopes: ['read:public', 'write:data'],
    });
  });

  it('refuses a v0.1 answer, a huge token, and a user code a person should not be asked to type', () => {
    expect(codeOf(() => readLineRegistration(answer({ credential: 'sk_test_1', claim_token: 'clm' }), now))).toBe(
      'service_malformed_response',
    );
    expect(
      codeOf(() => readLineRegistration(answer({ registration_id: 'r', claim_token: 'c'.repeat(10_000) }), now)),
    ).toBe('service_malformed_response');
    for (const user_code of ['<script>', '1'.repeat(40), '12\u202e34'])
      expect(
        codeOf(() =>
          readLineRegistration(
            answer({ registration_id: 'r', claim_token: 'c', claim: { user_code, verification_uri: 'https://x' } }),
            now,
          ),
        ),
      ).toBe('service_malformed_response');
    expect(codeOf(() => readLineRegistration(answer(['not', 'an', 'object']), now))).toBe('service_malformed_response');
  });
});

describe('claim starts, tokens and read-back identities', () => {
  it('reads both claim-start shapes', () => {
    expect(
      readClaimAttempt(
        answer({
          claim_attempt: { user_code: '654321', expires_in: 900, verification_uri: 'https://x/v', interval: 5 },
        }),
        now,
      ),
    ).toMatchObject({ userCode: '654321', expiresAt: now + 900_000 });
    expect(readClaimAttempt(answer({ id: 'reg', attempt: { verification_uri: 'https://x/v2' } }), now)).toEqual({
      verificationUri: 'https://x/v2',
    });
    expect(codeOf(() => readClaimAttempt(answer({ status: 'initiated' }), now))).toBe('service_malformed_response');
  });

  it('reads the claim grant answer and refuses a token that is not a bearer token', () => {
    expect(
      readTokenAnswer(
        answer({
          access_token: 'at_1',
          token_type: 'Bearer',
          expires_in: 3600,
          scope: 'api.read api.write',
          identity_assertion: 'eyJ.e.f',
          assertion_expires: '2026-12-03T13:00:00Z',
        }),
        now,
      ),
    ).toEqual({
      accessToken: 'at_1',
      expiresAt: now + 3_600_000,
      scopes: ['api.read', 'api.write'],
      assertion: { value: 'eyJ.e.f', expiresAt: now + 3_600_000 },
    });
    expect(codeOf(() => readTokenAnswer(answer({ access_token: 'x', token_type: 'MAC' }), now))).toBe(
      'service_malformed_response',
    );
  });

  it('reads the read-back completion with its one-shot refresh token, object or bare string', () => {
    expect(
      readIdentityAnswer(
        answer({
          id: 'reg',
          status: 'claimed',
          identity: {
            assertion: 'eyJ.g.h',
            expires_at: '2026-12-03T13:00:00Z',
            refresh_token: { value: 'art_1', expires_at: '2027-01-02T12:00:00Z' },
          },
        }),
      ).refreshToken,
    ).toEqual({ value: 'art_1', expiresAt: Date.UTC(2027, 0, 2, 12, 0, 0) });
    expect(readIdentityAnswer(answer({ identity: { assertion: 'a', refresh_token: 'art_2' } })).refreshToken).toEqual({
      value: 'art_2',
    });
    expect(codeOf(() => readIdentityAnswer(answer({ status: 'claimed' })))).toBe('service_malformed_response');
  });
});
