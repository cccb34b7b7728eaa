import { ForbiddenError, HandoffError } from '../core/errors.js';

/**
 * Routes a browser on the bridge's own machine uses (the local thread pages). Their reply
 * author is not authenticated, so who can reach them is the whole of their security:
 *
 * - `Host` must be one of the bridge's own names. A page on another site that rebinds its DNS
 *   name to 127.0.0.1 reaches the bridge with *its* name in `Host`, so it can neither read
 *   threads (and the approval links in them) nor write to them.
 * - Writes take `application/json` only, which a cross-site page cannot send without a CORS
 *   preflight the bridge never grants (a `text/plain` or form post used to pass), and a
 *   cross-site `Origin` (or `Sec-Fetch-Site: cross-site`) is refused. Clients that send no
 *   `Origin`, like the CLI, are not browsers and stay welcome.
 */

export interface OwnNamesOptions {
  /** HANDOFF_PUBLIC_URL, when set. */
  readonly publicUrl: string | undefined;
  /** The address the server listens on (HOST) and its actual port. */
  readonly host: string;
  readonly port: number;
  /** Outside production, localhost / 127.0.0.1 / [::1] on the bridge's port count too. */
  readonly development: boolean;
}

const wildcard = new Set(['0.0.0.0', '::', '[::]']);

/** The `host[:port]` values (lower case) a request to this bridge may carry in `Host`. */
export function ownHostNames(options: OwnNamesOptions): Set<string> {
  const names = new Set<string>();
  if (options.publicUrl) {
    const url = new URL(options.publicUrl);
    names.add(url.host.toLowerCase());
    if (!url.port) names.add(`${url.hostname.toLowerCase()}:${url.protocol === 'https:' ? 443 : 80}`);
  }
  const host = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
  if (!wildcard.has(host)) names.add(`${host.toLowerCase()}:${options.port}`);
  if (options.development)
    for (const local of ['localhost', '127.0.0.1', '[::1]']) names.add(`${local}:${options.port}`);
  return names;
}

function originHost(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** Throws when a browser route's request comes by another name, from another site, or (on writes) is not JSON. */
export function checkBrowserRequest(
  req: { method: string; headers: Readonly<Record<string, string | undefined>> },
  names: ReadonlySet<string>,
): void {
  const host = req.headers.host?.trim().toLowerCase() ?? '';
  if (!names.has(host)) {
    throw new ForbiddenError(
      `Local thread pages answer only at this bridge's own address (${[...names].join(', ') || 'none configured'}), not at "${host.slice(0, 100)}". Open them at that address, or set HANDOFF_PUBLIC_URL to the one you use.`,
      'host_not_allowed',
    );
  }
  if (req.method === 'GET' || req.method === 'HEAD') return;
  const origin = req.headers.origin;
  const crossSite = req.headers['sec-fetch-site'] === 'cross-site';
  if (crossSite || (origin !== undefined && !names.has(originHost(origin) ?? ''))) {
    throw new ForbiddenError(
      'Local threads take replies only from their own pages or from clients that are not browsers; this request came from another site.',
      'cross_site_request',
    );
  }
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HandoffError('Send the reply as JSON (Content-Type: application/json).', {
      code: 'unsupported_media_type',
      status: 415,
      details: { field: 'content-type' },
    });
  }
}
