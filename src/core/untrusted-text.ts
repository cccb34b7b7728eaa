/**
 * Values from outside the bridge (agents, services, people) before they are shown to anyone:
 * one line of well-formed text with no control, bidi or invisible format characters, cut to a
 * length fit for a thread. Escaping for a platform's markup happens later, in each adapter;
 * this is the part every platform shares.
 */

/** Longest value shown, per kind of value, in characters (code points). */
export const textLimits = {
  /** A name a service or a person gives itself. */
  name: 80,
  /** Agent ids, handoff ids, platform ids, error codes. */
  id: 100,
  /** One scope. */
  scope: 100,
  /** Scopes listed in one message; the rest are counted. */
  scopes: 12,
  /** A host name with its port (DNS allows 253 characters). */
  host: 260,
  /** An error message or reason (a service's words, or ours quoting what discovery found). */
  message: 600,
  /** Any other value, when the caller names no limit. */
  value: 200,
} as const;

// Cc: C0/C1 controls; Cf: bidi embeddings, overrides and isolates, zero-width characters,
// soft hyphens, invisible tag characters (U+E0000…) used to smuggle text; Zl/Zp: line and
// paragraph separators. White-space controls become a space first, so words stay apart.
const spaceLike = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;
const invisible = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const spaces = /\s+/g;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The value as one clean line of at most `max` code points (cut with "…"). Lone surrogates
 * become U+FFFD, so the result is always well-formed UTF-16.
 */
export function cleanText(text: string, max: number = textLimits.value): string {
  const line = String(text)
    .replace(loneSurrogate, '\uFFFD')
    .replace(spaceLike, ' ')
    .replace(invisible, '')
    .replace(spaces, ' ')
    .trim();
  const chars = Array.from(line);
  return chars.length <= max
    ? line
    : `${chars
        .slice(0, Math.max(0, max - 1))
        .join('')
        .trimEnd()}…`;
}

/**
 * RFC 8628 §6.1: a user code is typed by a person, so services use short codes of letters and
 * digits (base-20 consonants `BCDF…`, or digits), optionally grouped by dashes or spaces. A
 * code outside that shape is not a code anyone should be asked to type.
 */
const userCodeShape = /^[A-Za-z0-9]+(?:[- ][A-Za-z0-9]+)*$/;

/** Longest user code the bridge shows (RFC 8628 suggests 8 characters; providers use up to ~12). */
export const maxUserCodeLength = 32;

export function isUserCode(code: string): boolean {
  return code.length <= maxUserCodeLength && userCodeShape.test(code);
}

/**
 * A URL the bridge may show as a link: http(s) only, in its serialised form (percent-encoded:
 * no space, quote, angle bracket or backtick left), with the host a person should read. The
 * host is the ASCII (punycode) form, so a look-alike IDN shows as `xn--…`.
 */
export function linkTarget(url: string | undefined): { readonly href: string; readonly host: string } | undefined {
  if (!url || url.length > 4_000) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
    return { href: parsed.href, host: parsed.host };
  } catch {
    return undefined;
  }
}

/** The host (with port) of a URL, or the cleaned text itself when it is not a URL. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host || cleanText(url, textLimits.host);
  } catch {
    return cleanText(url, textLimits.host);
  }
}
