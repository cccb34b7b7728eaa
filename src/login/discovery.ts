import type { Clock } from '../core/clock.js';
import type { CallContext, LoginDiscovery } from '../core/login-protocol.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import type { DiscoveredService, ServiceDiscovery } from './discovered-service.js';
import { cachedDiscovery, type DiscoveryCache } from './discovery-cache.js';
import { chooseLogin, probedUnlessRecognised } from './discovery-choice.js';
import { discoverMetadata } from './discovery-metadata.js';
import { createMetadataFetcher } from './metadata-fetch.js';
import type { ProtocolModule } from './protocol-module.js';
import type { ServiceHttp } from './service-http.js';

/**
 * Working out how a service logs agents in (docs/protocols.md, "Discovery"), the way auth.md
 * tells an agent to: ask the service without credentials; follow the 401's
 * `resource_metadata` (or guess the RFC 9728 well-known URL); read the authorization server's
 * RFC 8414 metadata (discovery-documents.ts, checked and kept by discovery-metadata.ts); and if no
 * registered protocol recognises what it read, run the probes of those that publish no metadata
 * (agent sessions). Which protocol wins is each protocol's rank (discovery-choice.ts): discovery
 * holds no order of its own. Results are cached per service URL for a short time
 * (discovery-cache.ts). Every request is bounded (tighter body limit, per-request timeout, one
 * overall deadline), so a hostile or broken service fails discovery with a specific code rather
 * than hanging it.
 */
export type { DiscoveryCache };

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

  const cached = cachedDiscovery(o.cache, o.cacheTtlMs);

  async function discover(serviceUrl: string, ctx: CallContext): Promise<DiscoveredService> {
    const service = serviceUrl.replace(/\/+$/, '');
    return cached(service, async () => {
      const fetcher = fetcherFor(ctx);
      return probedUnlessRecognised(await discoverMetadata(fetcher, service, o.policy), o.protocols, fetcher);
    });
  }

  return {
    discover,
    choose: async (serviceUrl, supported, ctx) =>
      chooseLogin(await discover(serviceUrl, ctx), supported, o.protocols, () => fetcherFor(ctx)),
  };
}
