// The VXLAN datagram layout (agent/datapath/vxlan-frame.ts): golden header
// bytes (RFC 7348 §5), the receive rules (only the I flag matters), the
// inner Ethernet fields as numbers, and the validation messages.
import { suite, equal, is, ok, throws } from '../../harness.js';
import {
  ETH_HEADER_BYTES, ETHERTYPE_ARP, INNER_DST_OFFSET, INNER_ETHERTYPE_OFFSET, INNER_PAYLOAD_OFFSET, INNER_SRC_OFFSET, MAC_BYTES, VXLAN_FLAG_I,
  VXLAN_HEADER_BYTES, VXLAN_MIN_DATAGRAM_BYTES, VXLAN_UDP_PORT, VXLAN_VNI_MAX, VXLAN_VNI_OFFSET, checkVni, encodeVxlanHeader, formatMac48,
  isGroupDestination, isVni, isVxlanDatagram, parseMac48, parseVxlanFrame, readEthertype, readMac48, readU32, readVni, writeMac48, writeU32,
  writeVxlanHeader,
} from '../../../agent/datapath/vxlan-frame.js';

const t = suite('datapath vxlan frame');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

// A datagram written out by hand: VNI 4097, ff:ff:ff:ff:ff:ff <- 02:42:0a:00:01:02, IPv4, 4 payload bytes.
const SAMPLE = bytes(
  '08 000000' + //        flags (I) | reserved
    '001001 00' + //      VNI 4097 = 0x001001 | reserved
    'ffffffffffff' + //   inner dst: broadcast
    '02420a000102' + //   inner src
    '0800' + //           EtherType IPv4
    'deadbeef', //        payload
);

t('layout constants add up (RFC 7348 §5: an 8-byte header, then the inner frame)', () => {
  is(VXLAN_UDP_PORT, 4789);
  is(VXLAN_HEADER_BYTES, 8);
  is(VXLAN_VNI_OFFSET, 4);
  is(VXLAN_FLAG_I, 0x08);
  is(VXLAN_VNI_MAX, 2 ** 24 - 1);
  is(ETH_HEADER_BYTES, 2 * MAC_BYTES + 2);
  is(INNER_DST_OFFSET, VXLAN_HEADER_BYTES);
  is(INNER_SRC_OFFSET, INNER_DST_OFFSET + MAC_BYTES);
  is(INNER_ETHERTYPE_OFFSET, INNER_SRC_OFFSET + MAC_BYTES);
  is(INNER_PAYLOAD_OFFSET, VXLAN_HEADER_BYTES + ETH_HEADER_BYTES);
  is(VXLAN_MIN_DATAGRAM_BYTES, INNER_PAYLOAD_OFFSET);
});

t('golden header bytes: VNI 4097 is 08 00 00 00 00 10 01 00', () => {
  is(hex(encodeVxlanHeader(4097)), '0800000000100100');
  is(hex(encodeVxlanHeader(0)), '0800000000000000');
  is(hex(encodeVxlanHeader(VXLAN_VNI_MAX)), '08000000ffffff00');
  is(hex(encodeVxlanHeader(0x123456)), '0800000012345600');
  const b = new Uint8Array(12).fill(0xee);
  writeVxlanHeader(b, 2, 4097);
  is(hex(b), 'eeee' + '0800000000100100' + 'eeee', 'writes exactly 8 bytes at the offset');
});

t('the hand-written sample reads back field by field', () => {
  ok(isVxlanDatagram(SAMPLE, SAMPLE.length));
  is(readVni(SAMPLE), 4097);
  is(readMac48(SAMPLE, INNER_DST_OFFSET), 0xffff_ffff_ffff);
  is(readMac48(SAMPLE, INNER_SRC_OFFSET), 0x0242_0a00_0102);
  is(readEthertype(SAMPLE), 0x0800);
  ok(isGroupDestination(SAMPLE));
  equal(parseVxlanFrame(SAMPLE), { vni: 4097, dst: 'ff:ff:ff:ff:ff:ff', src: '02:42:0a:00:01:02', ethertype: 0x0800, group: true, payloadBytes: 4 });
  equal(parseVxlanFrame(SAMPLE, 22)?.payloadBytes, 0, 'len bounds what is read');
});

t('RFC 7348 §5: only the I flag is checked; reserved bits and fields are ignored on receipt', () => {
  const b = Uint8Array.from(SAMPLE);
  b[0] = 0xff; // every R bit set, I set
  b[1] = b[2] = b[3] = b[7] = 0xaa; // reserved fields
  ok(isVxlanDatagram(b, b.length));
  is(readVni(b), 4097);
  b[0] = 0xff & ~VXLAN_FLAG_I;
  ok(!isVxlanDatagram(b, b.length), 'I flag clear');
  is(parseVxlanFrame(b), undefined);
});

