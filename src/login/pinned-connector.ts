import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { UpstreamError } from '../core/errors.js';
import type { NetworkPolicy } from '../core/network-policy.js';

/**
 * Connections to services, pinned to the addresses the network policy checked. Each new
 * connection resolves its host once, checks every address it got (one refused address refuses
 * the host: an attacker's DNS could list a good one first and an internal one second), and
 * hands exactly those addresses to the socket through a lookup function that answers from
 * them. DNS rebinding cannot switch the address between the check and the connect, because
 * nothing resolves the name again. TLS still sends the name (SNI) and verifies the
 * certificate against it, and the Host header stays the name.
 */

/** Resolves a host name to its addresses (injected in tests; the system resolver otherwise). */
export type Resolver = (hostname: string) => Promise<readonly string[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export interface PinnedAgentOptions {
  readonly policy: NetworkPolicy;
  /** Default: the system resolver (getaddrinfo). */
  readonly resolve?: Resolver;
  /** Longest wait for DNS and the TCP/TLS handshake each, ms. Default 10 000. */
  readonly connectTimeoutMs?: number;
}

/** Answers net.connect's lookup from addresses already checked (all of them, for Happy Eyeballs). */
function fixedLookup(addresses: readonly string[]): LookupFunction {
  return (_hostname, options, callback) => {
    const entries = addresses.map((address) => ({ address, family: isIP(address) }));
    if (options.all) (callback as (err: null, all: typeof entries) => void)(null, entries);
    else callback(null, entries[0]!.address, entries[0]!.family);
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UpstreamError(what, { code: 'service_unreachable', upstreamStatus: 0 })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves and checks; throws UpstreamError (`service_address_not_allowed`, `insecure_service_url`, `service_unreachable`). */
export async function checkedAddresses(
  target: URL,
  policy: NetworkPolicy,
  resolve: Resolver,
  timeoutMs: number,
): Promise<string[]> {
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: readonly string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await withTimeout(
        resolve(host),
        timeoutMs,
        `${target.origin} could not be resolved within ${timeoutMs} ms.`,
      );
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      throw new UpstreamError(
        `${target.origin} could not be resolved (${(err as NodeJS.ErrnoException).code ?? 'DNS error'}).`,
        {
          code: 'service_unreachable',
          upstreamStatus: 0,
          cause: err,
        },
      );
    }
  }
  if (addresses.length === 0)
    throw new UpstreamError(`${target.origin} resolved to no address.`, {
      code: 'service_unreachable',
      upstreamStatus: 0,
    });
  for (const address of addresses) {
    const verdict = policy.checkAddress(target, address);
    if (!verdict.ok)
      throw new UpstreamError(`${target.origin} ${verdict.reason}`, {
        code: verdict.code,
        upstreamStatus: 0,
        retry: 'never',
      });
  }
  return [...addresses];
}

/** An undici dispatcher whose every connection goes to a checked address. */
export function createPinnedAgent(options: PinnedAgentOptions): Agent {
  const resolve = options.resolve ?? systemResolver;
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  return new Agent({
    connect(opts, callback) {
      // `host` keeps the name and port the request was made to; `hostname` is what undici would dial.
      const target = new URL(`${opts.protocol}//${opts.host ?? opts.hostname}`);
      checkedAddresses(target, options.policy, resolve, timeoutMs).then(
        (addresses) => {
          // A connector per connection, so its lookup can only answer with these addresses.
          const connect = buildConnector({ timeout: timeoutMs, lookup: fixedLookup(addresses) });
          connect(opts, callback);
        },
        (err: Error) => callback(err, null),
      );
    },
  });
}
