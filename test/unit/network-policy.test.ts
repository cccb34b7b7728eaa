import { describe, expect, it } from 'vitest';
import { createNetworkPolicy, type NetworkVerdict } from '../../src/core/network-policy.js';

/**
 * The one network rule, judged without a packet: URLs before DNS, then each address a host
 * resolved to. Addresses outside loopback appear here only as input to the pure policy.
 */
const production = createNetworkPolicy({ production: true });
const development = createNetworkPolicy({ production: false });
const widened = createNetworkPolicy({ production: false, allowPrivateNetworks: true });
const allowlisted = createNetworkPolicy({
  production: true,
  allowedServices: ['https://*.corp.example', 'http://10.0.0.5:8080', 'http://127.0.0.1:*'],
});

const code = (v: NetworkVerdict) => (v.ok ? 'ok' : v.code);
const url = (u: string) => new URL(u);

describe('URLs before any DNS', () => {
  it.each([
    // scheme and credentials, everywhere
    [production, 'ftp://files.example.com', 'invalid_service_url'],
    [development, 'javascript:alert(1)', 'invalid_service_url'],
    [development, 'data:text/html,hi', 'invalid_service_url'],
    [development, 'file:///etc/passwd', 'invalid_service_url'],
    [production, 'https://user:pw@api.example.com', 'service_url_has_credentials'],
    [development, 'http://token@127.0.0.1:8080', 'service_url_has_credentials'],
    // production: public https only, unless allowlisted
    [production, 'https://api.example.com', 'ok'],
    [production, 'http://api.example.com', 'insecure_service_url'],
    [production, 'http://127.0.0.1:8080', 'service_address_not_allowed'],
    [production, 'https://127.0.0.1', 'service_address_not_allowed'],
    [production, 'https://127.1', 'service_address_not_allowed'],
    [production, 'https://2130706433', 'service_address_not_allowed'],
    [production, 'https://0x7f000001', 'service_address_not_allowed'],
    [production, 'https://0177.0.0.1', 'service_address_not_allowed'],
    [production, 'https://[::1]', 'service_address_not_allowed'],
    [production, 'https://[::ffff:127.0.0.1]', 'service_address_not_allowed'],
    [production, 'https://10.0.0.1', 'service_address_not_allowed'],
    [production, 'https://172.16.5.4', 'service_address_not_allowed'],
    [production, 'https://192.168.0.1', 'service_address_not_allowed'],
    [production, 'https://100.64.0.1', 'service_address_not_allowed'],
    [production, 'https://169.254.169.254', 'service_address_not_allowed'],
    [production, 'https://[fd00::1]', 'service_address_not_allowed'],
    [production, 'https://[fe80::1]', 'service_address_not_allowed'],
    [production, 'https://0.0.0.0', 'service_address_not_allowed'],
    [production, 'https://[::]', 'service_address_not_allowed'],
    [production, 'https://224.0.0.1', 'service_address_not_allowed'],
    [production, 'https://198.18.0.1', 'service_address_not_allowed'],
    [production, 'https://192.0.2.1', 'service_address_not_allowed'],
    [production, 'https://8.8.8.8', 'ok'],
    [production, 'http://8.8.8.8', 'insecure_service_url'],
    // development: loopback over http, nothing else private
    [development, 'http://127.0.0.1:8080', 'ok'],
    [development, 'http://127.0.0.2:8080', 'ok'],
    [development, 'http://[::1]:8080', 'ok'],
    [development, 'http://localhost:8080', 'ok'],
    [development, 'http://10.0.0.1', 'service_address_not_allowed'],
    [development, 'https://169.254.169.254', 'service_address_not_allowed'],
    [development, 'http://0.0.0.0:8080', 'service_address_not_allowed'],
    [development, 'http://8.8.8.8', 'insecure_service_url'],
    // development widened: private ranges too, never link-local or unspecified
    [widened, 'http://10.0.0.1', 'ok'],
    [widened, 'http://192.168.1.20:8080', 'ok'],
    [widened, 'http://100.64.1.1', 'ok'],
    [widened, 'http://[fd00::5]', 'ok'],
    [widened, 'http://169.254.169.254', 'service_address_not_allowed'],
    [widened, 'http://[fe80::1]', 'service_address_not_allowed'],
    [widened, 'http://0.0.0.0', 'service_address_not_allowed'],
    // allowlisted origins in production
    [allowlisted, 'http://10.0.0.5:8080', 'ok'],
    [allowlisted, 'http://10.0.0.5:8081', 'service_address_not_allowed'],
    [allowlisted, 'http://10.0.0.6:8080', 'service_address_not_allowed'],
    [allowlisted, 'http://127.0.0.1:4010', 'ok'],
    [allowlisted, 'http://127.0.0.1', 'ok'],
    [allowlisted, 'http://127.0.0.2:4010', 'service_address_not_allowed'],
    [allowlisted, 'http://wiki.corp.example', 'insecure_service_url'],
    [allowlisted, 'https://wiki.corp.example', 'ok'],
    [allowlisted, 'http://0.0.0.0:8080', 'service_address_not_allowed'],
  ])('%#: %s', (policy, value, expected) => {
    expect(code(policy.checkUrl(url(value)))).toBe(expected);
  });
});

