// The values of NetworkDB's two tables (issue 5), as the bytes an entry
// carries. NetworkDB itself treats values as opaque; the overlay driver and
// the service layer encode and decode with these. Big-endian.
//
//   peers     key: the endpoint id. What the overlay driver programs as static
//             ARP (ip -> mac) and FDB (mac -> vtep) entries (libnetwork
//             drivers/overlay peerdb.go, overlay_peer_table).
//
//     format (u8) = 1 | ip family (u8: 4 or 6) | ip (4 or 16) | mac (6)
//                     | vtep family (u8: 4 or 6) | vtep (4 or 16)
//
//   services  key: the task's endpoint id. What DNS and the load balancer
//             serve (libnetwork's endpoint_table).
//
//     format (u8) = 1 | service str8 | task str8 | ip family (u8: 4 or 6) | ip
//                     | vip family (u8: 0 none (dnsrr), 4 or 6) | vip (0, 4 or 16)
//
//   str8 = length (u8, 1..128) | UTF-8 bytes; the service may be empty
//   (length 0): a standalone endpoint, known by its name (`task`) only
//   (issue 9). The largest record is 293 bytes.
//
// The leading format byte lets a later release add fields under format 2;
// formats are only appended. Decoding is length-exact and refuses anything
// else with a TableRecordError (a value from the network: count it, skip it).
import { formatIp, formatMac, parseIp, parseMac } from './ip-bytes.js';

export const TABLE_PEERS = 'peers' as const;
export const TABLE_SERVICES = 'services' as const;

export const RECORD_FORMAT = 1 as const;
export const FORMAT_BYTES = 1 as const;
export const FAMILY_BYTES = 1 as const;
export const MAC_BYTES = 6 as const;
/** Docker's service names are DNS labels (63 bytes), task names service.slot.id; 128 keeps a record far below MAX_VALUE_BYTES. */
export const MAX_NAME_BYTES = 128 as const;

export interface PeerRecord {
  /** The endpoint's overlay address, e.g. "10.0.1.5". */
  ip: string;
  /** Its MAC, e.g. "02:42:0a:00:01:05". */
  mac: string;
  /** The datapath address of the node that hosts it. */
  vtep: string;
}

export interface ServiceRecord {
  /** "" for a standalone endpoint. */
  service: string;
  /** The task's (container) name, or a standalone endpoint's name. */
  task: string;
  /** The task's address on this network. */
  ip: string;
  /** The service's virtual IP on this network; "" when the service has none (endpoint mode dnsrr). */
  vip: string;
}

export class TableRecordError extends Error {
  readonly code = 'ETABLERECORD';
  override name = 'TableRecordError';
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function ipBytes(fn: string, what: string, text: string): Uint8Array {
  const b = typeof text === 'string' ? parseIp(text) : undefined;
  if (!b) throw new RangeError(`${fn}: ${what} must be an IPv4 or IPv6 address, got ${JSON.stringify(text)}`);
  return b;
}

function nameBytes(fn: string, what: string, text: string, min = 1): Uint8Array {
  const b = utf8Encoder.encode(typeof text === 'string' ? text : '');
  if (b.length < min || b.length > MAX_NAME_BYTES) throw new RangeError(`${fn}: ${what} must be ${min}..${MAX_NAME_BYTES} bytes of UTF-8, got ${b.length}`);
  return b;
}

export function encodePeerRecord(r: PeerRecord): Uint8Array {
  const fn = 'encodePeerRecord';
  const ip = ipBytes(fn, 'ip', r.ip);
  const mac = typeof r.mac === 'string' ? parseMac(r.mac) : undefined;
  if (!mac) throw new RangeError(`${fn}: mac must be six hex octets separated by colons, got ${JSON.stringify(r.mac)}`);
  const vtep = ipBytes(fn, 'vtep', r.vtep);
  const out = new Uint8Array(FORMAT_BYTES + FAMILY_BYTES + ip.length + MAC_BYTES + FAMILY_BYTES + vtep.length);
  let o = 0;
  out[o++] = RECORD_FORMAT;
  out[o++] = ip.length === 4 ? 4 : 6;
  out.set(ip, o);
  o += ip.length;
  out.set(mac, o);
  o += MAC_BYTES;
  out[o++] = vtep.length === 4 ? 4 : 6;
  out.set(vtep, o);
  return out;
}

export function encodeServiceRecord(r: ServiceRecord): Uint8Array {
  const fn = 'encodeServiceRecord';
  const service = nameBytes(fn, 'service', r.service, 0);
  const task = nameBytes(fn, 'task', r.task);
  const ip = ipBytes(fn, 'ip', r.ip);
  const vip = r.vip === '' ? new Uint8Array(0) : ipBytes(fn, 'vip', r.vip);
  const out = new Uint8Array(FORMAT_BYTES + 1 + service.length + 1 + task.length + FAMILY_BYTES + ip.length + FAMILY_BYTES + vip.length);
  let o = 0;
  out[o++] = RECORD_FORMAT;
  out[o++] = service.length;
  out.set(service, o);
  o += service.length;
  out[o++] = task.length;
  out.set(task, o);
  o += task.length;
  out[o++] = ip.length === 4 ? 4 : 6;
  out.set(ip, o);
  o += ip.length;
  out[o++] = vip.length === 0 ? 0 : vip.length === 4 ? 4 : 6;
  out.set(vip, o);
  return out;
}

class Reader {
  off = 0;
  constructor(readonly buf: Uint8Array) {}
  take(n: number, what: string): Uint8Array {
    if (this.buf.length - this.off < n) throw new TableRecordError(`truncated ${what}`);
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }
  u8(what: string): number {
    return this.take(1, what)[0]!;
  }
  format(): void {
    const f = this.u8('format');
    if (f !== RECORD_FORMAT) throw new TableRecordError(`unknown record format ${f}`);
  }
  ip(what: string, noneAllowed: boolean): string {
    const fam = this.u8(`${what} family`);
    if (fam === 0 && noneAllowed) return '';
    if (fam !== 4 && fam !== 6) throw new TableRecordError(`${what} family must be ${noneAllowed ? '0, ' : ''}4 or 6, got ${fam}`);
    return formatIp(this.take(fam === 4 ? 4 : 16, what));
  }
  name(what: string, min = 1): string {
    const n = this.u8(`${what} length`);
    if (n < min || n > MAX_NAME_BYTES) throw new TableRecordError(`${what} must be ${min}..${MAX_NAME_BYTES} bytes, got ${n}`);
    try {
      return utf8Decoder.decode(this.take(n, what));
    } catch (e) {
      if (e instanceof TableRecordError) throw e;
      throw new TableRecordError(`${what} is not UTF-8`);
    }
  }
  end(kind: string): void {
    const left = this.buf.length - this.off;
    if (left !== 0) throw new TableRecordError(`${left} bytes after the ${kind}`);
  }
}

/** Throws TableRecordError unless b is exactly one peer record. */
export function decodePeerRecord(b: Uint8Array): PeerRecord {
  const r = new Reader(b);
  r.format();
  const ip = r.ip('ip', false);
  const mac = formatMac(r.take(MAC_BYTES, 'mac'));
  const vtep = r.ip('vtep', false);
  r.end('peer record');
  return { ip, mac, vtep };
}

/** Throws TableRecordError unless b is exactly one service record. */
export function decodeServiceRecord(b: Uint8Array): ServiceRecord {
  const r = new Reader(b);
  r.format();
  const service = r.name('service', 0);
  const task = r.name('task');
  const ip = r.ip('ip', false);
  const vip = r.ip('vip', true);
  r.end('service record');
  return { service, task, ip, vip };
}
