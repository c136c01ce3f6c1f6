// The PROXY protocol version 2 header (HAProxy's proxy-protocol.txt §2.2),
// sent first on a relayed connection of a port published with
// `proxy-protocol=v2` (issue 10) so the backend learns the client's address
// through the mesh. Pure: bytes in, bytes out.
//
//     0                   1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  0 |      0x0D     |      0x0A     |      0x0D     |      0x0A     |
//  4 |      0x00     |      0x0D     |      0x0A     |   0x51 ('Q')  |
//  8 |   0x55 ('U')  |   0x49 ('I')  |   0x54 ('T')  |      0x0A     |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 12 |version|command| family| proto |  address length (u16, BE)     |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// 16 | addresses (12 bytes for AF_INET, 36 for AF_INET6, 216 for      |
//    | AF_UNIX), then TLVs up to the address length ...               |
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The address block (§2.2) is source address, destination address, source
// port, destination port, all in network byte order. TLVs (§2.2.7) follow the
// addresses inside the length; we send none and skip any we receive.
//
// §2.2: a receiver must reject another version, drop a connection with an
// unassigned command, and reject family/protocol pairs other than the seven
// listed; with the LOCAL command (health checks) the block, family included,
// is ignored and the real endpoints stand.
import { formatIp, parseIp } from '../gossip/networkdb/ip-bytes.js';

/** §2.2: "\r\n\r\n\0\r\nQUIT\n", chosen never to start a valid v1 header or an HTTP request. */
export const PROXY_V2_SIGNATURE = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);
export const PROXY_V2_SIGNATURE_BYTES = 12 as const;
export const PROXY_V2_VERSION_COMMAND_OFFSET = 12 as const;
export const PROXY_V2_FAMILY_OFFSET = 13 as const;
export const PROXY_V2_LENGTH_OFFSET = 14 as const;
/** Signature, version/command, family/protocol and length: what precedes the address block. */
export const PROXY_V2_FIXED_BYTES = 16 as const;
/** The longest header there can be: the length field is a u16. */
export const PROXY_V2_MAX_BYTES = 16 + 0xffff;
/** High nibble of byte 12: the only version this spec defines. */
export const PROXY_V2_VERSION = 0x2 as const;
/** Low nibble of byte 12 (§2.2). */
export const PROXY_V2_CMD_LOCAL = 0x0 as const;
export const PROXY_V2_CMD_PROXY = 0x1 as const;
/** Byte 13: address family (high nibble) and transport protocol (low nibble), §2.2. */
export const PROXY_V2_UNSPEC = 0x00 as const;
export const PROXY_V2_TCP4 = 0x11 as const;
export const PROXY_V2_UDP4 = 0x12 as const;
export const PROXY_V2_TCP6 = 0x21 as const;
export const PROXY_V2_UDP6 = 0x22 as const;
export const PROXY_V2_UNIX_STREAM = 0x31 as const;
export const PROXY_V2_UNIX_DGRAM = 0x32 as const;
/** Address block sizes (§2.2): two addresses and two u16 ports; UNIX carries two 108-byte paths. */
export const PROXY_V2_INET_BLOCK_BYTES = 12 as const;
export const PROXY_V2_INET6_BLOCK_BYTES = 36 as const;
export const PROXY_V2_UNIX_BLOCK_BYTES = 216 as const;

export interface ProxyEndpoint {
  address: string;
  port: number;
}

export type ProxyFamily = 'tcp4' | 'tcp6' | 'udp4' | 'udp6' | 'unspec';

export interface ProxyHeader {
  command: 'proxy' | 'local';
  /** LOCAL headers and UNIX-socket families read as 'unspec': the real endpoints stand. */
  family: ProxyFamily;
  /** Present for the four inet families of a PROXY header only. */
  source?: ProxyEndpoint;
  destination?: ProxyEndpoint;
}

export interface ParsedProxyV2 {
  header: ProxyHeader;
  /** Bytes the header takes, TLVs included: the stream's payload starts here. */
  length: number;
}

/** The bytes are not a v2 header a receiver may accept (§2.2): drop the connection. */
export class ProxyHeaderError extends Error {
  readonly code = 'EPROXYHEADER';
  override name = 'ProxyHeaderError';
}

