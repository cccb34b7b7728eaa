import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { UpstreamError } from '../core/errors.js';
import type { CallContext, ChosenLogin, LoginDiscovery } from '../core/login-protocol.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import { sameSiteAsAny } from '../core/same-site.js';
import type { DiscoveredService, ServiceDiscovery } from './discovered-service.js';
import { checkDiscoveredUrl, originOf } from './discovered-url.js';
import {
  appendWellKnown,
  createMetadataFetcher,
  distinct,
  insertWellKnown,
  type MetadataFetcher,
} from './metadata-fetch.js';
import {
  readAuthorizationServer,
  readProtectedResource,
  type AuthorizationServerInfo,
  type ProtectedResourceInfo,
} from './metadata-documents.js';
import type { ProtocolModule } from './protocol-module.js';
import type { ServiceHttp } from './service-http.js';
import { resourceMetadataFrom } from './www-authenticate.js';

/**
 * Working out how a service logs agents in (docs/protocols.md, "Discovery"), the way auth.md
 * tells an agent to: ask the service without credentials; follow the 401's
 * `resource_metadata` (or guess the RFC 9728 well-known URL); read the authorization server's
 * RFC 8414 metadata; and if no registered protocol recognises what it read, run the probes of
 * those that publish no metadata (agent sessions). Which protocol wins is each protocol's
 * rank: discovery holds no order of its own. Results are cached per service URL for a short time. Every request is bounded
 * (tighter body limit, per-request timeout, one overall deadline), so a hostile or broken
 * service fails discovery with a specific code rather than hanging it.
 */
export interface DiscoveryCache {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
}

export interface DiscoveryOptions {
  /** Every registered protocol: each says whether it recognises a service, and ranks itself. */
  readonly protocols: readonly ProtocolModule[];
  /** A client with tighter limits than the protocols' (metadata documents are small). */
  readonly http: ServiceHttp;
  readonly cache?: DiscoveryCache;
  /** How long a result is reused, ms; 0 = never cached. */
  readonly cacheTtlMs: number;
  readonly clock: Clock;
  /** The network policy; discovered URLs must also be same-site as the service or its authorization server. */
  readonly policy: NetworkPolicy;
  /** Per request, ms. Default 5 000. */
  readonly requestTimeoutMs?: number;
  /** The whole discovery, ms. Default 20 000. */
  readonly totalTimeoutMs?: number;
}

export type BridgeDiscovery = ServiceDiscovery & LoginDiscovery;

const cachedShape = z.looseObject({ service: z.string(), findings: z.array(z.string()) });

function sameOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

async function findProtectedResource(
  fetcher: MetadataFetcher,
  service: string,
  policy: NetworkPolicy,
  findings: string[],
): Promise<ProtectedResourceInfo | undefined> {
  const first = await fetcher.request(service).catch((err: unknown) => {
    if (err instanceof UpstreamError && err.code === 'cross_origin_redirect') return undefined;
    throw err;
  });
  const challenge = first?.status === 401 ? resourceMetadataFrom(first.headers.get('www-authenticate')) : undefined;
  findings.push(
    challenge
      ? `${service} answered 401 naming its resource metadata`
      : `${service} answered ${first ? first.status : 'with a redirect elsewhere'} without a resource_metadata challenge`,
  );
  let advertised: string | undefined;
  if (challenge) {
    let resolved: string;
    try {
      resolved = new URL(challenge, service).toString();
    } catch {
      resolved = challenge;
    }
    advertised = checkDiscoveredUrl(resolved, [service], policy, 'resource metadata URL (in its 401)');
  }
  const candidates = distinct([
    ...(advertised ? [advertised] : []),
    insertWellKnown(service, 'oauth-protected-resource'),
    `${new URL(service).origin}/.well-known/oauth-protected-resource`,
    appendWellKnown(service, 'oauth-protected-resource'),
  ]);
  for (const [index, url] of candidates.entries()) {
    const isAdvertised = advertised !== undefined && index === 0;
    const label = isAdvertised ? 'the resource metadata its 401 named' : url;
    const got = await fetcher.get(url, isAdvertised, label);
    if (got.kind === 'found') {
      findings.push(
        isAdvertised ? 'protected-resource metadata where its 401 said' : `protected-resource metadata at ${url}`,
      );
      const info = readProtectedResource(got.doc, `The resource metadata of ${originOf(service)}`);
      // RFC 9728 §3.3: the document must be about this resource. Lenient: same origin is enough
      // (servers disagree about paths and trailing slashes).
      if (info.resource && sameOrigin(info.resource) !== new URL(service).origin) {
        throw new UpstreamError(
          `The resource metadata of ${originOf(service)} describes another resource, not ${service}.`,
          {
            code: 'metadata_resource_mismatch',
            upstreamStatus: 200,
            retry: 'never',
          },
        );
      }
      return info;
    }
    findings.push(got.why);
  }
  return undefined;
}

