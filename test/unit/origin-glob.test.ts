import { describe, expect, it } from 'vitest';
import { globMatch } from '../../src/core/glob.js';
import { matchesOriginGlob, originGlobMatches, parseOriginGlob } from '../../src/core/origin-glob.js';

/**
 * The one origin glob (src/core/origin-glob.ts) in its two grammars, with what each caller
 * relied on before the three matchers became one: the network policy's allowlist
 * (HANDOFF_ALLOWED_SERVICES, `wildcards`, once a regular expression in network-policy.ts) and
 * the approver-email allowlist (HANDOFF_APPROVER_EMAIL_SERVICES, `subdomains`; more of its cases
 * in approver-binding.test.ts). Agent policies keep `globMatch` (agent-policy-bypass.test.ts).
 */
const matches = (glob: string, origin: string, grammar: 'wildcards' | 'subdomains') =>
  originGlobMatches(parseOriginGlob(glob, grammar)!, origin);

describe('wildcards (HANDOFF_ALLOWED_SERVICES)', () => {
  it.each([
    ['https://*.corp.example', 'https://a.corp.example', true],
    ['https://*.corp.example', 'https://a.b.corp.example', true],
    ['https://*.corp.example', 'https://corp.example', false],
    ['https://*.corp.example', 'https://a.corp.example:8443', false],
    ['https://*.corp.example', 'http://a.corp.example', false],
    ['https://*.corp.example', 'https://corp.example.evil.example', false],
    ['https://*.corp.example:*', 'https://a.corp.example:8443', true],
    ['http://127.0.0.1:*', 'http://127.0.0.1:4010', true],
    ['http://127.0.0.1:*', 'http://127.0.0.1', true],
    ['http://127.0.0.1:*', 'http://127.0.0.10:4010', false],
    ['https://API.Example.com:443', 'https://api.example.com', true],
    ['https://api.example.com/', 'https://api.example.com', true],
    ['http://[::1]:8080', 'http://[::1]:8080', true],
    ['http://[0:0:0:0:0:0:0:1]:8080', 'http://[::1]:8080', true], // IPv6 in its canonical spelling
    ['http://10.0.0.*', 'http://10.0.0.7', true], // `*` anywhere in the host
    ['http://10.0.0.*', 'http://10.0.0.7:8080', false], // …but not into the port
    ['http://10.0.0.*', 'http://10.0.1.7', false],
    ['https://api-*.corp.example', 'https://api-eu.corp.example', true],
    ['https://api-*.corp.example', 'https://web-eu.corp.example', false],
  ])('%s matches %s: %s', (glob, origin, expected) => {
    expect(matches(glob, origin, 'wildcards')).toBe(expected);
  });

  it.each([
    'api.example.com',
    'https://api.example.com/path',
    'ftp://x',
    'https://u@x',
    'https://x?y',
    '',
    'https://x:99999',
    'https://a b.example',
    'https://*.example.com/*',
    'https://x:8*',
  ])('refuses %j as a glob', (glob) => {
    expect(parseOriginGlob(glob, 'wildcards')).toBeUndefined();
  });
});

describe('subdomains (HANDOFF_APPROVER_EMAIL_SERVICES)', () => {
  it('matches scheme, host and port exactly; *. is subdomains only', () => {
    expect(matches('https://notes.example.com', 'https://notes.example.com:443/api', 'subdomains')).toBe(true);
    expect(matches('https://*.corp.example', 'https://a.b.corp.example/x', 'subdomains')).toBe(true);
    expect(matches('https://*.corp.example', 'https://corp.example', 'subdomains')).toBe(false);
    expect(matches('https://*.corp.example', 'https://evilcorp.example', 'subdomains')).toBe(false);
    expect(matches('http://127.0.0.1:8080', 'http://127.0.0.1:8081', 'subdomains')).toBe(false);
    expect(matches('https://notes.example.com', 'not a url', 'subdomains')).toBe(false);
  });

  it.each(['*', 'https://*', 'https://a*.example.com', 'https://*.*.example', 'http://127.0.0.1:*', 'http://10.0.0.*'])(
    'has no catch-all and no other wildcard: refuses %j',
    (glob) => {
      expect(parseOriginGlob(glob)).toBeUndefined();
      expect(parseOriginGlob(glob, 'subdomains')).toBeUndefined();
    },
  );
});

describe('one matcher for both', () => {
  it('a glob both grammars accept means the same in each', () => {
    const origins = ['https://a.corp.example', 'https://corp.example', 'https://a.corp.example:8443', 'http://x'];
    for (const glob of ['https://*.corp.example', 'https://corp.example:8443', 'http://[::1]']) {
      const wide = parseOriginGlob(glob, 'wildcards')!;
      const narrow = parseOriginGlob(glob, 'subdomains')!;
      expect(narrow).toEqual(wide);
      for (const o of origins) expect(originGlobMatches(narrow, o)).toBe(originGlobMatches(wide, o));
    }
  });

  it('hosts with a `*` go through globMatch, which builds no regular expression', () => {
    const glob = parseOriginGlob('https://*.(a|b)+.example', 'wildcards');
    expect(glob).toBeUndefined(); // not host characters at all
    expect(globMatch('*.corp.example', 'x.corp.example')).toBe(true);
    const slow = parseOriginGlob(`https://${'a*'.repeat(40)}b.example`, 'wildcards')!;
    expect(matchesOriginGlob([slow], `https://${'a'.repeat(200)}.example`)).toBe(false);
  });
});