// Family byte to what it reads as and the least address block it needs.
const FAMILIES: ReadonlyMap<number, { family: ProxyFamily; block: number; inet: 4 | 16 | undefined }> = new Map([
  [PROXY_V2_UNSPEC, { family: 'unspec', block: 0, inet: undefined }],
  [PROXY_V2_TCP4, { family: 'tcp4', block: PROXY_V2_INET_BLOCK_BYTES, inet: 4 }],
  [PROXY_V2_UDP4, { family: 'udp4', block: PROXY_V2_INET_BLOCK_BYTES, inet: 4 }],
  [PROXY_V2_TCP6, { family: 'tcp6', block: PROXY_V2_INET6_BLOCK_BYTES, inet: 16 }],
  [PROXY_V2_UDP6, { family: 'udp6', block: PROXY_V2_INET6_BLOCK_BYTES, inet: 16 }],
  [PROXY_V2_UNIX_STREAM, { family: 'unspec', block: PROXY_V2_UNIX_BLOCK_BYTES, inet: undefined }],
  [PROXY_V2_UNIX_DGRAM, { family: 'unspec', block: PROXY_V2_UNIX_BLOCK_BYTES, inet: undefined }],
]);

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/**
 * Read a v2 header off the start of a stream. 'incomplete' until the whole
 * header (TLVs included) is there; a ProxyHeaderError as soon as the bytes
 * seen cannot start a valid one, so a stream without a header fails on its
 * first byte rather than after 16.
 */
export function parseProxyV2(buf: Uint8Array): ParsedProxyV2 | 'incomplete' {
  const seen = Math.min(buf.length, PROXY_V2_SIGNATURE_BYTES);
  for (let i = 0; i < seen; i++) {
    if (buf[i] !== PROXY_V2_SIGNATURE[i]) throw new ProxyHeaderError(`PROXY v2 header: bad signature at byte ${i}: expected ${hex2(PROXY_V2_SIGNATURE[i]!)}, got ${hex2(buf[i]!)}`);
  }
  if (buf.length <= PROXY_V2_VERSION_COMMAND_OFFSET) return 'incomplete';
  const vc = buf[PROXY_V2_VERSION_COMMAND_OFFSET]!;
  if (vc >>> 4 !== PROXY_V2_VERSION) throw new ProxyHeaderError(`PROXY v2 header: expected version 2, got ${vc >>> 4}`);
  const cmd = vc & 0x0f;
  if (cmd !== PROXY_V2_CMD_LOCAL && cmd !== PROXY_V2_CMD_PROXY) throw new ProxyHeaderError(`PROXY v2 header: expected command 0 (LOCAL) or 1 (PROXY), got ${cmd}`);
  if (buf.length <= PROXY_V2_FAMILY_OFFSET) return 'incomplete';
  const famByte = buf[PROXY_V2_FAMILY_OFFSET]!;
  const fam = FAMILIES.get(famByte);
  // LOCAL ignores the family (§2.2), so only PROXY rejects an unknown one.
  if (cmd === PROXY_V2_CMD_PROXY && fam === undefined) throw new ProxyHeaderError(`PROXY v2 header: unknown address family and protocol ${hex2(famByte)}`);
  if (buf.length < PROXY_V2_FIXED_BYTES) return 'incomplete';
  const len = (buf[PROXY_V2_LENGTH_OFFSET]! << 8) | buf[PROXY_V2_LENGTH_OFFSET + 1]!;
  if (cmd === PROXY_V2_CMD_PROXY && len < fam!.block) {
    throw new ProxyHeaderError(`PROXY v2 header: family ${hex2(famByte)} needs ${fam!.block} address bytes, the length says ${len}`);
  }
  const length = PROXY_V2_FIXED_BYTES + len;
  if (buf.length < length) return 'incomplete';
  if (cmd === PROXY_V2_CMD_LOCAL || fam!.inet === undefined) {
    return { header: { command: cmd === PROXY_V2_CMD_LOCAL ? 'local' : 'proxy', family: cmd === PROXY_V2_CMD_LOCAL ? 'unspec' : fam!.family }, length };
  }
  const n = fam!.inet;
  const at = PROXY_V2_FIXED_BYTES;
  const ports = at + 2 * n;
  return {
    header: {
      command: 'proxy',
      family: fam!.family,
      source: { address: formatAddress(buf.subarray(at, at + n)), port: (buf[ports]! << 8) | buf[ports + 1]! },
      destination: { address: formatAddress(buf.subarray(at + n, ports)), port: (buf[ports + 2]! << 8) | buf[ports + 3]! },
    },
    length,
  };
}

