import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate, resourceMetadataFrom } from '../../src/login/www-authenticate.js';

const prm = 'https://api.example.com/.well-known/oauth-protected-resource';

describe('resourceMetadataFrom', () => {
  it.each([
    // The shape RFC 9728 §5.1 and auth.md show.
    { header: `Bearer resource_metadata="${prm}"`, url: prm },
    { header: `Bearer realm="api", resource_metadata="${prm}", error="invalid_token"`, url: prm },
    { header: `bearer RESOURCE_METADATA="${prm}"`, url: prm },
    { header: `Bearer   realm = "x" ,resource_metadata =  "${prm}"`, url: prm },
    // Unquoted values, as some servers send them.
    { header: `Bearer resource_metadata=${prm}, realm=x`, url: prm },
    // Several challenges in one header; the Bearer one counts.
    { header: `Basic realm="legacy", Bearer resource_metadata="${prm}"`, url: prm },
    { header: `DPoP algs="ES256", Bearer realm="a", resource_metadata="${prm}"`, url: prm },
    // Escapes inside a quoted string.
    { header: String.raw`Bearer realm="say \"hi\", please", resource_metadata="${prm}"`, url: prm },
    // A token68 before the parameters of another challenge.
    { header: `Negotiate abc123==, Bearer resource_metadata="${prm}"`, url: prm },
    // Nothing to find.
    { header: 'Bearer realm="sandbox"', url: undefined },
    { header: `Basic resource_metadata="${prm}"`, url: undefined },
    { header: '', url: undefined },
    { header: null, url: undefined },
    { header: '"""===,,,', url: undefined },
  ])('$header', ({ header, url }) => {
    expect(resourceMetadataFrom(header)).toBe(url);
  });

  it('keeps the first of a repeated parameter and lower-cases names and schemes', () => {
    expect(parseWwwAuthenticate('Bearer Realm="a", realm="b", Basic realm="c"')).toEqual([
      { scheme: 'bearer', params: { realm: 'a' } },
      { scheme: 'basic', params: { realm: 'c' } },
    ]);
  });

  it('reads a huge header only up to its first 8 KiB, without throwing', () => {
    expect(resourceMetadataFrom(`Bearer realm="${'x'.repeat(100_000)}", resource_metadata="${prm}"`)).toBeUndefined();
  });
});
