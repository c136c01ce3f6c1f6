// A VXLAN datagram as the data path sees it (DESIGN §3): the UDP payload on
// 4789/udp and on each sandbox pipe socket, i.e. the 8-byte VXLAN header of
// RFC 7348 §5 followed by the inner Ethernet frame, of which we read only the
// 14-byte header. Offsets below are from the start of the datagram.
//
//     0                   1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  0 |R|R|R|R|I|R|R|R|               reserved (24 bits)              |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  4 |           VNI (24 bits, big-endian)           |    reserved   |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  8 |              inner destination MAC (6 bytes) ...              |
//    +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 12 |      ... destination MAC      |      inner source MAC ...     |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
// 16 |                    ... source MAC (6 bytes)                   |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 20 |   inner EtherType (u16, BE)   |       inner payload ...       |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// RFC 7348 §5: the I flag MUST be 1 for a valid VNI; the other flag bits and
// both reserved fields MUST be zero on transmission and are ignored on
// receipt, so a receiver checks the I bit only. The inner frame's FCS is not
// carried (§5, figure 1). An 802.1Q tag would sit where the EtherType is; we
// read 0x8100 there and treat the frame like any other non-ARP frame.
//
// The hot-path readers take the buffer and read plain numbers: no views, no
// subarrays, no strings. A MAC is handled as its 48-bit value (a JS number,
// exact up to 2^53), so it can key a Map straight off the bytes.

/** IANA-assigned VXLAN UDP port (RFC 7348 §5). */
export const VXLAN_UDP_PORT = 4789 as const;
export const VXLAN_HEADER_BYTES = 8 as const;
export const VXLAN_FLAGS_OFFSET = 0 as const;
/** The I flag: the VNI field is valid (RFC 7348 §5). */
export const VXLAN_FLAG_I = 0x08 as const;
export const VXLAN_VNI_OFFSET = 4 as const;
export const VXLAN_VNI_BYTES = 3 as const;
/** 2^24 - 1 (RFC 7348 §5: a 24-bit VNI). */
export const VXLAN_VNI_MAX = 0xff_ffff as const;

export const MAC_BYTES = 6 as const;
export const ETHERTYPE_BYTES = 2 as const;
export const ETH_HEADER_BYTES = 14 as const;
/** Offsets of the inner Ethernet header fields, from the start of the datagram. */
export const INNER_DST_OFFSET = 8 as const;
export const INNER_SRC_OFFSET = 14 as const;
export const INNER_ETHERTYPE_OFFSET = 20 as const;
export const INNER_PAYLOAD_OFFSET = 22 as const;
/** The shortest datagram we accept: a VXLAN header and an inner Ethernet header. */
export const VXLAN_MIN_DATAGRAM_BYTES = 22 as const;
/** IEEE 802: the I/G bit, the least significant bit of the first octet, marks a group (broadcast or multicast) address. */
export const MAC_GROUP_BIT = 0x01 as const;

/** EtherTypes we name (IEEE registry). */
export const ETHERTYPE_IPV4 = 0x0800 as const;
export const ETHERTYPE_ARP = 0x0806 as const;
export const ETHERTYPE_VLAN = 0x8100 as const;

const TWO_32 = 0x1_0000_0000;

/**
 * True when bytes [0, len) of buf are a VXLAN datagram we can read: len an
 * integer in VXLAN_MIN_DATAGRAM_BYTES..buf.length and the I flag set.
 */
export function isVxlanDatagram(buf: Uint8Array, len: number): boolean {
  return len >>> 0 === len && len >= VXLAN_MIN_DATAGRAM_BYTES && len <= buf.length && (buf[VXLAN_FLAGS_OFFSET]! & VXLAN_FLAG_I) !== 0;
}

/** The VNI of a datagram (big-endian 24 bits at offset 4). */
export function readVni(buf: Uint8Array): number {
  return (buf[VXLAN_VNI_OFFSET]! << 16) | (buf[VXLAN_VNI_OFFSET + 1]! << 8) | buf[VXLAN_VNI_OFFSET + 2]!;
}

/** The EtherType of the inner frame. */
export function readEthertype(buf: Uint8Array): number {
  return (buf[INNER_ETHERTYPE_OFFSET]! << 8) | buf[INNER_ETHERTYPE_OFFSET + 1]!;
}