/** Metadata URLs of an authorization server are guesses (RFC 8414 and auth.md disagree on the form). */
async function findAuthorizationServer(
  fetcher: MetadataFetcher,
  bases: ReadonlyArray<{ readonly base: string; readonly named: boolean }>,
  service: string,
  findings: string[],
): Promise<{ base: string; info: AuthorizationServerInfo } | undefined> {
  for (const { base, named } of bases) {
    const candidates = distinct([
      appendWellKnown(base, 'oauth-authorization-server'),
      insertWellKnown(base, 'oauth-authorization-server'),
      appendWellKnown(base, 'openid-configuration'),
      insertWellKnown(base, 'openid-configuration'),
    ]);
    for (const [index, url] of candidates.entries()) {
      // A server the metadata named is spoken of in our words, not by the URL the service wrote.
      const label = named ? `the named authorization server's metadata (guess ${index + 1})` : url;
      const got = await fetcher.get(url, false, label);
      if (got.kind === 'found') {
        findings.push(
          named ? 'authorization-server metadata of the named server' : `authorization-server metadata at ${url}`,
        );
        return {
          base,
          info: readAuthorizationServer(
            got.doc,
            `The authorization-server metadata of ${originOf(service)}`,
            base.replace(/\/+$/, ''),
          ),
        };
      }
      findings.push(got.why);
    }
  }
  return undefined;
}

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

/** Does the service speak `p`: recognised in its metadata, or answered its probe like a server of it? */
function speaks(p: ProtocolModule, found: DiscoveredService): boolean {
  return p.recognises(found) || found.probed?.[p.name] === true;
}

/** Most preferred first; a name breaks a tie so the order never depends on the list's. */
function byRank(protocols: readonly ProtocolModule[]): ProtocolModule[] {
  return [...protocols].sort((a, b) => a.rank - b.rank || a.name.localeCompare(b.name));
}

export function createServiceDiscovery(o: DiscoveryOptions): BridgeDiscovery {
  const requestTimeoutMs = o.requestTimeoutMs ?? 5_000;
  const totalTimeoutMs = o.totalTimeoutMs ?? 20_000;
  const fetcherFor = (ctx: CallContext) =>
    createMetadataFetcher({
      http: o.http,
      ctx,
      timeoutMs: requestTimeoutMs,
      deadline: o.clock.now() + totalTimeoutMs,
      now: () => o.clock.now(),
    });

  async function discoverFresh(service: string, ctx: CallContext): Promise<DiscoveredService> {
    const fetcher = fetcherFor(ctx);
    const findings: string[] = [];
    const prm = await findProtectedResource(fetcher, service, o.policy, findings);
    const fromPrm = prm?.authorizationServers ?? [];
    if (prm && fromPrm.length === 0) findings.push('the resource metadata names no authorization_servers');
    // An authorization server elsewhere would let the service steer the bridge to any host.
    const named = fromPrm
      .slice(0, 2)
      .map((base) => checkDiscoveredUrl(base, [service], o.policy, 'authorization server'));
    // One origin for everything is common: without a named server, try the service itself.
    const bases = named.length
      ? named.map((base) => ({ base, named: true }))
      : distinct([service, new URL(service).origin]).map((base) => ({ base, named: false }));
    const as = await findAuthorizationServer(fetcher, bases, service, findings);
    const info = as?.info;
    if (as && info) {
      checkEndpoints(info, [service, as.base], o.policy);
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
      prm?.logoUri && isShowableLink(prm.logoUri, [service, ...(as ? [as.base] : [])], o.policy)
        ? prm.logoUri
        : undefined;
    const found: DiscoveredService = {
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
    if (o.protocols.some((p) => speaks(p, found))) return found;
    return probe(found, o.protocols, fetcher);
  }

  /** Runs the probes of `protocols` not yet asked, in rank order, recording their answers. */
  async function probe(
    found: DiscoveredService,
    protocols: readonly ProtocolModule[],
    fetcher: MetadataFetcher,
  ): Promise<DiscoveredService> {
    let out = found;
    for (const p of byRank(protocols)) {
      if (!p.probe || out.probed?.[p.name] !== undefined) continue;
      const answer = await p.probe(out.service, fetcher);
      out = {
        ...out,
        probed: { ...out.probed, [p.name]: answer.speaks },
        findings: [...out.findings, answer.finding],
      };
    }
    return out;
  }

  async function discover(serviceUrl: string, ctx: CallContext): Promise<DiscoveredService> {
    const service = serviceUrl.replace(/\/+$/, '');
    const key = service;
    const cached = o.cache && o.cacheTtlMs > 0 ? await o.cache.get(key) : undefined;
    if (cachedShape.safeParse(cached).success) return cached as DiscoveredService;
    const fresh = await discoverFresh(service, ctx);
    if (o.cache && o.cacheTtlMs > 0) await o.cache.set(key, fresh, o.cacheTtlMs);
    return fresh;
  }

  return {
    discover,
    async choose(serviceUrl, supported, ctx): Promise<ChosenLogin> {
      let found = await discover(serviceUrl, ctx);
      const candidates = byRank(o.protocols.filter((p) => supported.includes(p.name)));
      let protocol = candidates.find((p) => speaks(p, found))?.name;
      // The cached result skipped the probes (another protocol was recognised), but this
      // bridge may not speak that one: ask now.
      if (!protocol && candidates.some((p) => p.probe && found.probed?.[p.name] === undefined)) {
        found = await probe(found, candidates, fetcherFor(ctx));
        protocol = candidates.find((p) => speaks(p, found))?.name;
      }
      if (!protocol) {
        throw new UpstreamError(
          `${found.service} offers no login the bridge speaks (${supported.join(', ')}). Found: ${found.findings.join('; ')}.`.slice(
            0,
            1200,
          ),
          { code: 'no_supported_login', upstreamStatus: 0, retry: 'never' },
        );
      }
      return {
        protocol,
        ...(found.resourceName ? { serviceName: found.resourceName } : {}),
        ...(found.logoUri ? { serviceLogoUrl: found.logoUri } : {}),
      };
    },
  };
}
