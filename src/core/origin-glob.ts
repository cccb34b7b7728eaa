/**
 * Origin globs for operator allowlists: `https://notes.example.com`, `https://*.example.com`
 * (any subdomain, one label or more, not the bare domain), with an optional port. Scheme,
 * host and port must all match; there is no catch-all.
 */
export interface OriginGlob {
  /** `http` or `https`. */
  readonly scheme: string;
  /** Lower-case host without the `*.`. */
  readonly host: string;
  /** True for `*.host`: any subdomain of `host`, not `host` itself. */
  readonly wildcard: boolean;
  /** The port as the URL spells it ('' for the scheme's default). */
  readonly port: string;
}

const globPattern =
  /^(https?):\/\/(\*\.)?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?\/?$/;

/** Parses one glob, or returns undefined when it is not one. */
export function parseOriginGlob(text: string): OriginGlob | undefined {
  const m = globPattern.exec(text.trim().toLowerCase());
  if (!m) return undefined;
  const defaultPort = m[1] === 'https' ? '443' : '80';
  return {
    scheme: m[1]!,
    wildcard: m[2] !== undefined,
    host: m[3]!,
    port: m[4] === undefined || m[4] === defaultPort ? '' : m[4],
  };
}

/** True when the URL's origin matches one of the globs. */
export function matchesOriginGlob(globs: readonly OriginGlob[], url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  const host = parsed.hostname.toLowerCase();
  return globs.some(
    (g) =>
      g.scheme === scheme && g.port === parsed.port && (g.wildcard ? host.endsWith(`.${g.host}`) : host === g.host),
  );
}
