import { classifyAddress, type AddressKind } from './address-ranges.js';
import { formatIp, parseIp } from './ip-address.js';
import { matchesOriginGlob, parseOriginGlobs } from './origin-glob.js';

/**
 * Where the bridge may send a request, and which links it may show a person: the one rule
 * every service URL, discovered URL, resolved address and approval link is held to (no SSRF).
 *
 * - Public addresses: allowed, over https.
 * - Loopback, private (RFC 1918), shared (CGNAT), link-local, unique-local, documentation,
 *   benchmarking and reserved addresses: refused in production unless the origin (by name, or
 *   by address and port) matches `HANDOFF_ALLOWED_SERVICES`. In development loopback is
 *   allowed, and `HANDOFF_ALLOW_PRIVATE_NETWORKS` adds private, shared and unique-local (never
 *   link-local, where cloud metadata services live).
 * - Unspecified (`0.0.0.0`, `::`), multicast and broadcast: never (not places one connects to;
 *   on Linux `0.0.0.0` reaches this host).
 * - Plain http: only to an address the policy allows *because* it is loopback or private
 *   (development), or to an allowlisted origin. Never to a public host.
 *
 * Pure: DNS answers are handed in (src/login/pinned-connector.ts resolves once, checks every
 * address here, and connects to the one it checked).
 */
export interface NetworkPolicyOptions {
  readonly production: boolean;
  /** Development only: allow private, shared and unique-local addresses too. Default false. */
  readonly allowPrivateNetworks?: boolean;
  /** Origin globs (`HANDOFF_ALLOWED_SERVICES`) reachable at any address and over http. */
  readonly allowedServices?: readonly string[];
}

export type NetworkVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** `invalid_service_url`, `service_url_has_credentials`, `insecure_service_url` or `service_address_not_allowed`. */
      readonly code: string;
      /** Completes "<url> …": a sentence a person can act on. */
      readonly reason: string;
    };

export interface NetworkPolicy {
  readonly production: boolean;
  /** Does this origin (`https://host[:port]`) match `HANDOFF_ALLOWED_SERVICES`? */
  allowlisted(origin: string): boolean;
  /** Before any DNS: the scheme, credentials, plain http, and the address when the host is an IP. */
  checkUrl(url: URL): NetworkVerdict;
  /** At connect time: one address the URL's host resolved to. */
  checkAddress(url: URL, address: string): NetworkVerdict;
  /** A link a person opens (approval, claim, verification page): https, or http only where the policy allows it for that host. */
  checkLink(url: URL): NetworkVerdict;
}

const never: ReadonlySet<AddressKind> = new Set(['unspecified', 'multicast', 'broadcast']);
const privateKinds: ReadonlySet<AddressKind> = new Set(['private', 'shared', 'unique_local']);

const kindLabel: Record<AddressKind, string> = {
  public: 'a public address',
  loopback: 'a loopback address (this machine)',
  private: 'a private-network address (RFC 1918)',
  shared: 'a carrier-grade NAT address (100.64.0.0/10)',
  link_local: 'a link-local address (where cloud metadata services live)',
  unique_local: 'a unique-local IPv6 address',
  multicast: 'a multicast address',
  unspecified: 'the unspecified address',
  broadcast: 'the broadcast address',
  documentation: 'a documentation-only address',
  benchmarking: 'a benchmarking address',
  reserved: 'a reserved address',
};

/** `localhost` and `*.localhost` are loopback by definition (RFC 6761 §6.3). */
const isLocalhostName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

export function createNetworkPolicy(options: NetworkPolicyOptions): NetworkPolicy {
  const { production } = options;
  const allowPrivate = !production && options.allowPrivateNetworks === true;
  const globs = parseOriginGlobs(options.allowedServices ?? [], 'wildcards');
  const allowlisted = (origin: string) => matchesOriginGlob(globs, origin);

  /** The origin spelled with the address instead of the name, for allowlist entries that name addresses. */
  const addressOrigin = (url: URL, address: string) => {
    const ip = parseIp(address);
    const text = ip ? formatIp(ip) : address;
    return `${url.protocol}//${ip?.version === 6 ? `[${text}]` : text}${url.port ? `:${url.port}` : ''}`;
  };

  const refuse = (code: string, reason: string): NetworkVerdict => ({ ok: false, code, reason });

  function judgeAddress(url: URL, kind: AddressKind, address: string): NetworkVerdict {
    const listed = allowlisted(url.origin) || allowlisted(addressOrigin(url, address));
    const shown = formatIp(parseIp(address)!);
    if (never.has(kind))
      return refuse(
        'service_address_not_allowed',
        `resolves to ${kindLabel[kind]} (${shown}), which the bridge never calls.`,
      );
    const localOk = !production && (kind === 'loopback' || (allowPrivate && privateKinds.has(kind)));
    if (kind !== 'public' && !listed && !localOk) {
      const how = production
        ? 'an operator can allow this origin in HANDOFF_ALLOWED_SERVICES'
        : privateKinds.has(kind)
          ? 'in development, HANDOFF_ALLOW_PRIVATE_NETWORKS=true allows private networks; otherwise list the origin in HANDOFF_ALLOWED_SERVICES'
          : 'an operator can allow this origin in HANDOFF_ALLOWED_SERVICES';
      return refuse(
        'service_address_not_allowed',
        `resolves to ${kindLabel[kind]} (${shown}), which the bridge does not call: ${how}.`,
      );
    }
    if (url.protocol === 'http:' && !listed && !(localOk && kind !== 'public')) {
      return refuse(
        'insecure_service_url',
        `uses plain http to ${kindLabel[kind]}; use https${production ? ', or allow the origin in HANDOFF_ALLOWED_SERVICES' : ''}.`,
      );
    }
    return { ok: true };
  }

  function checkUrl(url: URL): NetworkVerdict {
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      return refuse(
        'invalid_service_url',
        `uses ${url.protocol.slice(0, 20)}; only https (and http where allowed) can be called.`,
      );
    if (url.username || url.password)
      return refuse('service_url_has_credentials', 'carries credentials in the URL; the bridge never sends them.');
    const ip = parseIp(url.hostname);
    if (ip) return judgeAddress(url, classifyAddress(ip), url.hostname);
    if (url.protocol === 'http:' && production && !allowlisted(url.origin)) {
      return refuse(
        'insecure_service_url',
        'uses plain http; use https, or allow the origin in HANDOFF_ALLOWED_SERVICES.',
      );
    }
    return { ok: true };
  }

  return {
    production,
    allowlisted,
    checkUrl,
    checkAddress(url, address) {
      const ip = parseIp(address);
      if (!ip) return refuse('service_address_not_allowed', `resolved to something that is not an IP address.`);
      return judgeAddress(url, classifyAddress(ip), address);
    },
    checkLink(url) {
      const base = checkUrl(url);
      if (!base.ok || url.protocol === 'https:') return base;
      // Plain http for a link: only to a host that is loopback (or private, when allowed) by
      // its very spelling, or an allowlisted origin. A name could point anywhere.
      if (allowlisted(url.origin)) return { ok: true };
      if (!production && isLocalhostName(url.hostname.toLowerCase())) return { ok: true };
      if (parseIp(url.hostname)) return base; // judged above as an address
      return refuse('insecure_service_url', 'uses plain http; approval links must use https.');
    },
  };
}
