// ARP (RFC 826) for IPv4 over Ethernet, carried in a VXLAN datagram
// (vxlan-frame.ts). The agent answers requests for remote endpoints from the
// peer table, as the kernel VXLAN device's proxy mode does from static
// neighbour entries in docker's overlay driver, so requests never cross nodes.
//
//   datagram offset 0: VXLAN header (8) | Ethernet dst (6) | src (6) | EtherType 0x0806 (2)
//   datagram offset 22 (ARP_OFFSET), the ARP packet, offsets below relative to it:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-------------------------------+-------------------------------+
//   |  hardware type (htype) = 1    |  protocol type (ptype) 0x0800 |  0
//   +---------------+---------------+-------------------------------+
//   |  hlen = 6     |  plen = 4     |  operation: 1 request, 2 reply|  4
//   +---------------+---------------+-------------------------------+
//   |  sender hardware address (sha, 6 bytes) ...                   |  8
//   +-------------------------------+-------------------------------+
//   |  ... sha                      |  sender protocol address ...  |  12
//   +-------------------------------+-------------------------------+
//   |  ... (spa, 4 bytes)           |  target hardware address ...  |  16
//   +-------------------------------+-------------------------------+
//   |  ... (tha, 6 bytes)                                           |  20
//   +---------------------------------------------------------------+
//   |  target protocol address (tpa, 4 bytes)                       |  24
//   +---------------------------------------------------------------+  28
//
// RFC 826 names the fields ar$hrd, ar$pro, ar$hln, ar$pln, ar$op, ar$sha,
// ar$spa, ar$tha, ar$tpa; all integers are big-endian. Bytes after the 28
// (Ethernet padding to 60) are ignored. A reply is not padded: it never
// crosses a physical link, only the sandbox's VXLAN device, and Linux's own
// proxy reply (drivers/net/vxlan arp_reduce -> arp_create) is not padded
// either. Reply semantics as in Linux's arp_reduce: the Ethernet destination
// and the target hardware address are the requester's sha.
import {
  ETHERTYPE_ARP, INNER_DST_OFFSET, INNER_ETHERTYPE_OFFSET, INNER_PAYLOAD_OFFSET, INNER_SRC_OFFSET, checkVni,
  formatMac48, isVxlanDatagram, readEthertype, readMac48, readU32, readVni, writeMac48, writeU32, writeVxlanHeader,
} from './vxlan-frame.js';
import { formatIPv4 } from '../swarm/cidr.js';

/** Where the ARP packet starts in a VXLAN datagram. */
export const ARP_OFFSET = INNER_PAYLOAD_OFFSET;
/** The ARP packet for IPv4 over Ethernet: 8 + 2 * (6 + 4). */
export const ARP_PACKET_BYTES = 28 as const;
export const ARP_HTYPE_OFFSET = 0 as const;
export const ARP_PTYPE_OFFSET = 2 as const;
export const ARP_HLEN_OFFSET = 4 as const;
export const ARP_PLEN_OFFSET = 5 as const;
export const ARP_OPER_OFFSET = 6 as const;
export const ARP_SHA_OFFSET = 8 as const;
export const ARP_SPA_OFFSET = 14 as const;
export const ARP_THA_OFFSET = 18 as const;
export const ARP_TPA_OFFSET = 24 as const;
/** A VXLAN datagram carrying an unpadded ARP packet: 8 + 14 + 28. */
export const ARP_DATAGRAM_BYTES = 50 as const;

/** IANA ARP parameters: hardware type 1 is Ethernet (RFC 826's ares_hrd$Ethernet). */
export const ARP_HTYPE_ETHERNET = 1 as const;
/** The protocol type is an EtherType: IPv4. */
export const ARP_PTYPE_IPV4 = 0x0800 as const;
export const ARP_HLEN_ETHERNET = 6 as const;
export const ARP_PLEN_IPV4 = 4 as const;
export const ARP_OP_REQUEST = 1 as const;
export const ARP_OP_REPLY = 2 as const;
/** ff:ff:ff:ff:ff:ff as a 48-bit value. */
export const MAC48_BROADCAST = 0xffff_ffff_ffff as const;

