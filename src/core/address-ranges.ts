import { parseIp, type IpAddress } from './ip-address.js';

/**
 * What kind of place an IP address is, from the IANA special-purpose registries (RFC 6890 and
 * its updates). Everything not listed is `public`. IPv6 forms that carry an IPv4 address
 * (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
 * `2002::/16`) are classified by the IPv4 address inside, so `::ffff:127.0.0.1` is loopback.
 */
export type AddressKind =
  | 'public'
  /** 127.0.0.0/8, ::1. */
  | 'loopback'
  /** RFC 1918: 10/8, 172.16/12, 192.168/16. */
  | 'private'
  /** RFC 6598 shared address space (carrier-grade NAT): 100.64/10. */
  | 'shared'
  /** 169.254/16 (cloud metadata lives here), fe80::/10. */
  | 'link_local'
  /** fc00::/7, and the deprecated site-local fec0::/10. */
  | 'unique_local'
  | 'multicast'
  /** 0.0.0.0, :: (on Linux, connecting to it reaches this host). */
  | 'unspecified'
  /** 255.255.255.255. */
  | 'broadcast'
  /** 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32. */
  | 'documentation'
  /** 198.18/15, 2001:2::/48. */
  | 'benchmarking'
  /** Everything else IANA set aside: 0/8, 192.0.0/24, 192.88.99/24, 240/4, 100::/64, Teredo, ORCHID, 64:ff9b:1::/48… */
  | 'reserved';

interface Range {
  readonly prefix: readonly number[];
  readonly bits: number;
  readonly kind: AddressKind;
}

const v4: readonly Range[] = [
  { prefix: [0, 0, 0, 0], bits: 32, kind: 'unspecified' },
  { prefix: [0], bits: 8, kind: 'reserved' },
  { prefix: [10], bits: 8, kind: 'private' },
  { prefix: [100, 64], bits: 10, kind: 'shared' },
  { prefix: [127], bits: 8, kind: 'loopback' },
  { prefix: [169, 254], bits: 16, kind: 'link_local' },
  { prefix: [172, 16], bits: 12, kind: 'private' },
  { prefix: [192, 0, 0], bits: 24, kind: 'reserved' },
  { prefix: [192, 0, 2], bits: 24, kind: 'documentation' },
  { prefix: [192, 88, 99], bits: 24, kind: 'reserved' },
  { prefix: [192, 168], bits: 16, kind: 'private' },
  { prefix: [198, 18], bits: 15, kind: 'benchmarking' },
  { prefix: [198, 51, 100], bits: 24, kind: 'documentation' },
  { prefix: [203, 0, 113], bits: 24, kind: 'documentation' },
  { prefix: [224], bits: 4, kind: 'multicast' },
  { prefix: [255, 255, 255, 255], bits: 32, kind: 'broadcast' },
  { prefix: [240], bits: 4, kind: 'reserved' },
];

const v6: readonly Range[] = [
  { prefix: [], bits: 128, kind: 'unspecified' },
  { prefix: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], bits: 128, kind: 'loopback' },
  { prefix: [0, 0x64, 0xff, 0x9b, 0, 1], bits: 48, kind: 'reserved' },
  { prefix: [0x01, 0x00, 0, 0, 0, 0, 0, 0], bits: 64, kind: 'reserved' },
  { prefix: [0x20, 0x01, 0, 0], bits: 32, kind: 'reserved' },
  { prefix: [0x20, 0x01, 0, 0x02, 0, 0], bits: 48, kind: 'benchmarking' },
  { prefix: [0x20, 0x01, 0, 0x10], bits: 28, kind: 'reserved' },
  { prefix: [0x20, 0x01, 0, 0x20], bits: 28, kind: 'reserved' },
  { prefix: [0x20, 0x01, 0x0d, 0xb8], bits: 32, kind: 'documentation' },
  { prefix: [0x3f, 0xff], bits: 20, kind: 'documentation' },
  { prefix: [0xfc], bits: 7, kind: 'unique_local' },
  { prefix: [0xfe, 0x80], bits: 10, kind: 'link_local' },
  { prefix: [0xfe, 0xc0], bits: 10, kind: 'unique_local' },
  { prefix: [0xff], bits: 8, kind: 'multicast' },
];

function inRange(bytes: Uint8Array, range: Range): boolean {
  for (let bit = 0; bit < range.bits; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((bytes[byte]! & mask) !== ((range.prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64 well-known, 6to4), if any. */
export function embeddedIpv4(ip: IpAddress): IpAddress | undefined {
  if (ip.version !== 6) return undefined;
  const b = ip.bytes;
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const tail = (): IpAddress => ({ version: 4, bytes: b.slice(12, 16) });
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return tail(); // ::ffff:0:0/96
  // ::a.b.c.d, the deprecated IPv4-compatible form (all of ::/96 but :: and ::1).
  if (zeros(0, 12) && !(zeros(12, 15) && b[15]! <= 1)) return tail();
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return tail(); // 64:ff9b::/96
  if (b[0] === 0x20 && b[1] === 0x02) return { version: 4, bytes: b.slice(2, 6) }; // 2002::/16
  return undefined;
}

/** The kind of an address; the first (most specific) listed range wins. */
export function classifyAddress(ip: IpAddress): AddressKind {
  const inner = embeddedIpv4(ip);
  if (inner) return classifyAddress(inner);
  const table = ip.version === 4 ? v4 : v6;
  return table.find((range) => inRange(ip.bytes, range))?.kind ?? 'public';
}

/** The kind of an address given as text (any spelling); undefined when it is not an IP address. */
export function classifyAddressText(text: string): AddressKind | undefined {
  const ip = parseIp(text);
  return ip ? classifyAddress(ip) : undefined;
}
