// IPv4 addresses and CIDR blocks as plain numbers: an address is its u32
// value (network byte order read as a big-endian integer), a block is its
// base address plus a prefix length. Pure; IPAM carves subnets with these.
//
// Every bitwise result passes through `>>> 0`, because JS bit operators work on
// signed 32-bit integers and 128.0.0.0 and above would otherwise go negative.

/** An IPv4 CIDR block; `base` has no host bits set. */
export interface Cidr {
  /** The network address, u32. */
  readonly base: number;
  /** Prefix length, 0-32. */
  readonly prefix: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;
const PREFIX = /^(0|[1-9][0-9]?)$/;

/**
 * A dotted quad to its u32, or undefined. Strict: exactly four decimal octets
 * without leading zeros, since inet_aton reads "010" as octal and "10.1" as
 * 10.0.0.1 (RFC 6943 §3.1.1); accepting those would let one text mean two
 * addresses.
 */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!OCTET.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function formatIPv4(addr: number): string {
  return `${(addr >>> 24) & 0xff}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** The netmask of a prefix length as a u32 (prefix 0 is special: a 32-bit shift is a no-op in JS). */
export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0;
}

/**
 * Parse `A.B.C.D/N`. Throws an Error whose message names the input; callers
 * prefix it with the flag or field it came from. Host bits must be zero: a
 * pool written 10.0.0.1/8 is more likely a typo than a wish for 10.0.0.0/8.
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const base = slash < 0 ? undefined : parseIPv4(text.slice(0, slash));
  const prefixText = slash < 0 ? '' : text.slice(slash + 1);
  if (base === undefined || !PREFIX.test(prefixText)) {
    throw new Error(`"${text}" is not an IPv4 CIDR (expected A.B.C.D/N)`);
  }
  const prefix = Number(prefixText);
  if (prefix > 32) throw new Error(`"${text}" has prefix length ${prefix} (expected 0-32)`);
  const network = (base & maskOf(prefix)) >>> 0;
  if (network !== base) {
    throw new Error(`${text} has host bits set (did you mean ${formatCidr({ base: network, prefix })}?)`);
  }
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

/** Number of addresses in the block (2^(32-prefix); exact up to 2^32). */
export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** Whether the u32 address lies in the block. */
export function contains(c: Cidr, addr: number): boolean {
  return ((addr ^ c.base) & maskOf(c.prefix)) >>> 0 === 0;
}

/**
 * Whether two blocks share any address. CIDR blocks nest or are disjoint, so
 * they overlap exactly when they agree on the shorter of the two prefixes.
 */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return ((a.base ^ b.base) & maskOf(Math.min(a.prefix, b.prefix))) >>> 0 === 0;
}
