import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { HandoffError, UpstreamError } from '../core/errors.js';
import type { CallContext, ChosenLogin, LoginDiscovery, ProtocolName } from '../core/login-protocol.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import { sameSiteAsAny } from '../core/same-site.js';
import type { DiscoveredService, ServiceDiscovery } from './discovered-service.js';
import { checkDiscoveredUrl, originOf, servicePath } from './discovered-url.js';
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
import type { ServiceHttp } from './service-http.js';
import { resourceMetadataFrom } from './www-authenticate.js';

/**
 * Working out how a service logs agents in (PROTOCOLS.md §2–§3), the way auth.md tells an
 * agent to: ask the service without credentials; follow the 401's `resource_metadata` (or
 * guess the RFC 9728 well-known URL); read the authorization server's RFC 8414 metadata; and
 * if it names neither auth.md nor a device endpoint, ask whether the service answers agent
 * sessions. Results are cached per service URL for a short time. Every request is bounded
 * (tighter body limit, per-request timeout, one overall deadline), so a hostile or broken
 * service fails discovery with a specific code rather than hanging it.
 */
export interface DiscoveryCache {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
}

export interface DiscoveryOptions {
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

/** The registration types the auth.md protocol can use (ID-JAG needs an identity provider). */
export function usableAgentAuth(found: DiscoveredService): boolean {
  const a = found.agentAuth;
  if (!a) return false;
  const email =
    (a.types.includes('identity_assertion') && a.assertionTypes.includes('verified_email')) ||
    a.types.includes('verified_email');
  return email || a.types.includes('user_claimed') || a.types.includes('anonymous');
}

/**
 * Does POST <service>/agent-sessions/start answer like agent sessions? A real server refuses
 * the empty body with a 400 (or 422) JSON error; a 200 counts only when it is a real start
 * answer. A service that answers 200 to anything (no auth at all, a catch-all) does not speak it.
 */
async function probeAgentSessions(
  fetcher: MetadataFetcher,
  service: string,
): Promise<{ speaks: boolean; finding: string }> {
  const url = servicePath(service, 'agent-sessions', 'start');
  const res = await fetcher.request(url, { json: {} }).catch((err: unknown) => {
    // Transient trouble is retried by the caller; a refusal (a redirect away…) means "no".
    if (err instanceof HandoffError && err.retry !== 'never') throw err;
    return undefined;
  });
  if (!res) return { speaks: false, finding: `POST ${url} failed` };
  const isJsonObject = typeof res.body === 'object' && res.body !== null && !Array.isArray(res.body);
  const b = (isJsonObject ? res.body : {}) as Record<string, unknown>;
  const startAnswer =
    typeof b.auth_request_id === 'string' && typeof b.authorize_url === 'string' && typeof b.poll_token === 'string';
  const speaks =
    isJsonObject &&
    (res.status === 400 || res.status === 422 || ((res.status === 200 || res.status === 201) && startAnswer));
  return {
    speaks,
    finding: speaks
      ? `POST ${url} answered like agent sessions`
      : `POST ${url} answered ${res.status}${isJsonObject ? '' : ' without JSON'}`,
  };
}

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
  const a = info.agentAuth;
  if (a) {
    check(a.registerUri, 'registration endpoint');
    check(a.claimUri, 'claim endpoint');
    check(a.revocationUri, 'revocation endpoint');
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
const knownTypes = new Set(['anonymous', 'identity_assertion', 'user_claimed', 'verified_email']);

function describeTypes(types: readonly string[]): string {
  const known = types.filter((t) => knownTypes.has(t));
  const others = types.length - known.length;
  const parts = [...known, ...(others > 0 ? [`${others} other${others === 1 ? '' : 's'}`] : [])];
  return parts.join(', ') || 'none listed';
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
      ...(logoUri ? { logoUri } : {}),
      ...(as ? { authorizationServer: as.base } : {}),
      ...(info?.agentAuth ? { agentAuth: info.agentAuth } : {}),
      ...(info?.device ? { device: info.device } : {}),
    };
    if (usableAgentAuth(found) || found.device) return found;
    const probe = await probeAgentSessions(fetcher, service);
    return { ...found, agentSessions: probe.speaks, findings: [...findings, probe.finding] };
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
      const usable: Record<ProtocolName, boolean> = {
        authmd: usableAgentAuth(found),
        device: found.device !== undefined,
        'agent-sessions': found.agentSessions === true,
      };
      // The cached result skipped the agent-sessions probe (auth.md or device was found), but
      // this bridge may not speak those: ask now.
      if (
        !supported.some((p) => usable[p]) &&
        found.agentSessions === undefined &&
        supported.includes('agent-sessions')
      ) {
        const probe = await probeAgentSessions(fetcherFor(ctx), found.service);
        usable['agent-sessions'] = probe.speaks;
        found = { ...found, findings: [...found.findings, probe.finding] };
      }
      const protocol = (['authmd', 'device', 'agent-sessions'] as const).find(
        (p) => supported.includes(p) && usable[p],
      );
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
