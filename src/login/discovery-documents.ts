import { UpstreamError } from '../core/errors.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import { checkDiscoveredUrl, originOf } from './discovered-url.js';
import { appendWellKnown, distinct, insertWellKnown, type MetadataFetcher } from './metadata-fetch.js';
import {
  readAuthorizationServer,
  readProtectedResource,
  type AuthorizationServerInfo,
  type ProtectedResourceInfo,
} from './metadata-documents.js';
import { resourceMetadataFrom } from './www-authenticate.js';

/**
 * Where discovery (discovery.ts) finds a service's two metadata documents, the way auth.md tells
 * an agent to: ask the service without credentials and follow the 401's `resource_metadata` (or
 * guess the RFC 9728 well-known URLs), then guess the authorization server's RFC 8414 (or OpenID)
 * metadata URLs. Each miss is recorded in `findings`; what is kept of the documents is
 * discovery-metadata.ts's.
 */

function sameOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

export async function findProtectedResource(
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
export async function findAuthorizationServer(
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
