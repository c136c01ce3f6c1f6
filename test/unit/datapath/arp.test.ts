// ARP for IPv4 over Ethernet inside a VXLAN datagram (agent/datapath/arp.ts):
// a request and the full reply datagram as golden bytes written out by hand
// (RFC 826 packet format, RFC 7348 §5 header), what counts as a request, and
// the builder's validation.
import { suite, equal, is, ok, throws } from '../../harness.js';
import {
  ARP_DATAGRAM_BYTES, ARP_HLEN_OFFSET, ARP_HTYPE_OFFSET, ARP_INVALID, ARP_NOT_REQUEST, ARP_OFFSET, ARP_OPER_OFFSET, ARP_OP_REPLY, ARP_OP_REQUEST,
  ARP_PACKET_BYTES, ARP_PLEN_OFFSET, ARP_PTYPE_OFFSET, ARP_REQUEST, ARP_SHA_OFFSET, ARP_SPA_OFFSET, ARP_THA_OFFSET, ARP_TPA_OFFSET, MAC48_BROADCAST,
  answerArpRequest, classifyArp, encodeArpDatagram, parseArpDatagram, parseArpRequest, readArpTargetIp,
} from '../../../agent/datapath/arp.js';
import { ETH_HEADER_BYTES, VXLAN_HEADER_BYTES } from '../../../agent/datapath/vxlan-frame.js';

const t = suite('datapath arp');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

// 10.0.1.2 (02:42:0a:00:01:02) asks, on VNI 4097, who has 10.0.1.5.
const REQUEST = bytes(
  '08 000000' + //        VXLAN flags: I | reserved                      (RFC 7348 §5)
    '001001 00' + //      VNI 4097 | reserved
    'ffffffffffff' + //   Ethernet dst: broadcast
    '02420a000102' + //   Ethernet src: the requester
    '0806' + //           EtherType: ARP
    '0001' + //           ar$hrd: Ethernet                                (RFC 826)
    '0800' + //           ar$pro: IPv4
    '06' + //             ar$hln
    '04' + //             ar$pln
    '0001' + //           ar$op: request
    '02420a000102' + //   ar$sha: requester's MAC
    '0a000102' + //       ar$spa: 10.0.1.2
    '000000000000' + //   ar$tha: unknown
    '0a000105', //        ar$tpa: 10.0.1.5, the address asked about
);

// The answer for peer 10.0.1.5 = 02:42:0a:00:01:05.
const REPLY = bytes(
  '08 000000' + //        VXLAN flags: I | reserved
    '001001 00' + //      VNI 4097 | reserved
    '02420a000102' + //   Ethernet dst: the requester's sha
    '02420a000105' + //   Ethernet src: the peer
    '0806' + //           EtherType: ARP
    '0001' + //           ar$hrd: Ethernet
    '0800' + //           ar$pro: IPv4
    '06' + //             ar$hln
    '04' + //             ar$pln
    '0002' + //           ar$op: reply
    '02420a000105' + //   ar$sha: the peer's MAC, the answer
    '0a000105' + //       ar$spa: 10.0.1.5
    '02420a000102' + //   ar$tha: the requester's MAC
    '0a000102', //        ar$tpa: the requester's IP
);

t('layout constants add up (RFC 826 for hrd Ethernet, pro IPv4)', () => {
  is(ARP_OFFSET, VXLAN_HEADER_BYTES + ETH_HEADER_BYTES);
  is(ARP_HTYPE_OFFSET, 0);
  is(ARP_PTYPE_OFFSET, 2);
  is(ARP_HLEN_OFFSET, 4);
  is(ARP_PLEN_OFFSET, 5);
  is(ARP_OPER_OFFSET, 6);
  is(ARP_SHA_OFFSET, 8);
  is(ARP_SPA_OFFSET, ARP_SHA_OFFSET + 6);
  is(ARP_THA_OFFSET, ARP_SPA_OFFSET + 4);
  is(ARP_TPA_OFFSET, ARP_THA_OFFSET + 6);
  is(ARP_PACKET_BYTES, ARP_TPA_OFFSET + 4);
  is(ARP_DATAGRAM_BYTES, ARP_OFFSET + ARP_PACKET_BYTES);
  is(REQUEST.length, ARP_DATAGRAM_BYTES);
  is(REPLY.length, ARP_DATAGRAM_BYTES);
});

t('golden: the reply datagram to the hand-written request', () => {
  is(classifyArp(REQUEST, REQUEST.length), ARP_REQUEST);
  is(readArpTargetIp(REQUEST), 0x0a00_0105);
  const reply = answerArpRequest(REQUEST, 4097, 0x0242_0a00_0105, 0x0a00_0105);
  is(hex(reply), hex(REPLY));
  is(classifyArp(reply, reply.length), ARP_NOT_REQUEST);
});

t('golden: the request and the reply from the general encoder', () => {
  const req = encodeArpDatagram(4097, {
    op: ARP_OP_REQUEST, ethDst: MAC48_BROADCAST, ethSrc: 0x0242_0a00_0102,
    senderMac: 0x0242_0a00_0102, senderIp: 0x0a00_0102, targetMac: 0, targetIp: 0x0a00_0105,
  });
  is(hex(req), hex(REQUEST));
  const rep = encodeArpDatagram(4097, {
    op: ARP_OP_REPLY, ethDst: 0x0242_0a00_0102, ethSrc: 0x0242_0a00_0105,
    senderMac: 0x0242_0a00_0105, senderIp: 0x0a00_0105, targetMac: 0x0242_0a00_0102, targetIp: 0x0a00_0102,
  });
  is(hex(rep), hex(REPLY));
});

