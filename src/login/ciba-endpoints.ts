import * as oauth from 'oauth4webapi';
import type { CibaClient } from '../core/config-ciba.js';
import type { CallContext } from '../core/login-protocol.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import { upstream } from './service-answer-errors.js';
import { cibaClientAuth } from './ciba-client-auth.js';
import type { CibaSecret } from './ciba-secret.js';
import type { CibaMetadata, ServiceDiscovery } from './discovered-service.js';
import { checkDiscoveredUrl } from './discovered-url.js';
import { oauthFetch } from './oauth-fetch.js';
import type { ServiceHttp } from './service-http.js';

/**
 * Where a CIBA login reaches its authorization server, and as which client: the endpoints a
 * service's discovery advertised (or a login's sealed secret kept), each checked against the
 * network policy and the service's site (here, and again in the HTTP client), as the
 * oauth4webapi server object, with the configured client's authentication for that origin.
 */
export interface CibaEndpointDeps {
  readonly http: ServiceHttp;
  readonly discovery: ServiceDiscovery;
  readonly policy: NetworkPolicy;
  /** Client credentials per authorization-server origin (`HANDOFF_CIBA_CLIENTS`). */
  readonly clients: Readonly<Record<string, CibaClient>>;
}

export function authorizationServer(m: Omit<CibaMetadata, 'authMethods' | 'signingAlgs'>): oauth.AuthorizationServer {
  return {
    issuer: m.issuer,
    token_endpoint: m.tokenEndpoint,
    backchannel_authentication_endpoint: m.backchannelAuthenticationEndpoint,
    ...(m.revocationEndpoint ? { revocation_endpoint: m.revocationEndpoint } : {}),
    ...(m.userinfoEndpoint ? { userinfo_endpoint: m.userinfoEndpoint } : {}),
  };
}

export function cibaEndpoints(deps: CibaEndpointDeps) {
  // Requests go through the service HTTP client (network policy, pinned addresses, limits).
  const options = (ctx: CallContext) => ({
    [oauth.customFetch]: oauthFetch(deps.http, ctx),
    [oauth.allowInsecureRequests]: true,
  });
  const checked = <T extends Partial<CibaMetadata>>(m: T, anchors: readonly string[]): T => {
    for (const url of [m.backchannelAuthenticationEndpoint, m.tokenEndpoint, m.revocationEndpoint, m.userinfoEndpoint])
      if (url) checkDiscoveredUrl(url, anchors, deps.policy, 'CIBA endpoint');
    return m;
  };
  const anchorsOf = (s: Pick<CibaSecret, 'service' | 'authorizationServer'>) => [
    s.service,
    ...(s.authorizationServer ? [s.authorizationServer] : []),
  ];

  return {
    options,

    /** The service's CIBA endpoints (poll mode), checked, and the origin whose client speaks to them. */
    async discovered(service: string, ctx: CallContext) {
      const found = await deps.discovery.discover(service, ctx);
      if (!found.ciba)
        throw upstream(`${service} does not advertise an OpenID CIBA endpoint with poll mode.`, 'ciba_unavailable');
      const anchors = [found.service, ...(found.authorizationServer ? [found.authorizationServer] : [])];
      return {
        ciba: checked(found.ciba, anchors),
        clientOrigin: new URL(found.authorizationServer ?? found.service).origin,
        ...(found.authorizationServer ? { authorizationServer: found.authorizationServer } : {}),
      };
    },

    /** The server a login's sealed secret names, its endpoints checked again. */
    serverOf: (s: CibaSecret) => authorizationServer(checked(s, anchorsOf(s))),

    /** The configured client for an origin, and how it authenticates to a server supporting these methods. */
    clientFor: (clientOrigin: string, server: Pick<CibaMetadata, 'authMethods' | 'signingAlgs'>) =>
      cibaClientAuth(deps.clients, clientOrigin, server),
  };
}

export type CibaEndpoints = ReturnType<typeof cibaEndpoints>;
