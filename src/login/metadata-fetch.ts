import { HandoffError, UpstreamError } from '../core/errors.js';
import type { CallContext } from '../core/login-protocol.js';
import type { ServiceHttp, ServiceResponse } from './service-http.js';

/**
 * Fetching metadata documents within one discovery's time budget. A document the service
 * *advertised* (a `resource_metadata` challenge, an `authorization_servers` entry) must be
 * there and be JSON; a well-known URL we merely *guessed* may be missing, answer HTML (a
 * single-page app's catch-all), or redirect away, and we just try the next guess.
 */
export type Fetched = { readonly kind: 'found'; readonly doc: unknown; readonly url: string } | { readonly kind: 'absent'; readonly why: string };

export interface MetadataFetcher {
  get(url: string, advertised: boolean): Promise<Fetched>;
  /** Any request within the budget (the 401 probe, the agent-sessions probe). */
  request(url: string, init?: { json?: unknown }): Promise<ServiceResponse>;
}

export interface FetcherOptions {
  readonly http: ServiceHttp;
  readonly ctx: CallContext;
  /** Per request, ms. */
  readonly timeoutMs: number;
  /** Epoch ms by which the whole discovery must be done. */
  readonly deadline: number;
  readonly now: () => number;
  /** Plain http allowed beyond loopback (development). */
  readonly allowInsecureHttp: boolean;
}

const loopback = (host: string) => host === 'localhost' || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);

/** Refuses to send anything to a non-https URL unless it is loopback or development allows it. */
export function checkUrl(url: string, allowInsecureHttp: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UpstreamError(`The service's metadata names "${url.slice(0, 100)}", which is not a URL.`, { code: 'metadata_invalid', upstreamStatus: 0, retry: 'never' });
  }
  const ok = parsed.protocol === 'https:' || (parsed.protocol === 'http:' && (allowInsecureHttp || loopback(parsed.hostname)));
  if (!ok || parsed.username || parsed.password) {
    throw new UpstreamError(`The service's metadata points at ${parsed.protocol}//${parsed.host}, which the bridge will not call (https only).`, {
      code: 'metadata_insecure_url',
      upstreamStatus: 0,
      retry: 'never',
    });
  }
  return parsed;
}

const looksLikeJson = (res: ServiceResponse) => res.body !== undefined && /^\s*[[{]/.test(res.text);

export function createMetadataFetcher(o: FetcherOptions): MetadataFetcher {
  const overBudget = () =>
    new UpstreamError('Discovering how the service logs agents in took too long.', { code: 'discovery_timeout', upstreamStatus: 0, retry: 'backoff' });
  const budget = (): number => {
    const left = o.deadline - o.now();
    if (left <= 0) throw overBudget();
    return Math.min(o.timeoutMs, left);
  };

  async function request(url: string, init: { json?: unknown } = {}): Promise<ServiceResponse> {
    checkUrl(url, o.allowInsecureHttp);
    const timeoutMs = budget();
    try {
      return await o.http.request(url, { ctx: o.ctx, timeoutMs, ...(init.json !== undefined ? { json: init.json } : {}) });
    } catch (err) {
      // Cut short by the overall budget rather than by this request's own timeout.
      if (err instanceof HandoffError && err.code === 'service_timeout' && timeoutMs < o.timeoutMs) throw overBudget();
      throw err;
    }
  }

  return {
    request,
    async get(url, advertised) {
      let res: ServiceResponse;
      try {
        res = await request(url);
      } catch (err) {
        // A guessed URL that redirects to another site is simply not there.
        if (!advertised && err instanceof HandoffError && err.code === 'cross_origin_redirect') return { kind: 'absent', why: `${url} redirects elsewhere` };
        throw err;
      }
      if (res.status < 200 || res.status >= 300) return { kind: 'absent', why: `${url} answered ${res.status}` };
      if (!looksLikeJson(res)) {
        if (!advertised) return { kind: 'absent', why: `${url} answered ${res.text.trimStart().startsWith('<') ? 'HTML' : 'something'}, not JSON` };
        throw new UpstreamError(`The metadata at ${url.slice(0, 200)} is not JSON (the service answered ${res.text.trimStart().startsWith('<') ? 'an HTML page' : 'something else'}).`, {
          code: 'metadata_not_json',
          upstreamStatus: res.status,
          retry: 'never',
        });
      }
      return { kind: 'found', doc: res.body, url: res.url };
    },
  };
}

/** RFC 9728 §3.1 / RFC 8414 §3.1: `https://h/p` → `https://h/.well-known/<name>/p`. */
export function insertWellKnown(base: string, name: string): string {
  const u = new URL(base);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}/.well-known/${name}${path}`;
}

/** auth.md's form: `<base>/.well-known/<name>` (appended). */
export function appendWellKnown(base: string, name: string): string {
  return `${base.replace(/\/+$/, '')}/.well-known/${name}`;
}

/** Distinct values, first occurrence kept. */
export const distinct = (urls: readonly string[]): string[] => [...new Set(urls)];
