import { describe, expect, it } from 'vitest';
import { HandoffError } from '../../src/core/errors.js';
import { completionUrl, maskEmail } from '../../src/login/authmd.js';
import { choosePlan, readClaimed, readRegistration, registrationBody } from '../../src/login/authmd-registration.js';
import type { AgentAuthMetadata } from '../../src/login/discovered-service.js';
import type { ServiceResponse } from '../../src/login/service-http.js';

const block = (types: string[], assertionTypes: string[] = []): AgentAuthMetadata => ({
  registerUri: 'https://svc.example/agent/register',
  claimUris: {},
  types,
  assertionTypes,
  claimMethods: [],
});

const response = (body: unknown, status = 201): ServiceResponse => ({
  status,
  headers: new Headers(),
  body,
  text: JSON.stringify(body),
  url: 'https://svc.example/agent/register',
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof HandoffError ? err.code : 'not a HandoffError';
  }
  return undefined;
}

describe('choosePlan: which auth.md registration a login uses', () => {
  it.each([
    [['identity_assertion', 'user_claimed', 'anonymous'], ['verified_email'], 'ana@example.com', 'email'],
    [['identity_assertion', 'user_claimed', 'anonymous'], ['verified_email'], undefined, 'user_claimed'],
    [['verified_email', 'anonymous'], [], 'ana@example.com', 'email'],
    [['identity_assertion'], ['urn:ietf:params:oauth:token-type:id-jag'], 'ana@example.com', undefined],
    [['anonymous'], [], 'ana@example.com', 'anonymous'],
    [['anonymous', 'user_claimed'], [], undefined, 'user_claimed'],
  ])('%j (%j) with email %s → %s', (types, assertionTypes, email, plan) => {
    if (plan === undefined)
      expect(codeOf(() => choosePlan(block(types, assertionTypes), email))).toBe('no_supported_login');
    else expect(choosePlan(block(types, assertionTypes), email)).toBe(plan);
  });

  it('asks for the approver email when verified email is the only way', () => {
    expect(codeOf(() => choosePlan(block(['identity_assertion'], ['verified_email']), undefined))).toBe(
      'approver_email_required',
    );
  });

  it('sends exactly the documented bodies', () => {
    expect(
      registrationBody('email', { email: 'a@b.co', scopes: [], clientName: 'handoff', claimMethod: 'google_oauth' }),
    ).toEqual({
      type: 'identity_assertion',
      assertion_type: 'verified_email',
      assertion: 'a@b.co',
      requested_credential_type: 'access_token',
    });
    expect(
      registrationBody('user_claimed', { scopes: ['x'], clientName: 'handoff', claimMethod: 'github_oauth' }),
    ).toEqual({
      type: 'user_claimed',
      claim_method: 'github_oauth',
      requested_credential_type: 'access_token',
      requested_scopes: ['x'],
      client_name: 'handoff',
    });
    expect(registrationBody('anonymous', { scopes: [], clientName: 'handoff', claimMethod: 'google_oauth' })).toEqual({
      type: 'anonymous',
      requested_credential_type: 'api_key',
    });
  });
});

describe('reading registration answers leniently', () => {
  it.each([
    ['an ISO date', '2026-05-21T17:31:25.994Z', Date.parse('2026-05-21T17:31:25.994Z')],
    ['epoch seconds', 1_790_000_000, 1_790_000_000_000],
    ['epoch ms', 1_790_000_000_123, 1_790_000_000_123],
    ['epoch seconds as text', '1790000000', 1_790_000_000_000],
  ])('claim_token_expires as %s', (_what, value, ms) => {
    expect(
      readRegistration(
        response({ claim_token: 'clm_x', claim_url: 'https://svc.example/c', claim_token_expires: value }),
      ).claimExpiresAt,
    ).toBe(ms);
  });

  it.each(['claim_url', 'verification_uri_complete', 'verification_uri', 'url'])(
    'takes the claim link from %s',
    (field) => {
      expect(
        readRegistration(response({ claim_token: 'clm_x', [field]: 'https://svc.example/claim/1' })).claimUrl,
      ).toBe('https://svc.example/claim/1');
    },
  );

  it('keeps the anonymous key and the scopes a claim will grant', () => {
    const r = readRegistration(
      response({
        claim_token: 'clm_x',
        credential: 'key_abc',
        credential_expires: null,
        scopes: ['r'],
        post_claim_scopes: ['r', 'w'],
        registration_id: 'reg_1',
      }),
    );
    expect(r).toMatchObject({
      registrationId: 'reg_1',
      key: { value: 'key_abc', scopes: ['r'] },
      postClaimScopes: ['r', 'w'],
    });
  });

  it('refuses an answer without a claim token (malformed, retried) and a 4xx (rejected, not retried)', () => {
    expect(codeOf(() => readRegistration(response({ registration_id: 'reg_1' })))).toBe('service_malformed_response');
    expect(codeOf(() => readRegistration(response({ error: 'anonymous_not_enabled' }, 400)))).toBe(
      'registration_rejected',
    );
  });

  it('reads the credential of a completed claim under any of its names', () => {
    expect(
      readClaimed(
        response(
          { status: 'claimed', credential: 'c1', credential_expires: '2030-01-01T00:00:00Z', scopes: ['a'] },
          200,
        ),
        0,
      ),
    ).toEqual({
      value: 'c1',
      expiresAt: Date.parse('2030-01-01T00:00:00Z'),
      scopes: ['a'],
    });
    expect(readClaimed(response({ access_token: 't', expires_in: 60, scope: 'a b' }, 200), 1_000)).toEqual({
      value: 't',
      expiresAt: 61_000,
      scopes: ['a', 'b'],
    });
    expect(readClaimed(response({ registration_id: 'r', status: 'claimed' }, 200), 0)).toBeUndefined();
  });
});

describe('small helpers', () => {
  it.each([
    ['https://svc.example/agent/claim', 'https://svc.example/agent/claim/complete'],
    ['https://svc.example/agent/claim/', 'https://svc.example/agent/claim/complete'],
    ['https://fin.example.net/api/auth?action=claim', 'https://fin.example.net/api/auth/complete?action=claim'],
  ])('completionUrl(%s) → %s', (claim, complete) => {
    expect(completionUrl(claim)).toBe(complete);
  });

  it('masks emails to the first letter and the domain', () => {
    expect(maskEmail('ana.lopez@example.com')).toBe('a***@example.com');
  });
});
