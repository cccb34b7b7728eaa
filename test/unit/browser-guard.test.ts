import { describe, expect, it } from 'vitest';
import type { HandoffError } from '../../src/core/errors.js';
import { checkBrowserRequest, ownHostNames } from '../../src/http/browser-guard.js';

const refusal = (req: { method: string; headers: Record<string, string | undefined> }, names: ReadonlySet<string>) => {
  try {
    checkBrowserRequest(req, names);
    return undefined;
  } catch (err) {
    return (err as HandoffError).code;
  }
};

describe('ownHostNames', () => {
  it('is the public URL’s host, HOST:PORT, and the loopback names only in development', () => {
    expect([
      ...ownHostNames({ publicUrl: 'https://Bridge.Example.com', host: '127.0.0.1', port: 8080, development: false }),
    ]).toEqual(['bridge.example.com', 'bridge.example.com:443', '127.0.0.1:8080']);
    expect(ownHostNames({ publicUrl: undefined, host: '0.0.0.0', port: 8080, development: false }).size).toBe(0);
    expect([
      ...ownHostNames({ publicUrl: 'http://10.0.0.5:9000', host: '::1', port: 9000, development: true }),
    ]).toEqual(['10.0.0.5:9000', '[::1]:9000', 'localhost:9000', '127.0.0.1:9000']);
  });
});

describe('checkBrowserRequest', () => {
  const names = new Set(['127.0.0.1:8080']);
  it('refuses a missing or foreign Host on reads and writes', () => {
    expect(refusal({ method: 'GET', headers: {} }, names)).toBe('host_not_allowed');
    expect(refusal({ method: 'GET', headers: { host: '' } }, names)).toBe('host_not_allowed');
    expect(refusal({ method: 'GET', headers: { host: 'evil.example:8080' } }, names)).toBe('host_not_allowed');
    expect(refusal({ method: 'GET', headers: { host: '127.0.0.1:8080' } }, names)).toBeUndefined();
  });

  it('on writes: JSON only, no foreign or opaque Origin, no cross-site fetch', () => {
    const write = (headers: Record<string, string>) =>
      refusal({ method: 'POST', headers: { host: '127.0.0.1:8080', ...headers } }, names);
    expect(write({ 'content-type': 'application/json' })).toBeUndefined();
    expect(
      write({ 'content-type': 'Application/JSON; charset=utf-8', origin: 'http://127.0.0.1:8080' }),
    ).toBeUndefined();
    expect(write({ 'content-type': 'text/plain' })).toBe('unsupported_media_type');
    expect(write({ 'content-type': 'application/json', origin: 'null' })).toBe('cross_site_request');
    expect(write({ 'content-type': 'application/json', origin: 'file://' })).toBe('cross_site_request');
    expect(write({ 'content-type': 'application/json', origin: 'https://127.0.0.1:8081' })).toBe('cross_site_request');
    expect(write({ 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' })).toBe('cross_site_request');
  });
});
