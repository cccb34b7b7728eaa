import { describe, expect, it } from 'vitest';
import { isSameSite, sameSiteAsAny, siteOf } from '../../src/core/same-site.js';

describe('same site (registrable domain, approximated)', () => {
  it.each([
    ['api.example.com', 'example.com'],
    ['a.b.c.example.com', 'example.com'],
    ['example.com', 'example.com'],
    ['EXAMPLE.com.', 'example.com'],
    ['api.example.co.uk', 'example.co.uk'],
    ['example.co.uk', 'example.co.uk'],
    ['co.uk', 'co.uk'],
    ['shop.example.com.au', 'example.com.au'],
    ['alice.github.io', 'alice.github.io'],
    ['x.alice.github.io', 'alice.github.io'],
    ['github.io', 'github.io'],
    ['localhost', 'localhost'],
    ['127.0.0.1', '127.0.0.1'],
    ['[::1]', '::1'],
    ['[0:0::1]', '::1'],
  ])('site of %s is %s', (host, site) => {
    expect(siteOf(host)).toBe(site);
  });

  it.each([
    ['api.example.com', 'auth.example.com', true],
    ['api.github.com', 'github.com', true],
    ['example.com', 'login.example.com', true],
    ['accounts.google.com.evil.example', 'evil.example', true],
    ['api.example.com', 'example.org', false],
    ['api.example.com', 'example.com.evil.example', false],
    ['evil.co.uk', 'bank.co.uk', false],
    ['alice.github.io', 'mallory.github.io', false],
    ['a.herokuapp.com', 'b.herokuapp.com', false],
    ['127.0.0.1', '127.0.0.2', false],
    ['127.0.0.1', 'localhost', false],
    ['127.0.0.1', '127.1', true],
  ])('%s and %s: %s', (a, b, same) => {
    expect(isSameSite(a, b)).toBe(same);
  });

  it('judges URLs against anchors, and refuses what is not a URL', () => {
    expect(sameSiteAsAny('https://auth.example.com/x', ['https://api.example.com/v1'])).toBe(true);
    expect(sameSiteAsAny('https://evil.example/x', ['https://api.example.com', 'https://auth.example.net'])).toBe(
      false,
    );
    expect(sameSiteAsAny('https://id.example.net/x', ['https://api.example.com', 'https://auth.example.net'])).toBe(
      true,
    );
    expect(sameSiteAsAny('not a url', ['https://api.example.com'])).toBe(false);
  });
});
