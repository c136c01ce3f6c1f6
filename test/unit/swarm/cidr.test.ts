import { suite, is, equal, throws } from '../../harness.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import { contains, formatCidr, formatIPv4, maskOf, overlaps, parseCidr, parseIPv4, size, type Cidr } from '../../../agent/swarm/cidr.js';

const t = suite('swarm/cidr');

t('parseIPv4 / formatIPv4: valid dotted quads round-trip, high bit included', () => {
  const table: [string, number][] = [
    ['0.0.0.0', 0],
    ['10.0.0.1', 0x0a000001],
    ['127.0.0.1', 0x7f000001],
    ['128.0.0.0', 0x80000000],
    ['192.168.1.200', 0xc0a801c8],
    ['255.255.255.255', 0xffffffff],
  ];
  for (const [text, n] of table) {
    is(parseIPv4(text), n, text);
    is(formatIPv4(n), text, text);
  }
});

t('parseIPv4 refuses everything but four decimal octets without leading zeros', () => {
  for (const text of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '010.0.0.1', '1.2.3.04', '0x1.2.3.4', '1.2.3.-4', ' 1.2.3.4', '1.2.3.4 ', '1..3.4', '1.2.3.4/8', 'fd00::1', '1e2.0.0.1']) {
    is(parseIPv4(text), undefined, JSON.stringify(text));
  }
});

t('maskOf: edges, including /0 where a 32-bit shift would be a no-op', () => {
  equal([0, 1, 8, 24, 31, 32].map(maskOf), [0, 0x80000000, 0xff000000, 0xffffff00, 0xfffffffe, 0xffffffff]);
});

t('parseCidr / formatCidr / size on valid blocks', () => {
  const table: [string, number, number, number][] = [
    ['0.0.0.0/0', 0, 0, 2 ** 32],
    ['10.0.0.0/8', 0x0a000000, 8, 2 ** 24],
    ['128.0.0.0/1', 0x80000000, 1, 2 ** 31],
    ['192.168.1.128/25', 0xc0a80180, 25, 128],
    ['255.255.255.255/32', 0xffffffff, 32, 1],
  ];
  for (const [text, base, prefix, n] of table) {
    const c = parseCidr(text);
    equal(c, { base, prefix }, text);
    is(formatCidr(c), text);
    is(size(c), n, text);
  }
});

t('parseCidr errors, exact', () => {
  const table: [string, string][] = [
    ['10.0.0.0', '"10.0.0.0" is not an IPv4 CIDR (expected A.B.C.D/N)'],
    ['10.0.0/8', '"10.0.0/8" is not an IPv4 CIDR (expected A.B.C.D/N)'],
    ['10.0.0.0/', '"10.0.0.0/" is not an IPv4 CIDR (expected A.B.C.D/N)'],
    ['10.0.0.0/08', '"10.0.0.0/08" is not an IPv4 CIDR (expected A.B.C.D/N)'],
    ['10.0.0.0/8/8', '"10.0.0.0/8/8" is not an IPv4 CIDR (expected A.B.C.D/N)'],
    ['10.0.0.0/-1', '"10.0.0.0/-1" is not an IPv4 CIDR (expected A.B.C.D/N)'],
    ['fd00::/8', '"fd00::/8" is not an IPv4 CIDR (expected A.B.C.D/N)'],
    ['10.0.0.0/33', '"10.0.0.0/33" has prefix length 33 (expected 0-32)'],
    ['10.0.0.1/8', '10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)'],
    ['192.168.1.130/25', '192.168.1.130/25 has host bits set (did you mean 192.168.1.128/25?)'],
    ['1.0.0.0/0', '1.0.0.0/0 has host bits set (did you mean 0.0.0.0/0?)'],
  ];
  for (const [text, message] of table) throws(() => parseCidr(text), (e: Error) => e.message === message, `${text} -> ${message}`);
});

