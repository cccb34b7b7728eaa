import { BadInputError } from './errors.js';

/**
 * Transport-neutral HTTP types, so adapters can offer webhook routes without knowing the
 * server. The HTTP layer reads the raw body (bounded), calls the handler, writes the reply.
 */

export interface RouteRequest {
  readonly method: string;
  /** Path without query string. */
  readonly path: string;
  /** Values of `:name` segments in the route pattern. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Exactly the bytes received: signatures are computed over these. */
  readonly rawBody: Buffer;
  /** Peer address, for loopback-only routes. */
  readonly remoteAddress: string;
  /** The bridge's id for this request (`req_…`), answered as `X-Request-Id` and named in audit entries. */
  readonly requestId: string;
  /** Aborted when the client goes away (long polls stop waiting). */
  readonly signal: AbortSignal;
}

export interface RouteResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Objects are sent as JSON; strings and buffers as they are. */
  readonly body?: unknown;
}

export type RouteHandler = (req: RouteRequest) => Promise<RouteResponse>;

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Pattern such as `/v1/handoffs/:id`. */
  readonly path: string;
  readonly handler: RouteHandler;
  /** Only loopback clients may call it. */
  readonly loopbackOnly?: boolean;
  /**
   * A route a browser uses (local thread pages): `Host` must name the bridge itself, and
   * writes must be JSON from no other site (src/http/browser-guard.ts).
   */
  readonly browser?: boolean;
  /** Largest accepted body in bytes; default 1 MiB. */
  readonly maxBodyBytes?: number;
}

export function isLoopback(address: string): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1' || address.startsWith('127.');
}

export function json(status: number, body: unknown, headers?: Record<string, string>): RouteResponse {
  return { status, body, ...(headers ? { headers } : {}) };
}

/** The body as JSON, or undefined when it is empty or not JSON. */
export function bodyJson(req: RouteRequest): unknown {
  if (req.rawBody.length === 0) return undefined;
  try {
    return JSON.parse(req.rawBody.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A parsed JSON payload that must be an object. Signed webhooks whose body is `null`, an
 * array or a number are answered 400 with this, never a 500 from reading a field of it.
 */
export function requireJsonObject(value: unknown, what = 'The body'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new BadInputError(`${what} must be a JSON object (got ${got}).`, {
      code: 'invalid_payload',
      details: { field: 'body' },
    });
  }
  return value as Record<string, unknown>;
}

/** The body as form fields (application/x-www-form-urlencoded). */
export function bodyForm(req: RouteRequest): URLSearchParams {
  return new URLSearchParams(req.rawBody.toString('utf8'));
}

export function html(status: number, page: string): RouteResponse {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body: page };
}

/** The origin the client used to reach us (for links in pages the client will open). */
export function requestOrigin(req: RouteRequest): string {
  const proto = req.headers['x-forwarded-proto']?.split(',')[0]?.trim() || 'http';
  return `${proto}://${req.headers.host ?? '127.0.0.1'}`;
}
