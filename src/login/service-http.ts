import { request as undiciRequest, type Dispatcher } from 'undici';
import { HandoffError, RateLimitedError, UpstreamError } from '../core/errors.js';
import type { CallContext } from '../core/login-protocol.js';
import type { NetworkPolicy } from '../core/network-policy.js';
import { createPinnedAgent, type Resolver } from './pinned-connector.js';
import { HopDeadline } from './service-deadline.js';
import { HeaderView, origin, readBody, type ResponseHeaders } from './service-response.js';
import { parseServiceJson } from './well-formed.js';

export type { ResponseHeaders } from './service-response.js';

/**
 * HTTP to services, with the habits every protocol needs: the network policy on every URL
 * and every resolved address (connections pinned to the checked address), a timeout and a
 * body limit on every call, X-Agent-Id / X-Correlation-Id on every request, 5xx and network
 * failures retried with backoff, 4xx never retried, 429 turned into RateLimitedError, and
 * redirects followed only within the same origin (each hop checked again). Bodies are parsed
 * as JSON when they are JSON, made well-formed Unicode, and never logged; error messages name
 * the service's origin and the status, never what the service wrote. Requests go out through
 * undici's `request`, not `fetch`: no Accept-Encoding (bodies arrive uncompressed, so the cap
 * counts the bytes received) and none of fetch's browser headers (Sec-Fetch-Mode, Accept-Language).
 */
export interface ServiceHttpOptions {
  /** Which addresses and schemes may be called (src/core/network-policy.ts). */
  readonly policy: NetworkPolicy;
  /** Resolves host names; default the system resolver. Tests inject one to play DNS tricks. */
  readonly resolve?: Resolver;
  /** Per attempt, ms. Default 10 000. */
  readonly timeoutMs?: number;
  /** Largest response body read, bytes. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Extra attempts after a 5xx or network failure. Default 2. */
  readonly retries?: number;
  /** First backoff, ms; doubles each time, with jitter. Default 250. */
  readonly backoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly userAgent?: string;
}

export interface ServiceRequest {
  readonly method?: 'GET' | 'POST';
  /** Sent as application/json. */
  readonly json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  readonly form?: Readonly<Record<string, string>>;
  /** Sent as it is, with this content type (for OAuth libraries that encode their own bodies). */
  readonly raw?: { readonly contentType: string; readonly text: string };
  readonly headers?: Readonly<Record<string, string>>;
  readonly ctx?: CallContext;
  /** Retry 5xx and network failures. Default true. */
  readonly retryTransient?: boolean;
  /** Per-attempt timeout for this call, ms; default: the client's. */
  readonly timeoutMs?: number;
}

export interface ServiceResponse {
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** Parsed JSON, or undefined when the body is not JSON. */
  readonly body: unknown;
  /** The body as received (bounded by the body limit). */
  readonly text: string;
  /** The final URL after same-origin redirects. */
  readonly url: string;
}

export interface ServiceHttp {
  request(url: string, req?: ServiceRequest): Promise<ServiceResponse>;
}

/** The `{error|code, message}` pair services use, read leniently. */
export function readServiceError(body: unknown): { code?: string; message?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const code = typeof b.error === 'string' ? b.error : typeof b.code === 'string' ? b.code : undefined;
  const message =
    typeof b.message === 'string'
      ? b.message
      : typeof b.error_description === 'string'
        ? b.error_description
        : undefined;
  return { ...(code ? { code } : {}), ...(message ? { message: message.slice(0, 300) } : {}) };
}

function retryAfterMs(headers: ResponseHeaders, fallback: number): number {
  const value = headers.get('retry-after');
  if (!value) return fallback;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : fallback;
}

/** Where a redirect leads, when it stays on the origin; else `cross_origin_redirect`. */
function sameOriginRedirect(current: string, target: URL, location: string, status: number): string {
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    throw new UpstreamError(`${origin(current)} redirected to something that is not a URL.`, {
      code: 'cross_origin_redirect',
      upstreamStatus: status,
      retry: 'never',
    });
  }
  if (next.origin !== target.origin) {
    throw new UpstreamError(`${origin(current)} redirected to another origin; refusing to follow.`, {
      code: 'cross_origin_redirect',
      upstreamStatus: status,
      retry: 'never',
    });
  }
  return next.toString();
}

/** A refusal of the network policy, as the error every caller throws. */
function refused(url: URL, verdict: { code: string; reason: string }): UpstreamError {
  return new UpstreamError(`${url.origin === 'null' ? `A ${url.protocol} URL` : url.origin} ${verdict.reason}`, {
    code: verdict.code,
    upstreamStatus: 0,
    retry: 'never',
  });
}

