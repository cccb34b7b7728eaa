import type { NetworkPolicy } from '../core/network-policy.js';
import { sameSiteAsAny } from '../core/same-site.js';
import type { DiscoveredService } from './discovered-service.js';
import { checkDiscoveredUrl } from './discovered-url.js';
import { findAuthorizationServer, findProtectedResource } from './discovery-documents.js';
import { distinct, type MetadataFetcher } from './metadata-fetch.js';
import type { AuthorizationServerInfo } from './metadata-documents.js';

/**
 * What discovery (discovery.ts) keeps of a service's metadata (discovery-documents.ts finds it):
 * the authorization server only when it is the service's own site, every endpoint the protocols
 * would call checked against the network policy and that site, a logo only when it is a link the
 * bridge may show, and the findings that say, in the bridge's words, what was there and what not.
 * Probes and the choice of protocol are discovery-choice.ts's.
 */

/** Every endpoint the protocols would call must be same-site as the service or the checked authorization server. */
function checkEndpoints(info: AuthorizationServerInfo, anchors: readonly string[], policy: NetworkPolicy): void {
  const check = (url: string | undefined, what: string) =>
    url !== undefined && checkDiscoveredUrl(url, anchors, policy, what);
  if (info.device) {
    check(info.device.deviceAuthorizationEndpoint, 'device authorization endpoint');
    check(info.device.tokenEndpoint, 'token endpoint');
    check(info.device.revocationEndpoint, 'revocation endpoint');
  }
  if (info.ciba) {
    check(info.ciba.backchannelAuthenticationEndpoint, 'backchannel authentication endpoint');
    check(info.ciba.tokenEndpoint, 'token endpoint');
    check(info.ciba.revocationEndpoint, 'revocation endpoint');
    check(info.ciba.userinfoEndpoint, 'userinfo endpoint');
  }
  const a = info.agentAuth;
  if (a) {
    check(a.registerUri, 'registration endpoint');
    check(a.claimUri, 'claim endpoint');
    check(a.revocationUri, 'revocation endpoint');
    check(a.tokenEndpoint, 'token endpoint');
    check(a.oauthRevocationEndpoint, 'revocation endpoint');
    for (const uri of Object.values(a.claimUris)) check(uri, 'claim endpoint');
  }
}

function isShowableLink(value: string, anchors: readonly string[], policy: NetworkPolicy): boolean {
  try {
    return policy.checkLink(new URL(value)).ok && sameSiteAsAny(value, anchors);
  } catch {
    return false;
  }
}

/** Registration types the bridge knows by name; anything else the service lists is only counted. */
const knownTypes = new Set(['anonymous', 'identity_assertion', 'service_auth', 'user_claimed', 'verified_email']);

function describeTypes(types: readonly string[]): string {
  const known = types.filter((t) => knownTypes.has(t));
  const others = types.length - known.length;
  const parts = [...known, ...(others > 0 ? [`${others} other${others === 1 ? '' : 's'}`] : [])];
  return parts.join(', ') || 'none listed';
}

/** The service as its metadata describes it, every URL in it checked; nothing probed yet. */
export async function discoverMetadata(
  fetcher: MetadataFetcher,
  service: string,
  policy: NetworkPolicy,
): Promise<DiscoveredService> {
  const findings: string[] = [];
  const prm = await findProtectedResource(fetcher, service, policy, findings);
  const fromPrm = prm?.authorizationServers ?? [];
  if (prm && fromPrm.length === 0) findings.push('the resource metadata names no authorization_servers');
  // An authorization server elsewhere would let the service steer the bridge to any host.
  const named = fromPrm.slice(0, 2).map((base) => checkDiscoveredUrl(base, [service], policy, 'authorization server'));
  // One origin for everything is common: without a named server, try the service itself.
  const bases = named.length
    ? named.map((base) => ({ base, named: true }))
    : distinct([service, new URL(service).origin]).map((base) => ({ base, named: false }));
  const as = await findAuthorizationServer(fetcher, bases, service, findings);
  const info = as?.info;
  if (as && info) {
    checkEndpoints(info, [service, as.base], policy);
    if (info.agentAuthWithoutRegistration) findings.push('an agent_auth block without a registration endpoint');
    findings.push(
      info.agentAuth ? `an agent_auth block (types: ${describeTypes(info.agentAuth.types)})` : 'no agent_auth block',
    );
    findings.push(info.device ? 'a device_authorization_endpoint' : 'no device_authorization_endpoint');
    findings.push(
      info.ciba ? 'a CIBA backchannel_authentication_endpoint (poll)' : (info.cibaUnusable ?? 'no CIBA endpoint'),
    );
  }
  // A logo is shown, not called: dropped unless it is a link the policy allows, on the service's site.
  const logoUri =
    prm?.logoUri && isShowableLink(prm.logoUri, [service, ...(as ? [as.base] : [])], policy) ? prm.logoUri : undefined;
  return {
    service,
    findings,
    ...(prm?.resourceName ? { resourceName: prm.resourceName } : {}),
    ...(prm?.resource && prm.resource.length <= 2_048 ? { resource: prm.resource } : {}),
    ...(logoUri ? { logoUri } : {}),
    ...(as ? { authorizationServer: as.base } : {}),
    ...(info?.agentAuth ? { agentAuth: info.agentAuth } : {}),
    ...(info?.device ? { device: info.device } : {}),
    ...(info?.ciba ? { ciba: info.ciba } : {}),
  };
}
