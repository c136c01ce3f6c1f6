// IP addresses as the bytes a table value carries: 4 for IPv4, 16 for IPv6,
// network byte order. Text in, bytes out and back, strict both ways, so one
// address has one text (RFC 5952 §4 for IPv6: lowercase, no leading zeros,
// the longest run of two or more zero groups as "::", the first on a tie).
import { formatIPv4, parseIPv4 } from '../../swarm/cidr.js';

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIPv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const n = head.length + tail.length;
  if (halves.length === 1 ? n !== 8 : n > 7) return undefined;
  const all = [...head, ...Array<string>(8 - n).fill('0'), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = all[i]!;
    if (!HEX_GROUP.test(g)) return undefined;
    const v = parseInt(g, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  }
  return out;
}

function formatIPv6(b: Uint8Array): string {
  const g = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  let bestAt = -1;
  let bestLen = 1; // a single zero group is not shortened (RFC 5952 §4.2.2)
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

/** "10.0.0.3" or "fd00::3" to 4 or 16 bytes; undefined if it is neither. */
export function parseIp(text: string): Uint8Array | undefined {
  if (text.includes(':')) return parseIPv6(text);
  const v4 = parseIPv4(text);
  if (v4 === undefined) return undefined;
  return Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff);
}

/** 4 or 16 bytes to their canonical text. */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return formatIPv4(((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0);
  if (b.length === 16) return formatIPv6(b);
  throw new RangeError(`formatIp: expected 4 or 16 bytes, got ${b.length}`);
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** "02:42:0a:00:00:03" to 6 bytes; undefined otherwise. */
export function parseMac(text: string): Uint8Array | undefined {
  if (!MAC.test(text)) return undefined;
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}

export function formatMac(b: Uint8Array): string {
  if (b.length !== 6) throw new RangeError(`formatMac: expected 6 bytes, got ${b.length}`);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}
