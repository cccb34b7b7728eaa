import { describe, expect, it } from 'vitest';
import { formatIp, parseIp, parseIpv4, parseIpv6 } from '../../src/core/ip-address.js';

const v4 = (text: string) => {
  const ip = parseIpv4(text);
  return ip ? formatIp(ip) : undefined;
};
const v6 = (text: string) => {
  const ip = parseIpv6(text);
  return ip ? formatIp(ip) : undefined;
};

describe('IPv4 in every spelling a URL or inet_aton accepts', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0X7F000001', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0177.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0x7f.0.0.0x1', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['0x', '0.0.0.0'],
    ['10.1', '10.0.0.1'],
    ['167772161', '10.0.0.1'],
    ['0xa9fea9fe', '169.254.169.254'],
    ['169.254.43518', '169.254.169.254'],
    ['0251.0376.0251.0376', '169.254.169.254'],
    ['4294967295', '255.255.255.255'],
    ['1.2.3.4', '1.2.3.4'],
    ['00000001.2.3.4', '1.2.3.4'],
  ])('%s → %s', (text, expected) => {
    expect(v4(text)).toBe(expected);
    // The platform agrees (WHATWG URL host parsing), so the parser matches what a request would reach.
    expect(new URL(`http://${text}/`).hostname).toBe(expected);
  });

  it.each([
    '4294967296',
    '256.0.0.1',
    '1.2.3.4.5',
    '1..2.3',
    '',
    '.',
    'example.com',
    '08.1.1.1',
    '0x1g',
    '1.2.3.0x100',
    '99999999999999999999',
    '1.2.3.-1',
  ])('is not an IPv4 address: %s', (text) => {
    expect(v4(text)).toBeUndefined();
  });
});

describe('IPv6', () => {
  it.each([
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['::', '::'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['::ffff:7f00:1', '::ffff:7f00:1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['[fe80::1%25eth0]', 'fe80::1'],
    ['2001:DB8::8:800:200C:417A', '2001:db8::8:800:200c:417a'],
    ['64:ff9b::10.0.0.1', '64:ff9b::a00:1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1::', '1::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ])('%s → %s', (text, expected) => {
    expect(v6(text)).toBe(expected);
  });

  it.each([
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':::',
    '12345::',
    '::ffff:1.2.3',
    '::ffff:01.2.3.4',
    '1.2.3.4::',
    'g::1',
    '1:2:3:4:5:6:7',
    '',
  ])('is not an IPv6 address: %s', (text) => {
    expect(v6(text)).toBeUndefined();
  });

  it('parseIp takes either family and leaves names alone', () => {
    expect(parseIp('::1')?.version).toBe(6);
    expect(parseIp('127.1')?.version).toBe(4);
    expect(parseIp('localhost')).toBeUndefined();
    expect(parseIp('api.example.com')).toBeUndefined();
  });
});
