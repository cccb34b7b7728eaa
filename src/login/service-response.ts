import type { Dispatcher } from 'undici';
import { UpstreamError } from '../core/errors.js';

/**
 * What a service answered, as the service HTTP client hands it on: the headers as a read-only
 * view (the part of `Headers` callers use) and the body read under a size cap.
 */

/** Response headers: `get` as `Headers.get` (case-insensitive, repeated values joined with ", "). */
export interface ResponseHeaders extends Iterable<[string, string]> {
  get(name: string): string | null;
}

type RawHeaders = Dispatcher.ResponseData['headers'];

/** A view over undici's header object (lowercase names, repeated headers as arrays), copying nothing. */
export class HeaderView implements ResponseHeaders {
  constructor(private readonly raw: RawHeaders) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /** Every name/value pair, a repeated header once per value (as `Headers` iterates Set-Cookie). */
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (const [name, value] of Object.entries(this.raw)) {
      if (Array.isArray(value)) for (const one of value) yield [name, one];
      else if (value !== undefined) yield [name, value];
    }
  }
}

/** The URL's origin for messages, never its path or query. */
export function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the service';
  }
}

function tooLarge(url: string, limit: number): UpstreamError {
  return new UpstreamError(`${origin(url)} sent a response larger than ${limit} bytes.`, {
    code: 'service_response_too_large',
    upstreamStatus: 0,
    retry: 'never',
  });
}

/**
 * The body as UTF-8 text, at most `limit` bytes: a larger declared length is refused before a
 * byte is read, and a body that grows past the limit is cut as soon as it does (destroying the
 * stream aborts the request and closes the connection).
 */
export function readBody(res: Dispatcher.ResponseData, limit: number, url: string): Promise<string> {
  const { body } = res;
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    body.on('error', () => undefined).destroy();
    return Promise.reject(tooLarge(url, limit));
  }
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        reject(tooLarge(url, limit));
        body.destroy();
        return;
      }
      chunks.push(chunk);
    });
    body.on('end', () =>
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')),
    );
    body.on('error', reject);
  });
}
