import { UpstreamError } from '../core/errors.js';
import type { ChosenLogin, ProtocolName } from '../core/login-protocol.js';
import type { DiscoveredService } from './discovered-service.js';
import type { MetadataFetcher } from './metadata-fetch.js';
import type { ProtocolModule } from './protocol-module.js';

/**
 * Which protocol logs an agent in at a service (docs/protocols.md, "Discovery"): each registered
 * protocol says whether it recognises the service's metadata (discovery-metadata.ts), and those
 * that publish none (agent sessions) are asked by their probe. Which one wins is each
 * protocol's rank: discovery holds no order of its own.
 */

/** Does the service speak `p`: recognised in its metadata, or answered its probe like a server of it? */
function speaks(p: ProtocolModule, found: DiscoveredService): boolean {
  return p.recognises(found) || found.probed?.[p.name] === true;
}

/** Most preferred first; a name breaks a tie so the order never depends on the list's. */
function byRank(protocols: readonly ProtocolModule[]): ProtocolModule[] {
  return [...protocols].sort((a, b) => a.rank - b.rank || a.name.localeCompare(b.name));
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

/** `found` as is when a registered protocol recognises it; otherwise with every probe's answer. */
export async function probedUnlessRecognised(
  found: DiscoveredService,
  protocols: readonly ProtocolModule[],
  fetcher: MetadataFetcher,
): Promise<DiscoveredService> {
  if (protocols.some((p) => speaks(p, found))) return found;
  return probe(found, protocols, fetcher);
}

/**
 * The most preferred of the `supported` protocols the service speaks, or `no_supported_login`
 * with what discovery found. `fetcher` is asked for only when a probe must still run.
 */
export async function chooseLogin(
  discovered: DiscoveredService,
  supported: readonly ProtocolName[],
  protocols: readonly ProtocolModule[],
  fetcher: () => MetadataFetcher,
): Promise<ChosenLogin> {
  let found = discovered;
  const candidates = byRank(protocols.filter((p) => supported.includes(p.name)));
  let protocol = candidates.find((p) => speaks(p, found))?.name;
  // The cached result skipped the probes (another protocol was recognised), but this
  // bridge may not speak that one: ask now.
  if (!protocol && candidates.some((p) => p.probe && found.probed?.[p.name] === undefined)) {
    found = await probe(found, candidates, fetcher());
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
}