/** What classifyArp() found. Numbers, so the forwarder branches without allocating. */
export const ARP_REQUEST = 0 as const;
/** A well-formed IPv4-over-Ethernet ARP packet that is not a request (a reply, an announcement by reply, RARP codes). */
export const ARP_NOT_REQUEST = 1 as const;
/** Not a VXLAN datagram carrying a whole IPv4-over-Ethernet ARP packet (EtherType, length, htype, ptype, hlen or plen wrong). */
export const ARP_INVALID = 2 as const;
export type ArpClass = typeof ARP_REQUEST | typeof ARP_NOT_REQUEST | typeof ARP_INVALID;

/** Sorts bytes [0, len) of buf. Never throws, never allocates. */
export function classifyArp(buf: Uint8Array, len: number): ArpClass {
  if (!isVxlanDatagram(buf, len) || len < ARP_DATAGRAM_BYTES || readEthertype(buf) !== ETHERTYPE_ARP) return ARP_INVALID;
  const a = ARP_OFFSET;
  if (((buf[a + ARP_HTYPE_OFFSET]! << 8) | buf[a + ARP_HTYPE_OFFSET + 1]!) !== ARP_HTYPE_ETHERNET) return ARP_INVALID;
  if (((buf[a + ARP_PTYPE_OFFSET]! << 8) | buf[a + ARP_PTYPE_OFFSET + 1]!) !== ARP_PTYPE_IPV4) return ARP_INVALID;
  if (buf[a + ARP_HLEN_OFFSET] !== ARP_HLEN_ETHERNET || buf[a + ARP_PLEN_OFFSET] !== ARP_PLEN_IPV4) return ARP_INVALID;
  return ((buf[a + ARP_OPER_OFFSET]! << 8) | buf[a + ARP_OPER_OFFSET + 1]!) === ARP_OP_REQUEST ? ARP_REQUEST : ARP_NOT_REQUEST;
}

/** The target protocol address (the IPv4 address asked about) of an ARP packet in a datagram, as a u32. */
export function readArpTargetIp(buf: Uint8Array): number {
  return readU32(buf, ARP_OFFSET + ARP_TPA_OFFSET);
}

/** The fields of an ARP datagram, addresses as numbers (MACs 48-bit, IPv4 u32). */
export interface ArpFields {
  op: number;
  /** Ethernet header destination and source. */
  ethDst: number;
  ethSrc: number;
  senderMac: number;
  senderIp: number;
  targetMac: number;
  targetIp: number;
}

/** Writes an ARP datagram for vni into out[0, ARP_DATAGRAM_BYTES). */
function writeArpDatagram(out: Uint8Array, vni: number, f: ArpFields): void {
  writeVxlanHeader(out, 0, vni);
  writeMac48(out, INNER_DST_OFFSET, f.ethDst);
  writeMac48(out, INNER_SRC_OFFSET, f.ethSrc);
  out[INNER_ETHERTYPE_OFFSET] = ETHERTYPE_ARP >>> 8;
  out[INNER_ETHERTYPE_OFFSET + 1] = ETHERTYPE_ARP & 0xff;
  const a = ARP_OFFSET;
  out[a + ARP_HTYPE_OFFSET] = 0;
  out[a + ARP_HTYPE_OFFSET + 1] = ARP_HTYPE_ETHERNET;
  out[a + ARP_PTYPE_OFFSET] = ARP_PTYPE_IPV4 >>> 8;
  out[a + ARP_PTYPE_OFFSET + 1] = ARP_PTYPE_IPV4 & 0xff;
  out[a + ARP_HLEN_OFFSET] = ARP_HLEN_ETHERNET;
  out[a + ARP_PLEN_OFFSET] = ARP_PLEN_IPV4;
  out[a + ARP_OPER_OFFSET] = (f.op >>> 8) & 0xff;
  out[a + ARP_OPER_OFFSET + 1] = f.op & 0xff;
  writeMac48(out, a + ARP_SHA_OFFSET, f.senderMac);
  writeU32(out, a + ARP_SPA_OFFSET, f.senderIp);
  writeMac48(out, a + ARP_THA_OFFSET, f.targetMac);
  writeU32(out, a + ARP_TPA_OFFSET, f.targetIp);
}

