import type { Clock } from '../core/clock.js';
import type { LoginConfig } from '../core/config-login.js';
import type { LoginProtocol, ProtocolName, RankedProtocol } from '../core/login-protocol.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import type { DiscoveredService, ServiceDiscovery } from './discovered-service.js';
import type { MetadataFetcher } from './metadata-fetch.js';
import type { ServiceHttp } from './service-http.js';

/**
 * A login protocol as the rest of the bridge registers it: everything about the protocol that
 * is not the login itself. Each protocol module (agent-sessions.ts, authmd.ts, device.ts)
 * exports one; src/main.ts lists them, and that list is the registry: config, discovery, the
 * request check, secret masking and the sandbox take what they need from it. Adding a protocol
 * is docs/adding-a-protocol.md.
 */
export interface ProtocolModule extends RankedProtocol {
  /** How `HANDOFF_PROTOCOLS`, requests and records name it: lower-case letters, digits, `-`. */
  readonly name: ProtocolName;
  /**
   * Preference when a service speaks several: lower wins (auth.md 10, device 20, agent
   * sessions 30). Leave gaps so a new protocol can slot in between.
   */
  readonly rank: number;
  /**
   * Does the service speak this protocol, judging by what discovery read from its metadata?
   * Pure: no network. (A `probe` that said yes counts as well, without asking this.)
   */
  recognises(found: DiscoveredService): boolean;
  /**
   * A question to ask the service when no registered protocol recognises its metadata (a
   * protocol that publishes none). Answers whether it speaks this protocol, and a short phrase
   * for the `no_supported_login` message. Transport trouble the caller may retry is thrown.
   */
  probe?(service: string, fetcher: MetadataFetcher): Promise<ProbeAnswer>;
  /**
   * Shapes of the secrets this protocol handles (tokens, codes with a recognisable prefix), so
   * the logger, the audit sink and the error path mask them. Global flags (`g`) required.
   */
  readonly secretShapes: readonly RegExp[];
  /** The stand-in service(s) (src/sandbox) outside production that speak this protocol. */
  readonly sandbox?: SandboxService | readonly SandboxService[];
  /** The protocol itself, built once per bridge. */
  create(context: ProtocolContext): LoginProtocol;
}

export interface ProbeAnswer {
  readonly speaks: boolean;
  /** What the service answered, in our words (never its own text). */
  readonly finding: string;
}

/** Where the sandbox mounts this protocol's stand-in service, and how the banner names it. */
export interface SandboxService {
  /** Path prefix, e.g. `/sandbox/device`. */
  readonly base: string;
  /** What the stand-in service calls itself (`resource_name`). */
  readonly serviceName: string;
  /** A few words for the start-up banner, e.g. `device flow`. */
  readonly label: string;
  /** Which variant of the protocol this one speaks, when it has several (auth.md: `0.6`, `0.7`). */
  readonly variant?: string;
}

/** A module's sandbox services as a list. */
export const sandboxServicesOf = (m: Pick<ProtocolModule, 'sandbox'>): readonly SandboxService[] =>
  m.sandbox === undefined
    ? []
    : Array.isArray(m.sandbox)
      ? (m.sandbox as readonly SandboxService[])
      : [m.sandbox as SandboxService];

/** What a protocol is built with. */
export interface ProtocolContext {
  /** Calls to services (network policy, limits, retries). */
  readonly http: ServiceHttp;
  /** Cached discovery, for protocols that read the service's metadata. */
  readonly discovery: ServiceDiscovery;
  readonly clock: Clock;
  readonly policy: NetworkPolicy;
  /** The login part of the configuration (client ids and the like). */
  readonly login: LoginConfig;
}
