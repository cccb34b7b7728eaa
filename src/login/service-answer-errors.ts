import { UpstreamError } from '../core/errors.js';
import { readServiceError, type ServiceResponse } from './service-http.js';

/**
 * The errors a login protocol raises about a service's answer, shared by every protocol: they
 * name the service's origin and status, never what the service wrote (its error code is kept,
 * bounded, for logs only).
 */

/** An upstream failure with our own message and code. */
export function upstream(
  message: string,
  code: string,
  status = 0,
  retry: 'never' | 'backoff' = 'never',
): UpstreamError {
  return new UpstreamError(message, { code, upstreamStatus: status, retry });
}

/** An answer the bridge cannot read (worth asking again later). */
export function malformed(res: ServiceResponse, what: string): UpstreamError {
  return new UpstreamError(`${new URL(res.url).origin} sent a ${what} answer the bridge cannot read.`, {
    code: 'service_malformed_response',
    upstreamStatus: res.status,
    retry: 'backoff',
  });
}

/** A refusal: the origin and the status, never what the service wrote. */
export function rejected(res: ServiceResponse, what: string, code: string): UpstreamError {
  const err = readServiceError(res.body);
  return new UpstreamError(`${new URL(res.url).origin} rejected the ${what} (HTTP ${res.status}).`, {
    code,
    upstreamStatus: res.status,
    ...(err.code ? { upstreamCode: err.code.slice(0, 100) } : {}),
    retry: 'never',
  });
}
