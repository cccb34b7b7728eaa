import { UpstreamError } from '../core/errors.js';
import { servicePath } from './discovered-url.js';
import { readServiceError, type ServiceResponse } from './service-http.js';

/**
 * Where agent sessions are spoken (docs/protocols.md, "Agent sessions"): fixed paths under the
 * service's URL, built so that nothing in them can become a query or fragment (agent sessions
 * publish no metadata, so there is no URL of the service's to check), and how a refusal or an
 * unreadable answer from them reads: the origin and the status, never the service's text.
 */

/** `<service>/agent-sessions/<path>`. */
export function endpoint(service: string, path: string): string {
  return servicePath(service, 'agent-sessions', path);
}

export function malformed(what: string, res: ServiceResponse): UpstreamError {
  return new UpstreamError(`${new URL(res.url).origin} sent a ${what} answer the bridge cannot read.`, {
    code: 'service_malformed_response',
    upstreamStatus: res.status,
    retry: 'backoff',
  });
}

/** The origin and the status, never what the service wrote (its code is kept for logs only). */
export function rejected(what: string, res: ServiceResponse, code: string): UpstreamError {
  const err = readServiceError(res.body);
  return new UpstreamError(`${new URL(res.url).origin} rejected the ${what} (HTTP ${res.status}).`, {
    code,
    upstreamStatus: res.status,
    ...(err.code ? { upstreamCode: err.code.slice(0, 100) } : {}),
    retry: 'never',
  });
}
