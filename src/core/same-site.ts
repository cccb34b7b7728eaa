import { formatIp, parseIp } from './ip-address.js';

/**
 * "Same site" for URLs a service hands the bridge (metadata, endpoints, approval links): the
 * same registrable domain, approximated without a public-suffix list.
 *
 * - An IP address or a one-label name (`localhost`) is its own site: only the same host matches.
 * - Otherwise the site is the last two labels (`api.example.com` → `example.com`), or the last
 *   three when the last two are a known multi-label public suffix: a two-letter country code
 *   with a generic second level (`co.uk`, `com.au`, `ne.jp`…) or a shared-hosting domain where
 *   strangers get sibling subdomains (`herokuapp.com`, `netlify.app`…). A host that *is* such a
 *   suffix is its own site.
 *
 * So `auth.example.com` and `api.example.com` are one site, `example.com` and
 * `login.example.com` too; `evil.co.uk` and `bank.co.uk` are not, nor are `a.netlify.app` and
 * `b.netlify.app`. Known gap: a multi-label suffix not listed here (e.g. `kyoto.jp`) groups its
 * subdomains into one site. Ports and schemes do not matter here (the network policy and the
 * https rule judge those).
 */
const genericSecondLevels = new Set([
  'ac',
  'co',
  'com',
  'edu',
  'gen',
  'go',
  'gob',
  'gouv',
  'gov',
  'govt',
  'gv',
  'info',
  'ltd',
  'me',
  'mil',
  'ne',
  'net',
  'nhs',
  'nic',
  'nom',
  'or',
  'org',
  'plc',
  'police',
  'sch',
]);

/** Shared-hosting suffixes (the private section of the public-suffix list, its best-known part). */
const sharedHostingSuffixes = new Set([
  'github.io',
  'gitlab.io',
  'herokuapp.com',
  'herokudns.com',
  'vercel.app',
  'netlify.app',
  'pages.dev',
  'workers.dev',
  'web.app',
  'firebaseapp.com',
  'appspot.com',
  'azurewebsites.net',
  'cloudapp.net',
  'azurestaticapps.net',
  'cloudfront.net',
  'amazonaws.com',
  'fly.dev',
  'onrender.com',
  'glitch.me',
  'repl.co',
  'ngrok.io',
  'ngrok-free.app',
  'blogspot.com',
  'wordpress.com',
  'myshopify.com',
  'trycloudflare.com',
  'loca.lt',
  'deno.dev',
  'surge.sh',
]);

/** A URL's host as a comparable name: lower case, no brackets, no trailing dot, canonical IP text. */
export function normalHost(host: string): string {
  const bare = host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  const ip = parseIp(bare);
  return ip ? formatIp(ip) : bare;
}

export function siteOf(host: string): string {
  const name = normalHost(host);
  if (parseIp(name)) return name;
  const labels = name.split('.');
  if (labels.length < 2) return name;
  const lastTwo = labels.slice(-2).join('.');
  const suffixHasTwoLabels =
    (labels.at(-1)!.length === 2 && genericSecondLevels.has(labels.at(-2)!)) || sharedHostingSuffixes.has(lastTwo);
  if (!suffixHasTwoLabels) return lastTwo;
  return labels.length >= 3 ? labels.slice(-3).join('.') : name;
}

export function isSameSite(hostA: string, hostB: string): boolean {
  return siteOf(hostA) === siteOf(hostB);
}

/** Is `url` on the same site as any of `anchors` (URLs)? False for anything that is not a URL. */
export function sameSiteAsAny(url: string | URL, anchors: readonly string[]): boolean {
  let host: string;
  try {
    host = (typeof url === 'string' ? new URL(url) : url).hostname;
  } catch {
    return false;
  }
  return anchors.some((anchor) => {
    try {
      return isSameSite(host, new URL(anchor).hostname);
    } catch {
      return false;
    }
  });
}
