import { describe, expect, it } from 'vitest';
import { readAuthorizationServer } from '../../src/login/metadata-documents.js';

/**
 * The CIBA part of authorization-server metadata, read from the shapes real servers document
 * (OpenID CIBA Core §4; each vendor's published openid-configuration or endpoint reference).
 * Only the fields that matter are kept; URLs are the documented paths on example hosts.
 */
const grant = 'urn:openid:params:grant-type:ciba';
const documented: Array<[string, Record<string, unknown>, string]> = [
  [
    'the CIBA Core §4 example (all three modes)',
    {
      issuer: 'https://server.example.com',
      token_endpoint: 'https://server.example.com/token',
      backchannel_authentication_endpoint: 'https://server.example.com/bc-authorize',
      backchannel_token_delivery_modes_supported: ['poll', 'ping', 'push'],
      backchannel_authentication_request_signing_alg_values_supported: ['ES256', 'PS256'],
      backchannel_user_code_parameter_supported: true,
      grant_types_supported: ['authorization_code', grant],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
    },
    'https://server.example.com/bc-authorize',
  ],
  [
    // A tenant's published document (curl …/.well-known/openid-configuration), the fields that
    // matter copied as they are: note there is no grant_types_supported at all.
    'Auth0 (tenant openid-configuration: /bc-authorize, poll only, no grant list)',
    {
      issuer: 'https://tenant.us.auth0.com/',
      token_endpoint: 'https://tenant.us.auth0.com/oauth/token',
      device_authorization_endpoint: 'https://tenant.us.auth0.com/oauth/device/code',
      userinfo_endpoint: 'https://tenant.us.auth0.com/userinfo',
      revocation_endpoint: 'https://tenant.us.auth0.com/oauth/revoke',
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'PS256'],
      backchannel_authentication_endpoint: 'https://tenant.us.auth0.com/bc-authorize',
      backchannel_token_delivery_modes_supported: ['poll'],
      dpop_signing_alg_values_supported: ['ES256'],
    },
    'https://tenant.us.auth0.com/bc-authorize',
  ],
  [
    // A Keycloak realm's document (as published in a public repository's notes): CIBA beside the device flow.
    'Keycloak (realm openid-configuration: /ext/ciba/auth, poll and ping)',
    {
      issuer: 'https://kc.example.com/realms/r',
      token_endpoint: 'https://kc.example.com/realms/r/protocol/openid-connect/token',
      userinfo_endpoint: 'https://kc.example.com/realms/r/protocol/openid-connect/userinfo',
      grant_types_supported: [
        'authorization_code',
        'implicit',
        'refresh_token',
        'password',
        'client_credentials',
        'urn:ietf:params:oauth:grant-type:device_code',
        grant,
      ],
      token_endpoint_auth_methods_supported: [
        'private_key_jwt',
        'client_secret_basic',
        'client_secret_post',
        'tls_client_auth',
        'client_secret_jwt',
      ],
      revocation_endpoint: 'https://kc.example.com/realms/r/protocol/openid-connect/revoke',
      device_authorization_endpoint: 'https://kc.example.com/realms/r/protocol/openid-connect/auth/device',
      backchannel_token_delivery_modes_supported: ['poll', 'ping'],
      backchannel_authentication_endpoint: 'https://kc.example.com/realms/r/protocol/openid-connect/ext/ciba/auth',
      backchannel_authentication_request_signing_alg_values_supported: ['PS384', 'ES384', 'RS384', 'ES256', 'RS256'],
      mtls_endpoint_aliases: {
        backchannel_authentication_endpoint: 'https://kc.example.com/realms/r/protocol/openid-connect/ext/ciba/auth',
      },
    },
    'https://kc.example.com/realms/r/protocol/openid-connect/ext/ciba/auth',
  ],
  [
    'Connect2id (/ciba, modes listed as poll, ping, push)',
    {
      issuer: 'https://c2id.example.com',
      token_endpoint: 'https://c2id.example.com/token',
      backchannel_authentication_endpoint: 'https://c2id.example.com/ciba',
      backchannel_token_delivery_modes_supported: ['poll', 'ping', 'push'],
      grant_types_supported: ['authorization_code', 'implicit', 'refresh_token', grant],
    },
    'https://c2id.example.com/ciba',
  ],
  [
    'Duende IdentityServer (/connect/ciba, one delivery mode as a string is still a list)',
    {
      issuer: 'https://demo.duendesoftware.com',
      token_endpoint: 'https://demo.duendesoftware.com/connect/token',
      backchannel_authentication_endpoint: 'https://demo.duendesoftware.com/connect/ciba',
      backchannel_token_delivery_modes_supported: 'poll',
      grant_types_supported: ['client_credentials', grant],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    },
    'https://demo.duendesoftware.com/connect/ciba',
  ],
  [
    'PingFederate (/as/bc-auth.ciba, no modes listed)',
    {
      issuer: 'https://pf.example.com',
      token_endpoint: 'https://pf.example.com/as/token.oauth2',
      backchannel_authentication_endpoint: 'https://pf.example.com/as/bc-auth.ciba',
      grant_types_supported: [grant],
    },
    'https://pf.example.com/as/bc-auth.ciba',
  ],
  [
    'PingOne (/as/cibaAuthorization)',
    {
      issuer: 'https://auth.pingone.com/env/as',
      token_endpoint: 'https://auth.pingone.com/env/as/token',
      backchannel_authentication_endpoint: 'https://auth.pingone.com/env/as/cibaAuthorization',
      backchannel_token_delivery_modes_supported: ['poll'],
      grant_types_supported: ['authorization_code', grant],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    },
    'https://auth.pingone.com/env/as/cibaAuthorization',
  ],
];

describe('CIBA metadata', () => {
  const read = (doc: Record<string, unknown>) => readAuthorizationServer(doc, 'The metadata', 'https://base.example');

  it.each(documented)('recognises %s', (_name, doc, endpoint) => {
    const info = read(doc);
    expect(info.ciba?.backchannelAuthenticationEndpoint).toBe(endpoint);
    expect(info.ciba?.tokenEndpoint).toBe(doc.token_endpoint);
    expect(info.ciba?.authMethods).toEqual(
      (doc.token_endpoint_auth_methods_supported as string[] | undefined) ?? ['client_secret_basic'],
    );
  });

  it.each([
    ['push and ping only', { backchannel_token_delivery_modes_supported: ['ping', 'push'] }, 'without poll mode'],
    ['a grant list without the CIBA grant', { grant_types_supported: ['authorization_code'] }, 'without urn:openid'],
    ['no token endpoint', { token_endpoint: null }, 'without a token_endpoint'],
    [
      'an endpoint that is not a URL',
      { backchannel_authentication_endpoint: 'javascript:alert(1)' },
      'not an http(s) URL',
    ],
    ['an endpoint of the wrong type', { backchannel_authentication_endpoint: 42 }, 'not an http(s) URL'],
  ])('does not offer CIBA with %s, and says why in our words', (_name, change, why) => {
    const info = read({ ...documented[2]![1], ...change });
    expect(info.ciba).toBeUndefined();
    expect(info.cibaUnusable).toContain(why);
  });

  it('leaves a server without a backchannel endpoint alone (no CIBA, no finding)', () => {
    const info = read({
      issuer: 'https://x.example',
      token_endpoint: 'https://x.example/token',
      grant_types_supported: [grant],
    });
    expect([info.ciba, info.cibaUnusable]).toEqual([undefined, undefined]);
  });
});
