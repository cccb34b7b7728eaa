import { UpstreamError } from '../core/errors.js';
import type { CallContext } from '../core/login-protocol.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import type { AgentAuthMetadata, DiscoveredService, ServiceDiscovery } from './discovered-service.js';
import { checkDiscoveredUrl } from './discovered-url.js';

/** The origins an auth.md endpoint may share a site with. */
export const anchorsOf = (service: string, authorizationServer: string | undefined): string[] => [
  service,
  ...(authorizationServer ? [authorizationServer] : []),
];

/**
 * The service's auth.md `agent_auth` block, discovered and checked (docs/protocols.md, "auth.md"):
 * every endpoint it names must pass the network policy and be same-site as the service or its
 * authorization server.
 */
export async function checkedAgentAuth(
  deps: { readonly discovery: ServiceDiscovery; readonly policy: NetworkPolicy },
  service: string,
  ctx: CallContext,
): Promise<{ found: DiscoveredService; agentAuth: AgentAuthMetadata }> {
  const found = await deps.discovery.discover(service, ctx);
  if (!found.agentAuth) {
    throw new UpstreamError(`${service} publishes no auth.md agent_auth block.`, {
      code: 'authmd_unavailable',
      upstreamStatus: 0,
      retry: 'never',
    });
  }
  const a = found.agentAuth;
  const anchors = anchorsOf(found.service, found.authorizationServer);
  for (const url of [
    a.registerUri,
    a.claimUri,
    a.revocationUri,
    a.tokenEndpoint,
    a.oauthRevocationEndpoint,
    ...Object.values(a.claimUris),
  ])
    if (url) checkDiscoveredUrl(url, anchors, deps.policy, 'auth.md endpoint');
  return { found, agentAuth: a };
}