const isMac48 = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAC48_BROADCAST;
const isU32 = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;

/** A fresh ARP_DATAGRAM_BYTES-byte VXLAN datagram for vni carrying an IPv4-over-Ethernet ARP packet. Throws RangeError on bad fields. */
export function encodeArpDatagram(vni: number, f: ArpFields): Uint8Array {
  const fn = 'encodeArpDatagram';
  checkVni(fn, vni);
  if (f.op !== ARP_OP_REQUEST && f.op !== ARP_OP_REPLY) throw new RangeError(`${fn}: op must be 1 (request) or 2 (reply), got ${f.op}`);
  for (const k of ['ethDst', 'ethSrc', 'senderMac', 'targetMac'] as const) {
    if (!isMac48(f[k])) throw new RangeError(`${fn}: ${k} must be a 48-bit integer, got ${f[k]}`);
  }
  for (const k of ['senderIp', 'targetIp'] as const) {
    if (!isU32(f[k])) throw new RangeError(`${fn}: ${k} must be an integer in 0..2^32-1, got ${f[k]}`);
  }
  const out = new Uint8Array(ARP_DATAGRAM_BYTES);
  writeArpDatagram(out, vni, f);
  return out;
}

/**
 * The reply to the ARP request in request[0, ARP_DATAGRAM_BYTES) (classifyArp
 * said ARP_REQUEST), answering that mac (48-bit) has ip (u32): a fresh
 * datagram for vni with sender = (mac, ip), target = the requester's sha and
 * spa, Ethernet dst = the requester's sha, src = mac.
 */
export function answerArpRequest(request: Uint8Array, vni: number, mac: number, ip: number): Uint8Array {
  const out = new Uint8Array(ARP_DATAGRAM_BYTES);
  const sha = readMac48(request, ARP_OFFSET + ARP_SHA_OFFSET);
  const spa = readU32(request, ARP_OFFSET + ARP_SPA_OFFSET);
  writeArpDatagram(out, vni, { op: ARP_OP_REPLY, ethDst: sha, ethSrc: mac, senderMac: mac, senderIp: ip, targetMac: sha, targetIp: spa });
  return out;
}

/** An ARP packet read for a test or a diagnostic; addresses as text. */
export interface ArpPacket {
  vni: number;
  op: number;
  ethDst: string;
  ethSrc: string;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

/** Bytes [0, len) of buf read as an IPv4-over-Ethernet ARP datagram, or undefined (never throws). Allocates: not for the hot path. */
export function parseArpDatagram(buf: Uint8Array, len?: number): ArpPacket | undefined {
  if (!(buf instanceof Uint8Array) || classifyArp(buf, len ?? buf.length) === ARP_INVALID) return undefined;
  const a = ARP_OFFSET;
  return {
    vni: readVni(buf),
    op: (buf[a + ARP_OPER_OFFSET]! << 8) | buf[a + ARP_OPER_OFFSET + 1]!,
    ethDst: formatMac48(readMac48(buf, INNER_DST_OFFSET)),
    ethSrc: formatMac48(readMac48(buf, INNER_SRC_OFFSET)),
    senderMac: formatMac48(readMac48(buf, a + ARP_SHA_OFFSET)),
    senderIp: formatIPv4(readU32(buf, a + ARP_SPA_OFFSET)),
    targetMac: formatMac48(readMac48(buf, a + ARP_THA_OFFSET)),
    targetIp: formatIPv4(readU32(buf, a + ARP_TPA_OFFSET)),
  };
}

/** The request in bytes [0, len) of buf, or undefined when they are not an IPv4-over-Ethernet ARP request (never throws). */
export function parseArpRequest(buf: Uint8Array, len?: number): ArpPacket | undefined {
  const p = parseArpDatagram(buf, len);
  return p !== undefined && p.op === ARP_OP_REQUEST ? p : undefined;
}
