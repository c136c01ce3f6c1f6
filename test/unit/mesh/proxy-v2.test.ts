// The PROXY protocol v2 header (agent/mesh/proxy-v2.ts, issue 10): golden
// bytes written out by hand from HAProxy's proxy-protocol.txt §2.2, round
// trips, every prefix of a valid header incomplete, and bad headers refused.
import { suite, equal, is, ok, throws } from '../../harness.js';
import { encodeProxyV2, parseProxyV2, ProxyHeaderError, PROXY_V2_SIGNATURE, PROXY_V2_MAX_BYTES } from '../../../agent/mesh/proxy-v2.js';

const t = suite('mesh/proxy-v2');

const hex = (s: string): Uint8Array => Uint8Array.from((s.replace(/\s+/g, '').match(/../g) ?? []).map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const cat = (...bs: Uint8Array[]): Uint8Array => Uint8Array.from(bs.flatMap((b) => [...b]));

// §2.2: signature, 0x21 (version 2, PROXY), 0x11 (AF_INET, STREAM), length 12,
// then 192.0.2.1, 198.51.100.7, source port 56324 (0xdc04), destination 443.
const TCP4 = hex(`
  0d0a0d0a 000d0a51 5549540a
  21 11 000c
  c0000201 c6336407 dc04 01bb`);
const TCP4_HEADER = { command: 'proxy', family: 'tcp4', source: { address: '192.0.2.1', port: 56324 }, destination: { address: '198.51.100.7', port: 443 } };

// §2.2: 0x21 (AF_INET6, STREAM), length 36, then 2001:db8::1, 2001:db8:0:1::80,
// source port 40000 (0x9c40), destination port 8080 (0x1f90).
const TCP6 = hex(`
  0d0a0d0a 000d0a51 5549540a
  21 21 0024
  20010db8 00000000 00000000 00000001
  20010db8 00000001 00000000 00000080
  9c40 1f90`);
const TCP6_HEADER = { command: 'proxy', family: 'tcp6', source: { address: '2001:db8::1', port: 40000 }, destination: { address: '2001:db8:0:1::80', port: 8080 } };

// §2.2: 0x20 (version 2, LOCAL), family UNSPEC, no address block.
const LOCAL = hex('0d0a0d0a 000d0a51 5549540a 20 00 0000');

t('golden IPv4 (TCP4) header, both ways', () => {
  is(toHex(encodeProxyV2({ source: TCP4_HEADER.source, destination: TCP4_HEADER.destination })), toHex(TCP4));
  equal(parseProxyV2(TCP4), { header: TCP4_HEADER, length: 28 });
});

t('golden IPv6 (TCP6) header, both ways', () => {
  is(toHex(encodeProxyV2({ source: TCP6_HEADER.source, destination: TCP6_HEADER.destination })), toHex(TCP6));
  equal(parseProxyV2(TCP6), { header: TCP6_HEADER, length: 52 });
});

t('LOCAL: accepted with no addresses, whatever the family byte says (§2.2)', () => {
  equal(parseProxyV2(LOCAL), { header: { command: 'local', family: 'unspec' }, length: 16 });
  const withBlock = cat(hex('0d0a0d0a 000d0a51 5549540a 20 11 000c'), new Uint8Array(12));
  equal(parseProxyV2(withBlock), { header: { command: 'local', family: 'unspec' }, length: 28 });
  equal(parseProxyV2(hex('0d0a0d0a 000d0a51 5549540a 20 ff 0000')), { header: { command: 'local', family: 'unspec' }, length: 16 });
});

t('UDP and UNSPEC families read; UNIX reads as unspec without addresses', () => {
  const udp4 = TCP4.slice();
  udp4[13] = 0x12;
  equal(parseProxyV2(udp4), { header: { ...TCP4_HEADER, family: 'udp4' }, length: 28 });
  const udp6 = TCP6.slice();
  udp6[13] = 0x22;
  equal(parseProxyV2(udp6), { header: { ...TCP6_HEADER, family: 'udp6' }, length: 52 });
  equal(parseProxyV2(hex('0d0a0d0a 000d0a51 5549540a 21 00 0000')), { header: { command: 'proxy', family: 'unspec' }, length: 16 });
  const unix = cat(hex('0d0a0d0a 000d0a51 5549540a 21 31 00d8'), new Uint8Array(216));
  equal(parseProxyV2(unix), { header: { command: 'proxy', family: 'unspec' }, length: 232 });
});

t('every proper prefix of a valid header is incomplete', () => {
  for (const h of [TCP4, TCP6, LOCAL]) {
    for (let n = 0; n < h.length; n++) is(parseProxyV2(h.subarray(0, n)), 'incomplete', `prefix of ${n} of ${h.length} bytes`);
    ok(parseProxyV2(h) !== 'incomplete');
  }
});

t('the payload after the header is left alone: length is the header only', () => {
  const payload = new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n');
  equal(parseProxyV2(cat(TCP4, payload)), { header: TCP4_HEADER, length: TCP4.length });
  equal(parseProxyV2(cat(TCP6, payload)), { header: TCP6_HEADER, length: TCP6.length });
});

t('TLVs after the addresses are skipped (§2.2.7): counted in length, not read', () => {
  // PP2_TYPE_NOOP (0x04) with 3 bytes, then PP2_TYPE_AUTHORITY (0x02) "a.b": 12 + 6 + 6 = 24 = 0x18.
  const h = cat(hex('0d0a0d0a 000d0a51 5549540a 21 11 0018'), TCP4.subarray(16), hex('04 0003 616263'), hex('02 0003 612e62'));
  equal(parseProxyV2(cat(h, hex('ffff'))), { header: TCP4_HEADER, length: 40 });
  for (let n = 0; n < h.length; n++) is(parseProxyV2(h.subarray(0, n)), 'incomplete');
});

t('round trips: addresses come back as node:net writes them', () => {
  const cases: Array<[string, number, string, number, string]> = [
    ['127.0.0.1', 0, '127.0.0.1', 65535, 'tcp4'],
    ['10.0.0.2', 33000, '255.255.255.255', 80, 'tcp4'],
    ['::1', 1, '::1', 2, 'tcp6'],
    ['fe80::1:2', 5, 'fd00:1:2:3:4:5:6:7', 6, 'tcp6'],
    ['::', 7, '1::', 8, 'tcp6'],
    ['2001:db8::1', 9, '::ffff:10.0.0.1', 10, 'tcp6'],
  ];
  for (const [sa, sp, da, dp, family] of cases) {
    const b = encodeProxyV2({ source: { address: sa, port: sp }, destination: { address: da, port: dp } });
    equal(parseProxyV2(b), { header: { command: 'proxy', family, source: { address: sa, port: sp }, destination: { address: da, port: dp } }, length: b.length });
  }
});

t('IPv4-mapped IPv6 is sent as TCP4 when both ends are IPv4 (a dual-stack socket reports them so)', () => {
  const want = toHex(TCP4);
  const enc = (s: string, d: string) => toHex(encodeProxyV2({ source: { address: s, port: 56324 }, destination: { address: d, port: 443 } }));
  is(enc('::ffff:192.0.2.1', '::ffff:198.51.100.7'), want);
  is(enc('::FFFF:192.0.2.1', '198.51.100.7'), want);
  is(enc('192.0.2.1', '0:0:0:0:0:ffff:c633:6407'), want);
});

t('IPv6 written with a zone: the zone is dropped (the header cannot carry it)', () => {
  const b = encodeProxyV2({ source: { address: 'fe80::1%eth0', port: 1 }, destination: { address: 'fe80::2', port: 2 } });
  const p = parseProxyV2(b);
  ok(p !== 'incomplete');
  is(p.header.source?.address, 'fe80::1');
});

t('encode refuses bad input with one RangeError naming the argument', () => {
  const enc = (sa: unknown, sp: unknown, da: unknown, dp: unknown) => () =>
    encodeProxyV2({ source: { address: sa as string, port: sp as number }, destination: { address: da as string, port: dp as number } });
  throws(enc('1.2.3.4', 1, '2001:db8::1', 2), (e: Error) => e instanceof RangeError && /source "1.2.3.4" and destination "2001:db8::1" are of different address families/.test(e.message));
  throws(enc('2001:db8::1', 1, '1.2.3.4', 2), /different address families/);
  throws(enc('1.2.3', 1, '1.2.3.4', 2), (e: Error) => e instanceof RangeError && /source address: expected an IPv4 or IPv6 address, got "1.2.3"/.test(e.message));
  throws(enc('1.2.3.4', 1, 'example.com', 2), /destination address: expected an IPv4 or IPv6 address, got "example.com"/);
  throws(enc(undefined, 1, '1.2.3.4', 2), /source address: expected an IPv4 or IPv6 address, got undefined/);
  throws(enc('1.2.3.4', 65536, '1.2.3.4', 2), /source port: expected an integer from 0 to 65535, got 65536/);
  throws(enc('1.2.3.4', 1, '1.2.3.4', 1.5), /destination port: expected an integer from 0 to 65535, got 1.5/);
  throws(enc('1.2.3.4', -1, '1.2.3.4', 1), /source port/);
});

t('encode of mapped next to real IPv6 stays TCP6', () => {
  const b = encodeProxyV2({ source: { address: '2001:db8::1', port: 1 }, destination: { address: '::ffff:1.2.3.4', port: 2 } });
  is(b[13], 0x21);
  is(b.length, 52);
});

const headerError = (re: RegExp) => (e: Error) => e instanceof ProxyHeaderError && e.code === 'EPROXYHEADER' && re.test(e.message);

t('bad signature: refused on the first wrong byte, so a stream without a header fails at once', () => {
  throws(() => parseProxyV2(new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n')), headerError(/bad signature at byte 0: expected 0x0d, got 0x47/));
  throws(() => parseProxyV2(new TextEncoder().encode('G')), headerError(/bad signature at byte 0/));
  throws(() => parseProxyV2(new TextEncoder().encode('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n')), headerError(/bad signature at byte 0/), 'a v1 header is not a v2 one');
  const b = TCP4.slice();
  b[11] = 0x0b;
  throws(() => parseProxyV2(b), headerError(/bad signature at byte 11: expected 0x0a, got 0x0b/));
  throws(() => parseProxyV2(b.subarray(0, 12)), headerError(/byte 11/));
  is(parseProxyV2(PROXY_V2_SIGNATURE), 'incomplete');
});

t('bad version or command: refused as soon as byte 12 is in (§2.2)', () => {
  const at12 = (v: number) => cat(PROXY_V2_SIGNATURE, Uint8Array.of(v));
  throws(() => parseProxyV2(at12(0x11)), headerError(/expected version 2, got 1/));
  throws(() => parseProxyV2(at12(0x31)), headerError(/expected version 2, got 3/));
  throws(() => parseProxyV2(at12(0x22)), headerError(/expected command 0 \(LOCAL\) or 1 \(PROXY\), got 2/));
  throws(() => parseProxyV2(at12(0x2f)), headerError(/got 15/));
});

t('bad family or a length short of its addresses: refused', () => {
  for (const f of [0x01, 0x10, 0x13, 0x20, 0x23, 0x30, 0x41, 0xff]) {
    throws(() => parseProxyV2(cat(PROXY_V2_SIGNATURE, Uint8Array.of(0x21, f))), headerError(/unknown address family and protocol 0x/), `family 0x${f.toString(16)}`);
  }
  throws(() => parseProxyV2(hex('0d0a0d0a 000d0a51 5549540a 21 11 000b')), headerError(/family 0x11 needs 12 address bytes, the length says 11/));
  throws(() => parseProxyV2(hex('0d0a0d0a 000d0a51 5549540a 21 21 000c')), headerError(/family 0x21 needs 36 address bytes, the length says 12/));
  throws(() => parseProxyV2(hex('0d0a0d0a 000d0a51 5549540a 21 31 0024')), headerError(/family 0x31 needs 216/));
});

t('the longest header: a u16 length is waited for, then accepted', () => {
  const h = new Uint8Array(PROXY_V2_MAX_BYTES);
  h.set(hex('0d0a0d0a 000d0a51 5549540a 21 11 ffff'));
  is(parseProxyV2(h.subarray(0, PROXY_V2_MAX_BYTES - 1)), 'incomplete');
  const p = parseProxyV2(h);
  ok(p !== 'incomplete');
  is(p.length, PROXY_V2_MAX_BYTES);
  equal(p.header.source, { address: '0.0.0.0', port: 0 });
});

t.run();