t('length rules: 22..buf.length, integers only', () => {
  ok(isVxlanDatagram(SAMPLE, 22));
  ok(!isVxlanDatagram(SAMPLE, 21), 'shorter than VXLAN + Ethernet headers');
  ok(!isVxlanDatagram(SAMPLE, SAMPLE.length + 1), 'len past the buffer');
  for (const len of [-1, 22.5, NaN, Infinity, 2 ** 32 + 22]) ok(!isVxlanDatagram(SAMPLE, len), `len ${len}`);
  ok(!isVxlanDatagram(new Uint8Array(0), 0));
  is(parseVxlanFrame(SAMPLE.subarray(0, 21)), undefined);
  is(parseVxlanFrame('nope' as never), undefined, 'never throws, whatever it is given');
  is(parseVxlanFrame(undefined as never), undefined);
});

t('group bit (IEEE 802 I/G, LSB of the first octet): broadcast and multicast, not unicast', () => {
  const dst = (mac: string) => {
    const b = Uint8Array.from(SAMPLE);
    writeMac48(b, INNER_DST_OFFSET, parseMac48(mac)!);
    return isGroupDestination(b);
  };
  ok(dst('ff:ff:ff:ff:ff:ff'));
  ok(dst('01:00:5e:00:00:fb'), 'IPv4 multicast (RFC 1112 §6.4)');
  ok(dst('33:33:00:00:00:01'), 'IPv6 multicast (RFC 2464 §7)');
  ok(!dst('02:42:0a:00:01:05'));
  ok(!dst('00:00:00:00:00:00'));
});

t('MACs as 48-bit numbers: read, write, text, both ends of the range', () => {
  is(parseMac48('02:42:0a:00:01:05'), 0x0242_0a00_0105);
  is(parseMac48('FF:FF:FF:FF:FF:FF'), 2 ** 48 - 1, 'upper case accepted');
  is(formatMac48(0x0242_0a00_0105), '02:42:0a:00:01:05');
  is(formatMac48(0), '00:00:00:00:00:00');
  is(formatMac48(2 ** 48 - 1), 'ff:ff:ff:ff:ff:ff');
  const bads = ['02:42:0a:00:01', '02:42:0a:00:01:05:06', '0242.0a00.0105', '02-42-0a-00-01-05', '02:42:0a:00:01:5', ' 02:42:0a:00:01:05', '', 5 as never];
  for (const bad of bads) {
    is(parseMac48(bad), undefined, `parseMac48(${JSON.stringify(bad)})`);
  }
  const b = new Uint8Array(8);
  for (const m of [0, 1, 0xff, 0x0100_0000_0000, 0x0242_ac11_0002, 0xfe_dc_ba_98_76_54, 2 ** 48 - 1]) {
    writeMac48(b, 1, m);
    is(readMac48(b, 1), m, formatMac48(m));
    is(b[0], 0);
    is(b[7], 0);
  }
  writeMac48(b, 1, 0x0102_0304_0506);
  is(hex(b), '00010203040506' + '00', 'big-endian');
});

t('u32 (IPv4 addresses) read and write big-endian, above 2^31 unsigned', () => {
  const b = new Uint8Array(4);
  writeU32(b, 0, 0xc0a8_0001);
  is(hex(b), 'c0a80001');
  is(readU32(b, 0), 0xc0a8_0001);
  writeU32(b, 0, 0xffff_ffff);
  is(readU32(b, 0), 0xffff_ffff);
});

t('VNI validation: integers 0..2^24-1, exact messages', () => {
  ok(isVni(0) && isVni(4096) && isVni(VXLAN_VNI_MAX));
  for (const v of [-1, 2 ** 24, 1.5, NaN, '4097', undefined]) ok(!isVni(v), String(v));
  is(checkVni('f', 7), 7);
  const msg = (f: () => unknown, m: string) => throws(f, (e: Error) => e instanceof RangeError && e.message === m);
  msg(() => encodeVxlanHeader(2 ** 24), 'encodeVxlanHeader: vni must be an integer in 0..16777215, got 16777216');
  msg(() => encodeVxlanHeader(-1), 'encodeVxlanHeader: vni must be an integer in 0..16777215, got -1');
  msg(() => checkVni('addNetwork', 1.5), 'addNetwork: vni must be an integer in 0..16777215, got 1.5');
});

t('EtherType read from offset 20', () => {
  const b = Uint8Array.from(SAMPLE);
  b[INNER_ETHERTYPE_OFFSET] = ETHERTYPE_ARP >>> 8;
  b[INNER_ETHERTYPE_OFFSET + 1] = ETHERTYPE_ARP & 0xff;
  is(readEthertype(b), 0x0806);
});

t.run();
