import { LinearError, RatelimitedLinearError } from '@linear/sdk';
import { HandoffError, RateLimitedError, UpstreamError } from '../../src/core/errors.js';
import { maskSecrets } from '../../src/core/secret-patterns.js';

/**
 * The one mapping from the SDK's LinearError family to our errors. Rate limits become
 * RateLimitedError (the outbound queue waits, nothing is lost); authentication, permission
 * and input errors are not retried; network and server errors are retried with backoff.
 * Messages carry Linear's short error text only: never the query or its variables.
 */

/** Used when Linear says "rate limited" but names no time to wait, ms. */
export const defaultLinearRetryAfterMs = 60_000;
const maxRetryAfterMs = 3_600_000;

interface RawGraphQLError {
  readonly message?: unknown;
  readonly extensions?: { readonly code?: unknown; readonly type?: unknown };
}

/** GraphQL errors as Linear sent them (the SDK keeps the raw response on `raw`). */
function rawErrors(err: LinearError): RawGraphQLError[] {
  const raw = err.raw as { response?: { errors?: unknown } } | undefined;
  return Array.isArray(raw?.response?.errors) ? (raw.response.errors as RawGraphQLError[]) : [];
}

/** Linear marks rate limits with `extensions.code: "RATELIMITED"`; the SDK keys on `type`. */
function isRateLimited(err: LinearError): boolean {
  return (
    err instanceof RatelimitedLinearError ||
    err.status === 429 ||
    rawErrors(err).some((e) => e.extensions?.code === 'RATELIMITED')
  );
}

function resetHeader(err: LinearError, name: string): number | undefined {
  const headers = (err.raw as { response?: { headers?: { get?(n: string): string | null } } } | undefined)?.response
    ?.headers;
  const value = typeof headers?.get === 'function' ? Number(headers.get(name)) : Number.NaN;
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** How long Linear asked us to wait: Retry-After (s), else the reset time of the spent budget (epoch ms). */
export function linearRetryAfterMs(err: LinearError, now: number): number {
  const limited = err instanceof RatelimitedLinearError ? err : undefined;
  let wait: number | undefined;
  if (limited?.retryAfter !== undefined) wait = limited.retryAfter * 1000;
  else {
    const reset =
      limited?.requestsResetAt ?? limited?.complexityResetAt ?? resetHeader(err, 'x-ratelimit-requests-reset');
    if (reset !== undefined) wait = reset - now;
  }
  if (wait === undefined || !Number.isFinite(wait)) return defaultLinearRetryAfterMs;
  return Math.min(maxRetryAfterMs, Math.max(1_000, Math.round(wait)));
}

function linearMessage(err: LinearError): string {
  const first = rawErrors(err)[0];
  const text =
    typeof first?.message === 'string' ? first.message : (err.errors?.[0]?.message ?? String(err.type ?? 'error'));
  return maskSecrets(text).replace(/\s+/g, ' ').slice(0, 200);
}

/** True for Linear's "no such entity" answers (a deleted comment, an unknown issue). */
export function isNotFound(err: unknown): boolean {
  if (err instanceof HandoffError) return err.code === 'linear_not_found';
  return err instanceof LinearError && /not found|could not find|does not exist/i.test(linearMessage(err));
}

/** Turns anything a Linear call threw into a HandoffError; `action` says what we tried. */
export function linearError(err: unknown, action: string, now: number): HandoffError {
  if (err instanceof HandoffError) return err;
  if (!(err instanceof LinearError)) {
    const reason = err instanceof Error ? maskSecrets(err.message).slice(0, 200) : 'no answer';
    return new UpstreamError(`Linear could not be reached to ${action} (${reason}).`, {
      code: 'linear_unreachable',
      upstreamStatus: 0,
      cause: err,
    });
  }
  const message = linearMessage(err);
  if (isRateLimited(err)) {
    return new RateLimitedError(
      `Linear rate-limited the bridge while trying to ${action}.`,
      linearRetryAfterMs(err, now),
      { code: 'linear_rate_limited', cause: err },
    );
  }
  const fail = (code: string, upstreamStatus: number, text: string) =>
    new UpstreamError(text, { code, upstreamStatus, retry: 'never', upstreamCode: String(err.type), cause: err });
  switch (err.type) {
    case 'AuthenticationError':
      return fail(
        'linear_unauthorized',
        401,
        `Linear rejected the bridge's credential (check LINEAR_API_KEY or LINEAR_ACCESS_TOKEN) while trying to ${action}.`,
      );
    case 'Forbidden':
    case 'FeatureNotAccessible':
      return fail('linear_forbidden', 403, `Linear does not allow the bridge to ${action}: ${message}`);
    case 'InvalidInput':
    case 'UserError':
    case 'GraphqlError':
    case 'UsageLimitExceeded':
      if (/not found|could not find|does not exist/i.test(message))
        return fail('linear_not_found', 404, `Linear could not ${action}: ${message}`);
      return fail('linear_invalid_request', 400, `Linear refused to ${action}: ${message}`);
    default:
      // No HTTP status: the request never got an answer (the SDK wraps fetch failures too).
      return new UpstreamError(`Linear failed to ${action}: ${message}`, {
        code: err.status === undefined ? 'linear_unreachable' : 'linear_unavailable',
        upstreamStatus: err.status ?? 0,
        retry: 'backoff',
        upstreamCode: String(err.type),
        cause: err,
      });
  }
}