/** True when the inner destination is a group (broadcast or multicast) address. */
export function isGroupDestination(buf: Uint8Array): boolean {
  return (buf[INNER_DST_OFFSET]! & MAC_GROUP_BIT) !== 0;
}

/** The 48-bit value of the MAC at off (big-endian, so 02:42:0a:00:01:05 is 0x02420a000105). */
export function readMac48(buf: Uint8Array, off: number): number {
  const hi = (buf[off]! << 8) | buf[off + 1]!;
  const lo = ((buf[off + 2]! << 24) | (buf[off + 3]! << 16) | (buf[off + 4]! << 8) | buf[off + 5]!) >>> 0;
  return hi * TWO_32 + lo;
}

export function writeMac48(buf: Uint8Array, off: number, mac: number): void {
  const hi = Math.floor(mac / TWO_32);
  const lo = mac >>> 0;
  buf[off] = hi >>> 8;
  buf[off + 1] = hi & 0xff;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = (lo >>> 16) & 0xff;
  buf[off + 4] = (lo >>> 8) & 0xff;
  buf[off + 5] = lo & 0xff;
}

/** The u32 (big-endian) at off: how IPv4 addresses are read off the wire. */
export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** Writes the 8-byte VXLAN header at off: I flag, reserved fields zero (RFC 7348 §5). */
export function writeVxlanHeader(buf: Uint8Array, off: number, vni: number): void {
  buf[off] = VXLAN_FLAG_I;
  buf[off + 1] = 0;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  buf[off + 4] = (vni >>> 16) & 0xff;
  buf[off + 5] = (vni >>> 8) & 0xff;
  buf[off + 6] = vni & 0xff;
  buf[off + 7] = 0;
}

/** True for an integer VNI in 0..2^24-1. */
export function isVni(vni: unknown): vni is number {
  return typeof vni === 'number' && Number.isInteger(vni) && vni >= 0 && vni <= VXLAN_VNI_MAX;
}

/** Throws RangeError `${fn}: vni must be an integer in 0..16777215, got ${vni}` unless vni is one. */
export function checkVni(fn: string, vni: unknown): number {
  if (!isVni(vni)) throw new RangeError(`${fn}: vni must be an integer in 0..${VXLAN_VNI_MAX}, got ${String(vni)}`);
  return vni;
}

/** The 8-byte VXLAN header for vni. */
export function encodeVxlanHeader(vni: number): Uint8Array {
  checkVni('encodeVxlanHeader', vni);
  const out = new Uint8Array(VXLAN_HEADER_BYTES);
  writeVxlanHeader(out, 0, vni);
  return out;
}

const MAC_TEXT = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** "02:42:0a:00:01:05" to its 48-bit value; undefined unless six hex octets separated by colons. */
export function parseMac48(text: string): number | undefined {
  if (typeof text !== 'string' || !MAC_TEXT.test(text)) return undefined;
  return parseInt(text.replaceAll(':', ''), 16);
}

/** A 48-bit value to lowercase colon-separated text. */
export function formatMac48(mac: number): string {
  return mac.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** What a diagnostic or a test reads off a datagram; the forwarder reads the same fields with the functions above. */
export interface VxlanFrame {
  vni: number;
  /** Inner destination MAC, lowercase text. */
  dst: string;
  src: string;
  ethertype: number;
  /** The inner destination is broadcast or multicast. */
  group: boolean;
  /** Bytes of inner payload after the Ethernet header. */
  payloadBytes: number;
}

/** Bytes [0, len) of buf read as a VXLAN datagram, or undefined when they are not one (never throws). Allocates: not for the hot path. */
export function parseVxlanFrame(buf: Uint8Array, len?: number): VxlanFrame | undefined {
  if (!(buf instanceof Uint8Array)) return undefined;
  len ??= buf.length;
  if (!isVxlanDatagram(buf, len)) return undefined;
  return {
    vni: readVni(buf),
    dst: formatMac48(readMac48(buf, INNER_DST_OFFSET)),
    src: formatMac48(readMac48(buf, INNER_SRC_OFFSET)),
    ethertype: readEthertype(buf),
    group: isGroupDestination(buf),
    payloadBytes: len - INNER_PAYLOAD_OFFSET,
  };
}
