import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HandoffError } from '../../src/core/errors.js';
import { readAuthorizationServer, readProtectedResource } from '../../src/login/metadata-documents.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/discovery/${name}`, import.meta.url), 'utf8'));
const url = 'https://as.example/.well-known/oauth-authorization-server';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof HandoffError ? err.code : 'not a HandoffError';
  }
  return undefined;
}

describe('authorization-server metadata in the shapes real services publish', () => {
  it.each([
    [
      'google-openid-configuration.json',
      'https://oauth2.googleapis.com/device/code',
      'https://oauth2.googleapis.com/revoke',
    ],
    [
      'microsoft-openid-configuration.json',
      'https://login.microsoftonline.com/common/oauth2/v2.0/devicecode',
      undefined,
    ],
    [
      'auth0-openid-configuration.json',
      'https://example-tenant.us.auth0.com/oauth/device/code',
      'https://example-tenant.us.auth0.com/oauth/revoke',
    ],
    [
      'okta-oauth-authorization-server.json',
      'https://example.okta.com/oauth2/default/v1/device/authorize',
      'https://example.okta.com/oauth2/default/v1/revoke',
    ],
    ['github-device-as.json', 'https://github.com/login/device/code', undefined],
  ])('%s: a device endpoint', (file, device, revocation) => {
    const info = readAuthorizationServer(fixture(file), url, 'https://as.example');
    expect(info.device?.deviceAuthorizationEndpoint).toBe(device);
    expect(info.device?.revocationEndpoint).toBe(revocation);
    expect(info.agentAuth).toBeUndefined();
  });

  it('keeps a template issuer (Microsoft) and a trailing-slash issuer (Auth0) as they are', () => {
    expect(
      readAuthorizationServer(fixture('microsoft-openid-configuration.json'), url, 'https://as.example').issuer,
    ).toBe('https://login.microsoftonline.com/{tenantid}/v2.0');
    expect(readAuthorizationServer(fixture('auth0-openid-configuration.json'), url, 'https://as.example').issuer).toBe(
      'https://example-tenant.us.auth0.com/',
    );
  });

  it('uses the base it fetched from when there is no issuer', () => {
    const info = readAuthorizationServer(
      { device_authorization_endpoint: 'https://a/d', token_endpoint: 'https://a/t' },
      url,
      'https://as.example/tenant',
    );
    expect(info.issuer).toBe('https://as.example/tenant');
    expect(info.device?.issuer).toBe('https://as.example/tenant');
  });

  it.each([
    [
      'workos-authmd-as.json',
      {
        registerUri: 'https://auth.service.com/agent/register',
        claimUri: 'https://auth.service.com/agent/register/claim',
        types: ['anonymous', 'identity_assertion'],
        assertionTypes: ['urn:ietf:params:oauth:token-type:id-jag', 'verified_email'],
        revocationUri: 'https://auth.service.com/oauth2/revoke',
      },
    ],
    [
      'knowgrph-authmd-as.json',
      {
        registerUri: 'https://app.example.org/knowgrph/agent/auth',
        claimUri: 'https://app.example.org/knowgrph/agent/auth/claim',
        revocationUri: 'https://app.example.org/knowgrph/agent/auth/revoke',
        types: ['anonymous', 'identity_assertion'],
      },
    ],
    [
      'fingo-authmd-as.json',
      {
        registerUri: 'https://fin.example.net/api/auth?action=agent-register',
        types: ['identity_assertion', 'anonymous', 'verified_email'],
        claimUris: {
          identity_assertion: 'https://fin.example.net/api/auth?action=claim',
          anonymous: 'https://fin.example.net/api/auth?action=claim',
        },
      },
    ],
    [
      'portfolio-authmd-as.json',
      {
        registerUri: 'https://portfolio.example.dev/oauth/register',
        types: ['anonymous'],
        skill: 'https://portfolio.example.dev/auth.md',
      },
    ],
    [
      'monoes-authmd-as.json',
      {
        registerUri: 'https://community.example.me/api/auth/agent/claim',
        claimUri: 'https://community.example.me/api/auth/agent/claim/verify',
        types: ['identity_assertion'],
        assertionTypes: ['verified_email'],
      },
    ],
    ['pathstash-authmd-as.json', { registerUri: 'https://stash.example.workers.dev/signup', types: ['service_auth'] }],
  ])('%s: the agent_auth block, whatever its field names', (file, expected) => {
    const info = readAuthorizationServer(fixture(file), url, 'https://as.example');
    expect(info.agentAuth).toMatchObject(expected);
  });

  it('an agent_auth block that names nowhere to register is noted, not used (device-userclaimed)', () => {
    const info = readAuthorizationServer(fixture('device-userclaimed-as.json'), url, 'https://as.example');
    expect(info.agentAuth).toBeUndefined();
    expect(info.agentAuthWithoutRegistration).toBe(true);
    expect(info.device?.deviceAuthorizationEndpoint).toBe('https://app.example.com/oauth2/device_authorization');
  });

  it.each([
    ['a list', []],
    ['a string', 'https://as'],
    ['null', null],
    ['a number', 42],
  ])('rejects a document that is %s with metadata_invalid', (_what, doc) => {
    expect(codeOf(() => readAuthorizationServer(doc, url, 'https://as'))).toBe('metadata_invalid');
  });

  it.each([
    ['agent_auth is a string', { agent_auth: 'yes' }],
    ['register_uri is a number', { agent_auth: { register_uri: 7 } }],
    ['register_uri is not http(s)', { agent_auth: { register_uri: 'javascript:alert(1)' } }],
    [
      'the device endpoint is an object',
      { device_authorization_endpoint: { url: 'https://a' }, token_endpoint: 'https://a/t' },
    ],
    [
      'identity_types_supported holds numbers',
      { agent_auth: { register_uri: 'https://a/r', identity_types_supported: [1, 2] } },
    ],
  ])('rejects wrong types (%s) with metadata_invalid', (_what, doc) => {
    expect(codeOf(() => readAuthorizationServer(doc, url, 'https://as'))).toBe('metadata_invalid');
  });

  it('accepts null for absent fields and ignores unknown ones', () => {
    const info = readAuthorizationServer(
      { issuer: null, revocation_endpoint: null, agent_auth: null, 'x-vendor': { a: 1 } },
      url,
      'https://as',
    );
    expect(info).toEqual({ issuer: 'https://as', agentAuthWithoutRegistration: false });
  });
});

