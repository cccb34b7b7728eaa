import { globMatch } from './glob.js';

/**
 * The one origin glob, for every operator allowlist of services: a scheme (`http`/`https`),
 * a host and an optional port, nothing after them. Hosts are matched with the one glob
 * matcher (`globMatch`: `*` is any run of characters, everything else itself); a host without
 * `*` is put in the URL's canonical form first (case, IPv6 spelling, punycode), and a port
 * that is the scheme's default is the same as none.
 *
 * Two grammars, by how much an allowlist may open:
 * - `subdomains` (HANDOFF_APPROVER_EMAIL_SERVICES): `*` only as a whole first label —
 *   `https://*.example.com` is any subdomain, not `example.com` itself — and an exact port.
 *   No catch-all.
 * - `wildcards` (HANDOFF_ALLOWED_SERVICES): `*` anywhere in the host
 *   (`https://*.corp.example`, `http://10.0.0.*`), and `:*` for any port, the default one
 *   included (`http://127.0.0.1:*`).
 *
 * Agent policies (`src/core/agent-policy.ts`) match their origin globs with `globMatch`
 * directly: they may also wildcard the scheme.
 */
export interface OriginGlob {
  readonly scheme: 'http' | 'https';
  /** Lower-case host (canonical when it has no `*`); `*` is any run of characters. */
  readonly host: string;
  /** The port as the URL spells it ('' for the scheme's default), or `*` for any. */
  readonly port: string;
}

export type OriginGlobGrammar = 'subdomains' | 'wildcards';

const shape = /^(https?):\/\/(\[[0-9a-f:.]+\]|[^/?#@\s:[\]\\]+)(?::(\d{1,5}|\*))?\/?$/;
const label = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const subdomainsHost = new RegExp(`^\\*\\.${label}(?:\\.${label})*$`);
const wildcardsHost = /^[a-z0-9*._-]+$/;

function canonicalHost(scheme: string, host: string): string | undefined {
  try {
    return new URL(`${scheme}://${host}`).hostname;
  } catch {
    return undefined;
  }
}

/** Parses one glob in `grammar`, or returns undefined when it is not one. */
export function parseOriginGlob(text: string, grammar: OriginGlobGrammar = 'subdomains'): OriginGlob | undefined {
  const m = shape.exec(text.trim().toLowerCase());
  if (!m) return undefined;
  const scheme = m[1] as OriginGlob['scheme'];
  const rawPort = m[3];
  if (rawPort === '*' && grammar !== 'wildcards') return undefined;
  let port = '';
  if (rawPort !== undefined && rawPort !== '*') {
    const n = Number(rawPort);
    if (n > 65_535) return undefined;
    port = n === (scheme === 'https' ? 443 : 80) ? '' : String(n);
  } else if (rawPort === '*') port = '*';

  if (!m[2]!.includes('*')) {
    const host = canonicalHost(scheme, m[2]!);
    return host ? { scheme, host, port } : undefined;
  }
  const wild = grammar === 'wildcards' ? wildcardsHost : subdomainsHost;
  return wild.test(m[2]!) ? { scheme, host: m[2]!, port } : undefined;
}

/** Parses a list, keeping the globs and dropping what is not one (config validates first). */
export function parseOriginGlobs(texts: readonly string[], grammar?: OriginGlobGrammar): OriginGlob[] {
  return texts.map((t) => parseOriginGlob(t, grammar)).filter((g): g is OriginGlob => g !== undefined);
}

/** True when the origin of `url` (a URL or an origin such as `https://a.example:8443`) matches the glob. */
export function originGlobMatches(glob: OriginGlob, url: string | URL): boolean {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return false;
  }
  if (parsed.protocol !== `${glob.scheme}:`) return false;
  if (glob.port !== '*' && glob.port !== parsed.port) return false;
  const host = parsed.hostname;
  return glob.host.includes('*') ? globMatch(glob.host, host) : glob.host === host;
}

/** True when the URL's origin matches one of the globs. */
export function matchesOriginGlob(globs: readonly OriginGlob[], url: string | URL): boolean {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return false;
  }
  return globs.some((g) => originGlobMatches(g, parsed));
}