t('parse: the request and the reply as text', () => {
  const req = {
    vni: 4097, op: 1, ethDst: 'ff:ff:ff:ff:ff:ff', ethSrc: '02:42:0a:00:01:02',
    senderMac: '02:42:0a:00:01:02', senderIp: '10.0.1.2', targetMac: '00:00:00:00:00:00', targetIp: '10.0.1.5',
  };
  equal(parseArpRequest(REQUEST), req);
  equal(parseArpDatagram(REQUEST), req);
  equal(parseArpDatagram(REPLY), {
    vni: 4097, op: 2, ethDst: '02:42:0a:00:01:02', ethSrc: '02:42:0a:00:01:05',
    senderMac: '02:42:0a:00:01:05', senderIp: '10.0.1.5', targetMac: '02:42:0a:00:01:02', targetIp: '10.0.1.2',
  });
  is(parseArpRequest(REPLY), undefined, 'a reply is not a request');
});

t('the reply answers whatever sha/spa the request carried, even when the Ethernet src differs (Linux arp_reduce does the same)', () => {
  const req = Uint8Array.from(REQUEST);
  req.set(bytes('02420a0001aa'), 14); // Ethernet src changed, ar$sha kept
  const reply = answerArpRequest(req, 4097, 0x0242_0a00_0105, 0x0a00_0105);
  is(hex(reply), hex(REPLY));
});

t('Ethernet padding after the 28-byte packet is ignored (a request padded to 60 bytes)', () => {
  const padded = new Uint8Array(VXLAN_HEADER_BYTES + 60);
  padded.set(REQUEST);
  is(classifyArp(padded, padded.length), ARP_REQUEST);
  equal(parseArpRequest(padded)?.targetIp, '10.0.1.5');
});

t('not IPv4-over-Ethernet ARP: invalid, field by field', () => {
  const bad = (what: string, at: number, v: number) => {
    const b = Uint8Array.from(REQUEST);
    b[at] = v;
    is(classifyArp(b, b.length), ARP_INVALID, what);
    is(parseArpDatagram(b), undefined, what);
  };
  bad('htype 6 (IEEE 802)', ARP_OFFSET + ARP_HTYPE_OFFSET + 1, 6);
  bad('htype 0x0101', ARP_OFFSET + ARP_HTYPE_OFFSET, 1);
  bad('ptype 0x86dd', ARP_OFFSET + ARP_PTYPE_OFFSET, 0x86);
  bad('hlen 8', ARP_OFFSET + ARP_HLEN_OFFSET, 8);
  bad('plen 16', ARP_OFFSET + ARP_PLEN_OFFSET, 16);
  bad('EtherType IPv4', 21, 0x00);
  bad('I flag clear', 0, 0x00);
  for (let len = 0; len < ARP_DATAGRAM_BYTES; len++) is(classifyArp(REQUEST, len), ARP_INVALID, `truncated to ${len}`);
  is(classifyArp(REQUEST, ARP_DATAGRAM_BYTES + 1), ARP_INVALID, 'len past the buffer');
  is(parseArpDatagram(undefined as never), undefined, 'never throws');
});

t('operations other than request: well-formed, not requests (RARP 3, 4; InARP 8, 9; 0)', () => {
  for (const op of [0, 2, 3, 4, 8, 9, 0x0101]) {
    const b = Uint8Array.from(REQUEST);
    b[ARP_OFFSET + ARP_OPER_OFFSET] = op >>> 8;
    b[ARP_OFFSET + ARP_OPER_OFFSET + 1] = op & 0xff;
    is(classifyArp(b, b.length), ARP_NOT_REQUEST, `op ${op}`);
    is(parseArpDatagram(b)?.op, op);
    is(parseArpRequest(b), undefined);
  }
});

t('encodeArpDatagram validates with exact messages', () => {
  const ok0 = { op: 1, ethDst: 0, ethSrc: 0, senderMac: 0, senderIp: 0, targetMac: 0, targetIp: 0 };
  ok(encodeArpDatagram(0, ok0).length === ARP_DATAGRAM_BYTES);
  const msg = (f: () => unknown, m: string) => throws(f, (e: Error) => e instanceof RangeError && e.message === m);
  msg(() => encodeArpDatagram(2 ** 24, ok0), 'encodeArpDatagram: vni must be an integer in 0..16777215, got 16777216');
  msg(() => encodeArpDatagram(1, { ...ok0, op: 3 }), 'encodeArpDatagram: op must be 1 (request) or 2 (reply), got 3');
  msg(() => encodeArpDatagram(1, { ...ok0, ethDst: 2 ** 48 }), 'encodeArpDatagram: ethDst must be a 48-bit integer, got 281474976710656');
  msg(() => encodeArpDatagram(1, { ...ok0, senderMac: -1 }), 'encodeArpDatagram: senderMac must be a 48-bit integer, got -1');
  msg(() => encodeArpDatagram(1, { ...ok0, targetIp: 2 ** 32 }), 'encodeArpDatagram: targetIp must be an integer in 0..2^32-1, got 4294967296');
  msg(() => encodeArpDatagram(1, { ...ok0, senderIp: 1.5 }), 'encodeArpDatagram: senderIp must be an integer in 0..2^32-1, got 1.5');
});

t.run();