export function createServiceHttp(options: ServiceHttpOptions): ServiceHttp {
  const { policy } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const dispatcher = createPinnedAgent({
    policy,
    ...(options.resolve ? { resolve: options.resolve } : {}),
    connectTimeoutMs: timeoutMs,
  });
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const retries = options.retries ?? 2;
  const backoffMs = options.backoffMs ?? 250;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const userAgent = options.userAgent ?? 'handoff-bridge/0.1';

  async function once(url: string, req: ServiceRequest): Promise<ServiceResponse> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': userAgent, ...req.headers };
    if (req.ctx) {
      headers['x-agent-id'] = req.ctx.agentId;
      headers['x-correlation-id'] = req.ctx.correlationId;
    }
    let body: string | undefined;
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (req.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(req.form).toString();
    } else if (req.raw) {
      headers['content-type'] = req.raw.contentType;
      body = req.raw.text;
    }
    let current = url;
    for (let hop = 0; hop <= 3; hop++) {
      const target = new URL(current);
      const verdict = policy.checkUrl(target);
      if (!verdict.ok) throw refused(target, verdict);
      // One deadline per hop, over connect, headers and body alike (see service-deadline.ts).
      const deadline = new HopDeadline(req.timeoutMs ?? timeoutMs, req.ctx?.signal);
      let res: Dispatcher.ResponseData;
      try {
        res = await undiciRequest(current, {
          method: req.method ?? (body === undefined ? 'GET' : 'POST'),
          headers,
          ...(body === undefined ? {} : { body }),
          dispatcher,
          signal: deadline,
        });
        const resHeaders = new HeaderView(res.headers);
        const location = res.statusCode >= 300 && res.statusCode < 400 ? resHeaders.get('location') : null;
        if (location) {
          res.body.on('error', () => undefined).destroy();
          current = sameOriginRedirect(current, target, location, res.statusCode);
          continue;
        }
        const text = await readBody(res, maxBodyBytes, current);
        return {
          status: res.statusCode,
          headers: resHeaders,
          body: parseServiceJson(text),
          text: text.toWellFormed(),
          url: current,
        };
      } catch (err) {
        if (err instanceof HandoffError) throw err;
        // Cut by the deadline or the caller: the TimeoutError or the caller's reason, as fetch threw.
        if (deadline.aborted) throw deadline.reason;
        // The pinned connector's refusals, should they arrive wrapped.
        const cause = (err as { cause?: unknown }).cause;
        if (cause instanceof HandoffError) throw cause;
        throw err;
      } finally {
        deadline.clear();
      }
    }
    throw new UpstreamError(`${origin(url)} redirected too many times.`, {
      code: 'too_many_redirects',
      upstreamStatus: 0,
      retry: 'never',
    });
  }

  return {
    async request(url, req = {}) {
      const attempts = req.retryTransient === false ? 1 : retries + 1;
      let last: UpstreamError | undefined;
      for (let attempt = 0; attempt < attempts; attempt++) {
        // The caller's deadline (the start step's) passed: no further attempt.
        if (attempt > 0 && req.ctx?.signal?.aborted) break;
        if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
        let res: ServiceResponse;
        try {
          res = await once(url, req);
        } catch (err) {
          if (err instanceof HandoffError) throw err;
          const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
          last = new UpstreamError(
            timedOut
              ? `${origin(url)} did not answer within ${req.timeoutMs ?? timeoutMs} ms.`
              : `${origin(url)} could not be reached (${networkCode(err)}).`,
            { code: timedOut ? 'service_timeout' : 'service_unreachable', upstreamStatus: 0, cause: err },
          );
          continue;
        }
        if (res.status === 429) {
          throw new RateLimitedError(
            `${origin(url)} asked the bridge to slow down.`,
            retryAfterMs(res.headers, 5_000),
            {
              code: 'service_rate_limited',
            },
          );
        }
        if (res.status >= 500) {
          const { code } = readServiceError(res.body);
          last = new UpstreamError(`${origin(url)} answered ${res.status}.`, {
            code: 'service_unavailable',
            upstreamStatus: res.status,
            ...(code ? { upstreamCode: code.slice(0, 100) } : {}),
          });
          continue;
        }
        return res;
      }
      throw last ?? new UpstreamError(`${origin(url)} failed.`, { code: 'service_unavailable', upstreamStatus: 0 });
    },
  };
}

/** A network failure's code (ECONNREFUSED…), never its message (which can quote the peer). */
function networkCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  const code =
    typeof cause?.code === 'string'
      ? cause.code
      : typeof (err as { code?: unknown }).code === 'string'
        ? (err as { code: string }).code
        : undefined;
  return code && /^[A-Z0-9_]{2,40}$/.test(code) ? code : 'network error';
}