describe('protected-resource metadata', () => {
  it('reads the auth.md reference shape', () => {
    expect(readProtectedResource(fixture('workos-prm.json'), url)).toEqual({
      resource: 'https://api.service.com/',
      resourceName: 'Service',
      logoUri: 'https://service.com/logo.png',
      authorizationServers: ['https://auth.service.com/'],
    });
  });

  it('reads an MCP server shape without a logo', () => {
    expect(readProtectedResource(fixture('mcp-prm.json'), url)).toMatchObject({
      resourceName: 'Portfolio MCP',
      authorizationServers: ['https://portfolio.example.dev'],
    });
  });

  it('takes a single string for authorization_servers, drops a non-http logo, and tames the name', () => {
    const info = readProtectedResource(
      {
        authorization_servers: 'https://as.example',
        resource_logo_uri: 'javascript:alert(1)',
        resource_name: `  Evil\n\u0007Name ${'x'.repeat(200)}`,
      },
      url,
    );
    expect(info.authorizationServers).toEqual(['https://as.example']);
    expect(info.logoUri).toBeUndefined();
    expect(info.resourceName).toMatch(/^Evil {2}Name x+$/);
    expect(info.resourceName!.length).toBeLessThanOrEqual(100);
  });

  it.each([
    ['authorization_servers is a number', { authorization_servers: 42 }],
    ['authorization_servers holds a non-URL', { authorization_servers: ['not a url'] }],
    ['resource_name is an object', { resource_name: { en: 'x' } }],
  ])('rejects wrong types (%s) with metadata_invalid', (_what, doc) => {
    expect(codeOf(() => readProtectedResource(doc, url))).toBe('metadata_invalid');
  });
});

describe('which auth.md shape the metadata suggests (AUTHMD-VERSIONS.md §7; the registration answer decides)', () => {
  const lineOf = (doc: unknown) =>
    readAuthorizationServer(doc, 'The authorization-server metadata of https://as.example', 'https://as.example')
      .agentAuth;
  it.each([
    ['workos-authmd-as.json', '0.1'],
    ['knowgrph-authmd-as.json', '0.1'],
    ['fingo-authmd-as.json', '0.1'],
    ['pathstash-authmd-as.json', '0.1'],
    // v0.2/v0.3: identity_endpoint with an emailed code, spoken as v0.1.
    ['monoes-authmd-as.json', '0.1'],
    ['polling-authmd-as.json', '0.6'],
    ['readback-authmd-as.json', '0.7'],
    // Tuist lists no grants: metadata says read-back, its flat answer will say polling.
    ['tuist-authmd-as.json', '0.7'],
  ])('%s → %s', (file, line) => {
    expect(lineOf(fixture(file))?.line).toBe(line);
  });

  it('reads the polling line endpoints and the claim grant, including a variant grant name', () => {
    const doc = fixture('polling-authmd-as.json') as Record<string, unknown>;
    expect(lineOf(doc)).toMatchObject({
      tokenEndpoint: 'https://agents.example.com/oauth2/token',
      oauthRevocationEndpoint: 'https://agents.example.com/oauth2/revoke',
      claimGrant: 'urn:workos:agent-auth:grant-type:claim',
      jwtBearer: true,
    });
    const variant = { ...doc, grant_types_supported: ['urn:agent-artifacts:params:oauth:grant-type:claim_token'] };
    expect(lineOf(variant)).toMatchObject({
      line: '0.6',
      claimGrant: 'urn:agent-artifacts:params:oauth:grant-type:claim_token',
    });
  });

  it('reads an odd grant list as none rather than failing discovery for every protocol', () => {
    const doc = fixture('okta-oauth-authorization-server.json') as Record<string, unknown>;
    for (const grants of [42, { a: 1 }, [1, null]])
      expect(codeOf(() => lineOf({ ...doc, grant_types_supported: grants }))).toBeUndefined();
  });

  it('ignores an absurd grant name and a huge grant list rather than trusting them', () => {
    const doc = fixture('readback-authmd-as.json') as Record<string, unknown>;
    const long = `urn:x:${'a'.repeat(500)}:claim`;
    expect(lineOf({ ...doc, grant_types_supported: [long] })?.line).toBe('0.7');
    const many = [...Array.from({ length: 60 }, (_, i) => `urn:x:${i}`), 'urn:workos:agent-auth:grant-type:claim'];
    expect(lineOf({ ...doc, grant_types_supported: many })?.line).toBe('0.7');
  });
});
