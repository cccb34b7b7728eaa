import { json, requestOrigin, type Route, type RouteRequest } from '../core/http-route.js';
import { defaultAuthMdScopes } from './authmd-state.js';
import type { AuthMdRegistrationType, SandboxProtocol } from './sandbox-state.js';

/**
 * Discovery documents, as auth.md and the RFCs describe them: Protected Resource Metadata
 * (RFC 9728) at the path-inserted well-known URL and under the base, Authorization Server
 * Metadata (RFC 8414) under the base (where auth.md clients look) and path-inserted, with
 * an `agent_auth` block when the instance speaks auth.md and a device endpoint when it
 * speaks RFC 8628. Like many real servers, it omits nothing optional it can fill in but
 * never promises what it does not speak.
 */
export interface MetadataSettings {
  readonly base: string;
  readonly serviceName: string;
  readonly protocols: readonly SandboxProtocol[];
  readonly authmdTypes: readonly AuthMdRegistrationType[];
  /** Advertise the device flow's userinfo endpoint (who approved). */
  readonly identifiesApprover: boolean;
  /** auth.md's polling (`0.6`) or read-back (`0.7`) line instead of v0.1. */
  readonly authmdLine?: '0.6' | '0.7' | undefined;
}

/** Where the protected-resource metadata of a sandbox at `base` lives (RFC 9728 §3.1). */
export const resourceMetadataUrl = (origin: string, base: string): string =>
  `${origin}/.well-known/oauth-protected-resource${base}`;

/** The `WWW-Authenticate` challenge the sandbox's protected endpoints answer 401 with. */
export function bearerChallenge(req: RouteRequest, base: string, withMetadata: boolean): string {
  return withMetadata
    ? `Bearer realm="sandbox", resource_metadata="${resourceMetadataUrl(requestOrigin(req), base)}"`
    : 'Bearer realm="sandbox"';
}

export function protectedResourceDocument(origin: string, s: MetadataSettings): Record<string, unknown> {
  return {
    resource: `${origin}${s.base}`,
    resource_name: s.serviceName,
    resource_logo_uri: `${origin}${s.base}/logo.svg`,
    authorization_servers: [`${origin}${s.base}`],
    scopes_supported: scopesOf(s),
    bearer_methods_supported: ['header'],
  };
}

function scopesOf(s: MetadataSettings): string[] {
  return s.protocols.includes('authmd')
    ? [...defaultAuthMdScopes]
    : ['account:read', 'projects:read', 'projects:write'];
}

export function authorizationServerDocument(origin: string, s: MetadataSettings): Record<string, unknown> {
  const at = (path: string) => `${origin}${s.base}${path}`;
  const device = s.protocols.includes('device');
  const authmd = s.protocols.includes('authmd') && s.authmdTypes.length > 0;
  // CIBA (poll mode) on its own token endpoint, so an instance may speak it beside the device flow.
  const ciba = s.protocols.includes('ciba');
  return {
    issuer: at(''),
    scopes_supported: scopesOf(s),
    ...(ciba
      ? {
          backchannel_authentication_endpoint: at('/bc-authorize'),
          backchannel_token_delivery_modes_supported: ['poll'],
          backchannel_user_code_parameter_supported: false,
          token_endpoint: at('/oauth/ciba-token'),
          grant_types_supported: ['urn:openid:params:grant-type:ciba', 'refresh_token'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          ...(s.identifiesApprover ? { userinfo_endpoint: at('/oauth/userinfo') } : {}),
        }
      : {}),
    ...(device
      ? {
          device_authorization_endpoint: at('/oauth/device_authorization'),
          token_endpoint: at('/oauth/token'),
          grant_types_supported: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
          token_endpoint_auth_methods_supported: ['none'],
          ...(s.identifiesApprover ? { userinfo_endpoint: at('/oauth/userinfo') } : {}),
        }
      : {}),
    ...(device || authmd || ciba ? { revocation_endpoint: at('/oauth/revoke') } : {}),
    ...(authmd && s.authmdLine ? laterAuthMd(at, s.authmdLine, s.authmdTypes) : {}),
    ...(authmd && !s.authmdLine
      ? {
          agent_auth: {
            skill: at('/auth.md'),
            register_uri: at('/agent/register'),
            claim_uri: at('/agent/claim'),
            revocation_uri: at('/oauth/revoke'),
            identity_types_supported: [...s.authmdTypes],
            ...(s.authmdTypes.includes('anonymous') ? { anonymous: { credential_types_supported: ['api_key'] } } : {}),
            ...(s.authmdTypes.includes('identity_assertion')
              ? {
                  identity_assertion: {
                    assertion_types_supported: ['verified_email'],
                    credential_types_supported: ['access_token', 'api_key'],
                  },
                }
              : {}),
            ...(s.authmdTypes.includes('user_claimed')
              ? {
                  user_claimed: {
                    claim_methods_supported: ['google_oauth', 'github_oauth'],
                    credential_types_supported: ['access_token'],
                  },
                }
              : {}),
            events_supported: [],
          },
        }
      : {}),
  };
}

/**
 * An instance told `authmdTypes: ['anonymous']` offers only anonymous registration (as v0.4/v0.5
 * services do); one told types without `identity_assertion` offers no ID-JAG registration.
 */
export const laterTypes = (types: readonly AuthMdRegistrationType[]): string[] =>
  types.length === 1 && types[0] === 'anonymous'
    ? ['anonymous']
    : ['anonymous', 'service_auth', ...(types.includes('identity_assertion') ? ['identity_assertion'] : [])];

/** AUTHMD-VERSIONS.md §3.1: the later shapes' metadata, polling with the claim grant listed. */
function laterAuthMd(
  at: (path: string) => string,
  line: '0.6' | '0.7',
  types: readonly AuthMdRegistrationType[],
): Record<string, unknown> {
  return {
    token_endpoint: at('/oauth2/token'),
    revocation_endpoint: at('/oauth/revoke'),
    grant_types_supported: [
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
      ...(line === '0.6' ? ['urn:workos:agent-auth:grant-type:claim'] : []),
    ],
    agent_auth: {
      skill: at('/auth.md'),
      identity_endpoint: at('/agent/identity'),
      claim_endpoint: at('/agent/identity/claim'),
      events_endpoint: at('/agent/events'),
      identity_types_supported: laterTypes(types),
      identity_assertion: { assertion_types_supported: ['urn:ietf:params:oauth:token-type:id-jag'] },
      events_supported: [],
    },
  };
}

const logo = (name: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#1f6feb"/><text x="32" y="42" font-family="sans-serif" font-size="30" text-anchor="middle" fill="#fff">${name.slice(0, 1).replace(/[<&>]/g, '')}</text></svg>`;

export function metadataRoutes(s: MetadataSettings): Route[] {
  const prm: Route['handler'] = async (req) => json(200, protectedResourceDocument(requestOrigin(req), s));
  const as: Route['handler'] = async (req) => json(200, authorizationServerDocument(requestOrigin(req), s));
  return [
    { method: 'GET', path: `/.well-known/oauth-protected-resource${s.base}`, handler: prm },
    { method: 'GET', path: `${s.base}/.well-known/oauth-protected-resource`, handler: prm },
    { method: 'GET', path: `${s.base}/.well-known/oauth-authorization-server`, handler: as },
    { method: 'GET', path: `/.well-known/oauth-authorization-server${s.base}`, handler: as },
    {
      method: 'GET',
      path: `${s.base}/logo.svg`,
      handler: async () => ({
        status: 200,
        headers: { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=3600' },
        body: logo(s.serviceName),
      }),
    },
  ];
}
