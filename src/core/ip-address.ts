/**
 * IP addresses as bytes, parsed from every spelling a URL or a resolver may use. IPv4 follows
 * the WHATWG URL "IPv4 parser" (the rules `new URL()` and `inet_aton` share): one to four
 * dot-separated parts, each decimal, octal (leading `0`) or hex (`0x`), the last part filling
 * the remaining bytes, a trailing dot allowed. So `127.1`, `2130706433`, `0177.0.0.1`,
 * `0x7f000001` and `0x7f.1` are all 127.0.0.1. IPv6 follows RFC 4291 §2.2 (`::` once, an
 * IPv4 tail), with brackets and a zone id (`%eth0`) tolerated. Pure: no DNS, no sockets.
 */
export interface IpAddress {
  readonly version: 4 | 6;
  /** 4 bytes for IPv4, 16 for IPv6, network order. */
  readonly bytes: Uint8Array;
}

/** One IPv4 part as a number, or undefined when it is not a number in its radix. */
function ipv4Number(part: string): number | undefined {
  if (part === '') return undefined;
  let radix = 10;
  let digits = part;
  if (/^0[xX]/.test(part)) {
    radix = 16;
    digits = part.slice(2);
  } else if (part.length > 1 && part.startsWith('0')) {
    radix = 8;
    digits = part.slice(1);
  }
  if (digits === '') return 0;
  const valid = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!valid.test(digits)) return undefined;
  // Longer than any 32-bit value in the radix: not an address (and Number would lose precision).
  if (digits.replace(/^0+/, '').length > (radix === 16 ? 8 : radix === 8 ? 11 : 10)) return Number.POSITIVE_INFINITY;
  return Number.parseInt(digits, radix);
}

export function parseIpv4(text: string): IpAddress | undefined {
  const parts = text.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 0 || parts.length > 4) return undefined;
  const numbers = parts.map(ipv4Number);
  if (numbers.some((n) => n === undefined)) return undefined;
  const values = numbers as number[];
  const last = values[values.length - 1]!;
  if (values.slice(0, -1).some((n) => n > 255)) return undefined;
  if (last >= 256 ** (5 - values.length)) return undefined;
  let value = last;
  for (const [index, n] of values.slice(0, -1).entries()) value += n * 256 ** (3 - index);
  return { version: 4, bytes: Uint8Array.of(value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255) };
}

/** Strict dotted-quad, as the tail of an IPv6 address must be (RFC 4291 §2.2). */
function dottedQuad(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^(?:0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255)) return undefined;
  return parts.map(Number);
}

export function parseIpv6(text: string): IpAddress | undefined {
  let s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(':')) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const pieces = half.split(':');
    for (const [index, piece] of pieces.entries()) {
      if (index === pieces.length - 1 && piece.includes('.')) {
        const quad = dottedQuad(piece);
        if (!quad) return undefined;
        out.push(quad[0]! * 256 + quad[1]!, quad[2]! * 256 + quad[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) out.push(Number.parseInt(piece, 16));
      else return undefined;
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return undefined;
  // An IPv4 tail belongs at the end only.
  if (halves.length === 2 && halves[0]!.includes('.')) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<number>(Math.max(0, missing)).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >>> 8;
    bytes[i * 2 + 1] = g & 255;
  });
  return { version: 6, bytes };
}

/** IPv4 in any spelling, or IPv6 (bracketed or not); undefined for a host name. */
export function parseIp(text: string): IpAddress | undefined {
  return parseIpv6(text) ?? parseIpv4(text);
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) return [...ip.bytes].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (ip.bytes[i * 2]! << 8) | ip.bytes[i * 2 + 1]!);
  let best = { at: -1, length: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > best.length && j - i > 1) best = { at: i, length: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.length).join(':')}`;
}