/**
 * The header of a relayed TCP connection: PROXY command, TCP over IPv4 when
 * both ends are IPv4 (IPv4-mapped IPv6 counts, as a dual-stack socket reports
 * it), else TCP over IPv6. Throws a RangeError naming the bad argument.
 */
export function encodeProxyV2(o: { source: ProxyEndpoint; destination: ProxyEndpoint }): Uint8Array {
  const src = addressBytes('source', o.source?.address);
  const dst = addressBytes('destination', o.destination?.address);
  checkPort('source', o.source.port);
  checkPort('destination', o.destination.port);
  const src4 = asIPv4(src);
  const dst4 = asIPv4(dst);
  let fam: number;
  let a: Uint8Array;
  let b: Uint8Array;
  if (src4 && dst4) [fam, a, b] = [PROXY_V2_TCP4, src4, dst4];
  else if (src.length === 16 && dst.length === 16) [fam, a, b] = [PROXY_V2_TCP6, src, dst];
  else {
    throw new RangeError(
      `encodeProxyV2: source ${JSON.stringify(o.source.address)} and destination ${JSON.stringify(o.destination.address)} are of different address families`,
    );
  }
  const block = 2 * a.length + 4;
  const out = new Uint8Array(PROXY_V2_FIXED_BYTES + block);
  out.set(PROXY_V2_SIGNATURE, 0);
  out[PROXY_V2_VERSION_COMMAND_OFFSET] = (PROXY_V2_VERSION << 4) | PROXY_V2_CMD_PROXY;
  out[PROXY_V2_FAMILY_OFFSET] = fam;
  out[PROXY_V2_LENGTH_OFFSET] = block >>> 8;
  out[PROXY_V2_LENGTH_OFFSET + 1] = block & 0xff;
  let at = PROXY_V2_FIXED_BYTES;
  out.set(a, at);
  out.set(b, (at += a.length));
  at += b.length;
  out[at++] = o.source.port >>> 8;
  out[at++] = o.source.port & 0xff;
  out[at++] = o.destination.port >>> 8;
  out[at] = o.destination.port & 0xff;
  return out;
}

function checkPort(what: string, port: unknown): void {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new RangeError(`encodeProxyV2: ${what} port: expected an integer from 0 to 65535, got ${JSON.stringify(port)}`);
  }
}

/** 4 or 16 bytes; accepts a dotted IPv4 tail (`::ffff:1.2.3.4`) and drops a zone (`fe80::1%eth0`), which the header cannot carry. */
function addressBytes(what: string, text: unknown): Uint8Array {
  let b: Uint8Array | undefined;
  if (typeof text === 'string') {
    let t = text.replace(/%[^%]+$/, '');
    const tail = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(t);
    if (tail) {
      const v4 = parseIp(tail[2]!);
      if (v4) t = `${tail[1]}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
    }
    b = parseIp(t);
  }
  if (!b) throw new RangeError(`encodeProxyV2: ${what} address: expected an IPv4 or IPv6 address, got ${JSON.stringify(text)}`);
  return b;
}

const isMapped = (b: Uint8Array): boolean => b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

function asIPv4(b: Uint8Array): Uint8Array | undefined {
  if (b.length === 4) return b;
  return isMapped(b) ? b.subarray(12) : undefined;
}

/** As node:net reports addresses: an IPv4-mapped IPv6 one with its dotted tail. */
function formatAddress(b: Uint8Array): string {
  return isMapped(b) ? `::ffff:${formatIp(b.subarray(12))}` : formatIp(b);
}
