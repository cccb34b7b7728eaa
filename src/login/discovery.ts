import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { HandoffError, UpstreamError } from '../core/errors.js';
import type { CallContext, ChosenLogin, LoginDiscovery, ProtocolName } from '../core/login-protocol.js';
import type { DiscoveredService, ServiceDiscovery } from './discovered-service.js';
import { appendWellKnown, createMetadataFetcher, distinct, insertWellKnown, type MetadataFetcher } from './metadata-fetch.js';
import { readAuthorizationServer, readProtectedResource, type AuthorizationServerInfo, type ProtectedResourceInfo } from './metadata-documents.js';
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
  readonly allowInsecureHttp: boolean;
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
  const email = (a.types.includes('identity_assertion') && a.assertionTypes.includes('verified_email')) || a.types.includes('verified_email');
  return email || a.types.includes('user_claimed') || a.types.includes('anonymous');
}

/** Does POST <service>/agent-sessions/start answer like agent sessions? (An empty body is refused with 400.) */
async function probeAgentSessions(fetcher: MetadataFetcher, service: string): Promise<{ speaks: boolean; finding: string }> {
  const url = `${service}/agent-sessions/start`;
  const res = await fetcher.request(url, { json: {} }).catch((err: unknown) => {
    // Transient trouble is retried by the caller; a refusal (a redirect away…) means "no".
    if (err instanceof HandoffError && err.retry !== 'never') throw err;
    return undefined;
  });
  if (!res) return { speaks: false, finding: `POST ${url} failed` };
  const isJsonObject = typeof res.body === 'object' && res.body !== null;
  const speaks = isJsonObject && (res.status === 400 || res.status === 422 || res.status === 200 || res.status === 201);
  return { speaks, finding: speaks ? `POST ${url} answered like agent sessions` : `POST ${url} answered ${res.status}${isJsonObject ? '' : ' without JSON'}` };
}

function sameOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

async function findProtectedResource(fetcher: MetadataFetcher, service: string, findings: string[]): Promise<ProtectedResourceInfo | undefined> {
  const first = await fetcher.request(service).catch((err: unknown) => {
    if (err instanceof UpstreamError && err.code === 'cross_origin_redirect') return undefined;
    throw err;
  });
  const advertised = first?.status === 401 ? resourceMetadataFrom(first.headers.get('www-authenticate')) : undefined;
  findings.push(
    advertised
      ? `${service} answered 401 naming its resource metadata`
      : `${service} answered ${first ? first.status : 'with a redirect elsewhere'} without a resource_metadata challenge`,
  );
  const candidates = distinct([
    ...(advertised ? [new URL(advertised, service).toString()] : []),
    insertWellKnown(service, 'oauth-protected-resource'),
    `${new URL(service).origin}/.well-known/oauth-protected-resource`,
    appendWellKnown(service, 'oauth-protected-resource'),
  ]);
  for (const [index, url] of candidates.entries()) {
    const got = await fetcher.get(url, Boolean(advertised) && index === 0);
    if (got.kind === 'found') {
      findings.push(`protected-resource metadata at ${url}`);
      const info = readProtectedResource(got.doc, url);
      // RFC 9728 §3.3: the document must be about this resource. Lenient: same origin is enough
      // (servers disagree about paths and trailing slashes).
      if (info.resource && sameOrigin(info.resource) !== new URL(service).origin) {
        throw new UpstreamError(`The resource metadata at ${url.slice(0, 200)} describes ${info.resource.slice(0, 200)}, not ${service}.`, {
          code: 'metadata_resource_mismatch',
          upstreamStatus: 200,
          retry: 'never',
        });
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
  bases: readonly string[],
  findings: string[],
): Promise<{ base: string; info: AuthorizationServerInfo } | undefined> {
  for (const base of bases) {
    const candidates = distinct([
      appendWellKnown(base, 'oauth-authorization-server'),
      insertWellKnown(base, 'oauth-authorization-server'),
      appendWellKnown(base, 'openid-configuration'),
      insertWellKnown(base, 'openid-configuration'),
    ]);
    for (const url of candidates) {
      const got = await fetcher.get(url, false);
      if (got.kind === 'found') {
        findings.push(`authorization-server metadata at ${url}`);
        return { base, info: readAuthorizationServer(got.doc, url, base.replace(/\/+$/, '')) };
      }
      findings.push(got.why);
    }
  }
  return undefined;
}

export function createServiceDiscovery(o: DiscoveryOptions): BridgeDiscovery {
  const requestTimeoutMs = o.requestTimeoutMs ?? 5_000;
  const totalTimeoutMs = o.totalTimeoutMs ?? 20_000;
  const fetcherFor = (ctx: CallContext) =>
    createMetadataFetcher({ http: o.http, ctx, timeoutMs: requestTimeoutMs, deadline: o.clock.now() + totalTimeoutMs, now: () => o.clock.now(), allowInsecureHttp: o.allowInsecureHttp });

  async function discoverFresh(service: string, ctx: CallContext): Promise<DiscoveredService> {
    const fetcher = fetcherFor(ctx);
    const findings: string[] = [];
    const prm = await findProtectedResource(fetcher, service, findings);
    const fromPrm = prm?.authorizationServers ?? [];
    if (prm && fromPrm.length === 0) findings.push('the resource metadata names no authorization_servers');
    // One origin for everything is common: without a named server, try the service itself.
    const as = await findAuthorizationServer(fetcher, fromPrm.length ? fromPrm.slice(0, 2) : distinct([service, new URL(service).origin]), findings);
    const info = as?.info;
    if (info) {
      if (info.agentAuthWithoutRegistration) findings.push('an agent_auth block without a registration endpoint');
      findings.push(info.agentAuth ? `an agent_auth block (types: ${info.agentAuth.types.join(', ') || 'none listed'})` : 'no agent_auth block');
      findings.push(info.device ? 'a device_authorization_endpoint' : 'no device_authorization_endpoint');
    }
    const found: DiscoveredService = {
      service,
      findings,
      ...(prm?.resourceName ? { resourceName: prm.resourceName } : {}),
      ...(prm?.logoUri ? { logoUri: prm.logoUri } : {}),
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
      if (!supported.some((p) => usable[p]) && found.agentSessions === undefined && supported.includes('agent-sessions')) {
        const probe = await probeAgentSessions(fetcherFor(ctx), found.service);
        usable['agent-sessions'] = probe.speaks;
        found = { ...found, findings: [...found.findings, probe.finding] };
      }
      const protocol = (['authmd', 'device', 'agent-sessions'] as const).find((p) => supported.includes(p) && usable[p]);
      if (!protocol) {
        throw new UpstreamError(
          `${found.resourceName ?? found.service} offers no login the bridge speaks (${supported.join(', ')}). Found: ${found.findings.join('; ')}.`.slice(0, 1200),
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