t('contains and overlaps on hand-picked blocks', () => {
  const c = (s: string) => parseCidr(s);
  const ip = (s: string) => parseIPv4(s)!;
  const inside: [string, string, boolean][] = [
    ['10.0.0.0/8', '10.255.255.255', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['192.168.1.128/25', '192.168.1.127', false],
    ['192.168.1.128/25', '192.168.1.128', true],
    ['128.0.0.0/1', '255.255.255.255', true],
    ['128.0.0.0/1', '127.255.255.255', false],
    ['0.0.0.0/0', '255.255.255.255', true],
    ['1.2.3.4/32', '1.2.3.4', true],
    ['1.2.3.4/32', '1.2.3.5', false],
  ];
  for (const [block, addr, want] of inside) is(contains(c(block), ip(addr)), want, `${block} contains ${addr}`);
  const pairs: [string, string, boolean][] = [
    ['10.0.0.0/8', '10.1.0.0/16', true],
    ['10.0.0.0/8', '11.0.0.0/8', false],
    ['10.0.0.0/8', '10.0.0.0/8', true],
    ['0.0.0.0/0', '255.255.255.255/32', true],
    ['192.168.0.0/24', '192.168.1.0/24', false],
    ['192.168.0.0/23', '192.168.1.0/24', true],
    ['128.0.0.0/1', '0.0.0.0/1', false],
  ];
  for (const [a, b, want] of pairs) {
    is(overlaps(c(a), c(b)), want, `${a} overlaps ${b}`);
    is(overlaps(c(b), c(a)), want, `${b} overlaps ${a}`);
  }
});

/** A random block with the given prefix, base inside `region` when given. */
function randomCidr(r: Rand, prefix: number, region?: Cidr): Cidr {
  const raw = region ? (region.base | (r.u32() & ~maskOf(region.prefix))) >>> 0 : r.u32();
  return { base: (raw & maskOf(prefix)) >>> 0, prefix };
}

// Dumb twin 1: list every address of both blocks (small blocks only).
function naiveOverlapsByEnumeration(a: Cidr, b: Cidr): boolean {
  const seen = new Set<number>();
  for (let i = 0; i < 2 ** (32 - a.prefix); i++) seen.add(a.base + i);
  for (let i = 0; i < 2 ** (32 - b.prefix); i++) if (seen.has(b.base + i)) return true;
  return false;
}

// Dumb twin 2: closed intervals in plain arithmetic, no bit operators (any size).
function naiveOverlapsByInterval(a: Cidr, b: Cidr): boolean {
  const last = (c: Cidr) => c.base + 2 ** (32 - c.prefix) - 1;
  return a.base <= last(b) && b.base <= last(a);
}

t('overlaps and contains agree with naive twins (seeded; the seed is in every message)', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = seededRand(seed);
    for (let i = 0; i < 300; i++) {
      // Small blocks in a shared /20 so that they collide often; the region
      // itself is anywhere, so half the runs have the top bit set.
      const region = randomCidr(r, 20);
      const a = randomCidr(r, 20 + r.int(13), region);
      const b = randomCidr(r, 20 + r.int(13), region);
      const msg = `seed ${seed}: ${formatCidr(a)} vs ${formatCidr(b)}`;
      is(overlaps(a, b), naiveOverlapsByEnumeration(a, b), msg);
      const addr = (region.base | r.int(2 ** 12)) >>> 0;
      is(contains(a, addr), addr >= a.base && addr < a.base + size(a), `${msg}, addr ${formatIPv4(addr)}`);
      // Any prefix, against the interval twin.
      const x = randomCidr(r, r.int(33));
      const y = r.int(2) === 0 ? randomCidr(r, r.int(33)) : randomCidr(r, x.prefix + r.int(33 - x.prefix), x);
      is(overlaps(x, y), naiveOverlapsByInterval(x, y), `seed ${seed}: ${formatCidr(x)} vs ${formatCidr(y)}`);
    }
  }
});

t.run();