describe('each resolved address at connect time', () => {
  it.each([
    [production, 'https://api.example.com', '93.184.216.34', 'ok'],
    [production, 'https://api.example.com', '127.0.0.1', 'service_address_not_allowed'],
    [production, 'https://api.example.com', '10.1.2.3', 'service_address_not_allowed'],
    [production, 'https://api.example.com', '169.254.169.254', 'service_address_not_allowed'],
    [production, 'https://api.example.com', '::ffff:169.254.169.254', 'service_address_not_allowed'],
    [production, 'https://api.example.com', '64:ff9b::a9fe:a9fe', 'service_address_not_allowed'],
    [production, 'https://api.example.com', 'fd00::1', 'service_address_not_allowed'],
    [production, 'https://api.example.com', '2606:4700::1111', 'ok'],
    [production, 'https://api.example.com', 'not-an-ip', 'service_address_not_allowed'],
    [development, 'http://localhost:8080', '127.0.0.1', 'ok'],
    [development, 'http://localhost:8080', '::1', 'ok'],
    [development, 'http://rebind.example', '93.184.216.34', 'insecure_service_url'],
    [development, 'https://rebind.example', '10.0.0.1', 'service_address_not_allowed'],
    [widened, 'https://rebind.example', '10.0.0.1', 'ok'],
    [widened, 'https://rebind.example', '169.254.169.254', 'service_address_not_allowed'],
    // An allowlist entry may name the address instead of the host name.
    [allowlisted, 'http://svc.test:8080', '127.0.0.1', 'ok'],
    [allowlisted, 'http://svc.test:8080', '127.0.0.2', 'service_address_not_allowed'],
    [allowlisted, 'https://db.corp.example', '10.9.9.9', 'ok'],
    [allowlisted, 'https://db.corp.example.evil.example', '10.9.9.9', 'service_address_not_allowed'],
    [allowlisted, 'https://db.corp.example', '0.0.0.0', 'service_address_not_allowed'],
  ])('%#: %s at %s', (policy, value, address, expected) => {
    expect(code(policy.checkAddress(url(value), address))).toBe(expected);
  });

  it('names the address and how to allow it, in words', () => {
    const verdict = production.checkAddress(url('https://api.example.com'), '0xa9fea9fe');
    expect(verdict).toMatchObject({
      ok: false,
      reason: expect.stringContaining('link-local address (where cloud metadata services live) (169.254.169.254)'),
    });
    expect(verdict.ok ? '' : verdict.reason).toContain('HANDOFF_ALLOWED_SERVICES');
    const dev = development.checkAddress(url('https://x.example'), '192.168.1.1');
    expect(dev.ok ? '' : dev.reason).toContain('HANDOFF_ALLOW_PRIVATE_NETWORKS=true');
  });
});

describe('links a person opens', () => {
  it.each([
    [production, 'https://login.example.com/approve', 'ok'],
    [production, 'http://login.example.com/approve', 'insecure_service_url'],
    [production, 'http://127.0.0.1:8080/approve', 'service_address_not_allowed'],
    [production, 'javascript:alert(document.cookie)', 'invalid_service_url'],
    [production, 'data:text/html;base64,PHNjcmlwdD4=', 'invalid_service_url'],
    [development, 'http://127.0.0.1:8080/sandbox/authorize/x', 'ok'],
    [development, 'http://localhost:8080/a', 'ok'],
    [development, 'http://app.localhost:8080/a', 'ok'],
    [development, 'http://login.example.com/approve', 'insecure_service_url'],
    [development, 'http://10.0.0.1/approve', 'service_address_not_allowed'],
    [widened, 'http://10.0.0.1/approve', 'ok'],
    [allowlisted, 'http://10.0.0.5:8080/approve', 'ok'],
    [allowlisted, 'http://localhost:8080/approve', 'insecure_service_url'],
  ])('%#: %s', (policy, value, expected) => {
    expect(code(policy.checkLink(url(value)))).toBe(expected);
  });
});
