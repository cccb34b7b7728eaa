import { HandoffError, UpstreamError } from '../core/errors.js';
import type { CallContext } from '../core/login-protocol.js';
import { servicePath } from './discovered-url.js';
import type { ServiceHttp, ServiceResponse } from './service-http.js';

/**
 * Fetching metadata documents within one discovery's time budget. A document the service
 * *advertised* (a `resource_metadata` challenge, an `authorization_servers` entry) must be
 * there and be JSON; a well-known URL we merely *guessed* may be missing, answer HTML (a
 * single-page app's catch-all), or redirect away, and we just try the next guess.
 */
export type Fetched =
  | { readonly kind: 'found'; readonly doc: unknown; readonly url: string }
  | { readonly kind: 'absent'; readonly why: string };

export interface MetadataFetcher {
  /** `label` (default: the URL) names the document in findings; never a URL the service wrote. */
  get(url: string, advertised: boolean, label?: string): Promise<Fetched>;
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
}

const looksLikeJson = (res: ServiceResponse) => res.body !== undefined && /^\s*[[{]/.test(res.text);

/**
 * `label` names the document in findings and errors without quoting what the service wrote:
 * a URL the bridge built from the service URL, or words such as "the advertised resource metadata".
 */
export function createMetadataFetcher(o: FetcherOptions): MetadataFetcher {
  const overBudget = () =>
    new UpstreamError('Discovering how the service logs agents in took too long.', {
      code: 'discovery_timeout',
      upstreamStatus: 0,
      retry: 'backoff',
    });
  const budget = (): number => {
    const left = o.deadline - o.now();
    if (left <= 0) throw overBudget();
    return Math.min(o.timeoutMs, left);
  };

  async function request(url: string, init: { json?: unknown } = {}): Promise<ServiceResponse> {
    const timeoutMs = budget();
    try {
      return await o.http.request(url, {
        ctx: o.ctx,
        timeoutMs,
        ...(init.json !== undefined ? { json: init.json } : {}),
      });
    } catch (err) {
      // Cut short by the overall budget rather than by this request's own timeout.
      if (err instanceof HandoffError && err.code === 'service_timeout' && timeoutMs < o.timeoutMs) throw overBudget();
      throw err;
    }
  }

  return {
    request,
    async get(url, advertised, label = url) {
      let res: ServiceResponse;
      try {
        res = await request(url);
      } catch (err) {
        // A guessed URL that redirects to another site is simply not there.
        if (!advertised && err instanceof HandoffError && err.code === 'cross_origin_redirect')
          return { kind: 'absent', why: `${label} redirects elsewhere` };
        throw err;
      }
      if (res.status < 200 || res.status >= 300) return { kind: 'absent', why: `${label} answered ${res.status}` };
      if (!looksLikeJson(res)) {
        const what = res.text.trimStart().startsWith('<') ? 'HTML' : 'something';
        if (!advertised) return { kind: 'absent', why: `${label} answered ${what}, not JSON` };
        throw new UpstreamError(
          `${label.slice(0, 200)} is not JSON (the service answered ${what === 'HTML' ? 'an HTML page' : 'something else'}).`,
          {
            code: 'metadata_not_json',
            upstreamStatus: res.status,
            retry: 'never',
          },
        );
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

/** auth.md's form: `<base>/.well-known/<name>` (appended; a query on the base is dropped). */
export function appendWellKnown(base: string, name: string): string {
  return servicePath(base, '.well-known', name);
}

/** Distinct values, first occurrence kept. */
export const distinct = (urls: readonly string[]): string[] => [...new Set(urls)];
