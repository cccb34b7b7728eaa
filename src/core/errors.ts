/**
 * The one error hierarchy. Every error the bridge raises on purpose is a HandoffError with a
 * stable `code` (snake_case, part of the API), an HTTP `status`, and a `retry` hint that the
 * queue layer turns into a BullMQ signal in exactly one place (src/queue/job-signals.ts).
 * Messages are written for a person and never contain secret values.
 */

/** How a caller should react to the error. */
export type RetryHint =
  /** The same input will fail the same way: fail now. */
  | 'never'
  /** Transient (network, 5xx): retry with backoff. */
  | 'backoff'
  /** The other side asked us to wait `retryAfterMs` first. */
  | 'after_delay';

export interface HandoffErrorOptions {
  /** Stable machine-readable code, e.g. `invalid_thread_ref`. */
  code: string;
  /** HTTP status to answer with when this error reaches the API. Default 500. */
  status?: number;
  /** Default: `never` for 4xx statuses, `backoff` otherwise. */
  retry?: RetryHint;
  /** For `after_delay`: how long to wait, in milliseconds. */
  retryAfterMs?: number;
  /** The underlying error, kept for diagnosis (never shown to API clients). */
  cause?: unknown;
  /** Extra non-secret facts for API clients (e.g. the offending field). */
  details?: Record<string, unknown>;
}

export class HandoffError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retry: RetryHint;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, options: HandoffErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.status = options.status ?? 500;
    this.retry = options.retry ?? (this.status >= 400 && this.status < 500 ? 'never' : 'backoff');
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }
}

type Opts = Omit<HandoffErrorOptions, 'status'>;

/** 400: the request is malformed or names something we cannot handle. */
export class BadInputError extends HandoffError {
  constructor(message: string, options: Opts) {
    super(message, { ...options, status: 400, retry: 'never' });
  }
}

/** 401: missing or wrong credentials for the bridge's own API. */
export class UnauthorizedError extends HandoffError {
  constructor(
    message = 'Send an agent key (hak_…) or the operator\'s HANDOFF_API_TOKEN as "Authorization: Bearer <key>".',
  ) {
    super(message, { code: 'unauthorized', status: 401 });
  }
}

/** 403: authenticated but not allowed (e.g. a non-loopback client on a local-only route). */
export class ForbiddenError extends HandoffError {
  constructor(message: string, code = 'forbidden') {
    super(message, { code, status: 403 });
  }
}

/** 404: no such resource. */
export class NotFoundError extends HandoffError {
  constructor(message: string, code = 'not_found') {
    super(message, { code, status: 404 });
  }
}

/** 409: the resource is in a state that does not allow this. */
export class ConflictError extends HandoffError {
  constructor(message: string, code: string, details?: Record<string, unknown>) {
    super(message, { code, status: 409, ...(details ? { details } : {}) });
  }
}

/** 413: the request body is larger than we accept. */
export class PayloadTooLargeError extends HandoffError {
  constructor(limitBytes: number) {
    super(`The request body is larger than ${limitBytes} bytes; send less.`, {
      code: 'payload_too_large',
      status: 413,
    });
  }
}

/** A platform or service told us to slow down. Always retried after `retryAfterMs`. */
export class RateLimitedError extends HandoffError {
  constructor(message: string, retryAfterMs: number, options: { code?: string; cause?: unknown } = {}) {
    super(message, {
      code: options.code ?? 'rate_limited',
      status: 429,
      retry: 'after_delay',
      retryAfterMs: Math.max(0, Math.round(retryAfterMs)),
      cause: options.cause,
    });
  }
}

/**
 * A remote service or platform answered with an error or could not be reached. `status` is
 * 502 for the API; `upstreamStatus` is what the other side said (0 = no answer).
 */
export class UpstreamError extends HandoffError {
  readonly upstreamStatus: number;
  readonly upstreamCode: string | undefined;

  constructor(
    message: string,
    options: { code: string; upstreamStatus: number; upstreamCode?: string; retry?: RetryHint; cause?: unknown },
  ) {
    super(message, {
      code: options.code,
      status: 502,
      retry: options.retry ?? (options.upstreamStatus >= 500 || options.upstreamStatus === 0 ? 'backoff' : 'never'),
      cause: options.cause,
    });
    this.upstreamStatus = options.upstreamStatus;
    this.upstreamCode = options.upstreamCode;
  }
}

/** Configuration is missing or invalid; the message names the variable to set. */
export class ConfigError extends HandoffError {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(message, { code: 'invalid_config', status: 500, retry: 'never' });
    this.variable = variable;
  }
}

/** Something that should not happen. Retried with backoff in queues; 500 in the API. */
export class InternalError extends HandoffError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'internal_error', status: 500, retry: 'backoff', cause });
  }
}

/** Wraps anything thrown into a HandoffError without losing it. */
export function asHandoffError(err: unknown): HandoffError {
  if (err instanceof HandoffError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(`Unexpected error: ${message}`, err);
}
