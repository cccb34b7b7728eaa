import { UpstreamError } from '../core/errors.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import { sameSiteAsAny } from '../core/same-site.js';

/**
 * URLs a service hands the bridge (resource metadata, authorization servers, registration,
 * claim, device and token endpoints) are only followed when they pass the network policy and
 * lie on the same site as the service or its checked authorization server (src/core/same-site.ts),
 * or on an origin the operator allowlisted (`HANDOFF_ALLOWED_SERVICES`). So a hostile service
 * cannot steer the bridge to another host. Errors name the service's origin and what was
 * wrong, never the URL the service wrote.
 */
export function originOf(url: string): string {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? 'the service' : origin;
  } catch {
    return 'the service';
  }
}

/**
 * Checks `value` (named in the metadata of `anchors[0]`, the service) and returns it.
 * `what` completes "names a …" (e.g. "token endpoint").
 */
export function checkDiscoveredUrl(
  value: string,
  anchors: readonly string[],
  policy: NetworkPolicy,
  what: string,
): string {
  const service = originOf(anchors[0] ?? '');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UpstreamError(`${service}'s metadata names a ${what} that is not a URL.`, {
      code: 'metadata_invalid',
      upstreamStatus: 0,
      retry: 'never',
    });
  }
  const verdict = policy.checkUrl(url);
  if (!verdict.ok) {
    const code = verdict.code === 'service_address_not_allowed' ? verdict.code : 'metadata_insecure_url';
    throw new UpstreamError(`${service}'s metadata names a ${what} the bridge will not call: it ${verdict.reason}`, {
      code,
      upstreamStatus: 0,
      retry: 'never',
    });
  }
  if (!sameSiteAsAny(url, anchors) && !policy.allowlisted(url.origin)) {
    throw new UpstreamError(
      `${service}'s metadata names a ${what} on another site; the bridge follows only URLs on the service's own site or its authorization server's (or origins listed in HANDOFF_ALLOWED_SERVICES).`,
      { code: 'metadata_cross_site', upstreamStatus: 0, retry: 'never' },
    );
  }
  return value;
}

/** A path under the service's URL, built so that nothing in it can become a query or fragment. */
export function servicePath(service: string, ...segments: readonly string[]): string {
  const url = new URL(service);
  url.search = '';
  url.hash = '';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${segments.map(encodeURIComponent).join('/')}`;
  return url.toString();
}
