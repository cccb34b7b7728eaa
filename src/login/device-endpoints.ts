import * as oauth from 'oauth4webapi';
import type { CallContext } from '../core/login-protocol.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import { upstream } from './service-answer-errors.js';
import type { DeviceSecret } from './device-secret.js';
import type { DeviceMetadata, ServiceDiscovery } from './discovered-service.js';
import { checkDiscoveredUrl } from './discovered-url.js';
import { oauthFetch } from './oauth-fetch.js';
import type { ServiceHttp } from './service-http.js';

/**
 * Where a device-flow login reaches its authorization server: the endpoints a service's
 * discovery advertised (or a login's sealed secret kept), each checked against the network
 * policy and the service's site (here, and again in the HTTP client), as the oauth4webapi server
 * object, and the public client (no secret) the bridge is there.
 */
export interface DeviceEndpointDeps {
  readonly http: ServiceHttp;
  readonly discovery: ServiceDiscovery;
  /** Every endpoint must pass it and be same-site as the service or its authorization server. */
  readonly policy: NetworkPolicy;
}

export function authorizationServer(
  m: Pick<
    DeviceMetadata,
    'issuer' | 'tokenEndpoint' | 'deviceAuthorizationEndpoint' | 'revocationEndpoint' | 'userinfoEndpoint'
  >,
): oauth.AuthorizationServer {
  return {
    issuer: m.issuer,
    token_endpoint: m.tokenEndpoint,
    device_authorization_endpoint: m.deviceAuthorizationEndpoint,
    ...(m.revocationEndpoint ? { revocation_endpoint: m.revocationEndpoint } : {}),
    ...(m.userinfoEndpoint ? { userinfo_endpoint: m.userinfoEndpoint } : {}),
  };
}

/** The bridge at a device-flow server: a public client, no secret. */
export const publicClient = (clientId: string): oauth.Client => ({
  client_id: clientId,
  token_endpoint_auth_method: 'none',
});

export function deviceEndpoints(deps: DeviceEndpointDeps) {
  // Every endpoint is checked against the network policy and the service's site before it is
  // used (and the HTTP client checks again), so oauth4webapi's own https-only check can be relaxed.
  const options = (ctx: CallContext) => ({
    [oauth.customFetch]: oauthFetch(deps.http, ctx),
    [oauth.allowInsecureRequests]: true,
  });
  const checked = <T extends Partial<DeviceMetadata>>(m: T, anchors: readonly string[]): T => {
    for (const url of [m.deviceAuthorizationEndpoint, m.tokenEndpoint, m.revocationEndpoint, m.userinfoEndpoint]) {
      if (!url) continue;
      // Secrets sealed before the anchors were kept: the policy alone.
      checkDiscoveredUrl(url, anchors.length ? anchors : [url], deps.policy, 'device-flow endpoint');
    }
    return m;
  };
  const anchorsOf = (service: string | undefined, authorizationServer: string | undefined) => [
    ...(service ? [service] : []),
    ...(authorizationServer ? [authorizationServer] : []),
  ];

  return {
    options,

    /** The service's device-flow endpoints, checked, and the authorization server they were checked against. */
    async discovered(service: string, ctx: CallContext): Promise<DeviceMetadata & { authorizationServer?: string }> {
      const found = await deps.discovery.discover(service, ctx);
      if (!found.device) {
        throw upstream(
          `${service} does not advertise an RFC 8628 device_authorization_endpoint.`,
          'device_flow_unavailable',
        );
      }
      return {
        ...checked(found.device, anchorsOf(found.service, found.authorizationServer)),
        ...(found.authorizationServer ? { authorizationServer: found.authorizationServer } : {}),
      };
    },

    /** The server a login's sealed secret names, its endpoints checked again. */
    serverOf: (s: DeviceSecret) => authorizationServer(checked(s, anchorsOf(s.service, s.authorizationServer))),
  };
}

export type DeviceEndpoints = ReturnType<typeof deviceEndpoints>;
