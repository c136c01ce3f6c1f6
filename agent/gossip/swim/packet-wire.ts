// SWIM packets on 7946/udp (before sealing): one message per datagram, or a
// compound of several. All integers are big-endian.
//
//    0       1
//   +-------+-----------------------------------------------------------+
//   | type  | body, by type                                          ... |
//   +-------+-----------------------------------------------------------+
//
//   str8 = length (u8) | that many bytes of UTF-8
//
//   type body
//   1 ping      seq (u32) | target str8
//   2 ack       seq (u32)
//   3 ping-req  seq (u32) | flags (u8: bit 0 = nack wanted, bits 1-7 zero) | target str8 | targetAddr str8
//   4 nack      seq (u32)
//   5 suspect   incarnation (u32) | node str8 | from str8
//   6 alive     incarnation (u32) | node str8 | addr str8
//   7 dead      incarnation (u32) | node str8 | from str8
//   8 user      payload: the rest of the message, at least 1 byte
//   9 compound  count (u8, >= 1) | count × ( length (u16) | a message of types 1-8, length bytes )
//
// Node ids are 1..32 bytes, addresses "host:port" (IPv6 hosts in brackets)
// of at most 64 bytes. Decoding is length-exact: a message must end exactly
// where its last field does. Type numbers are only ever appended, never
// renumbered or reused. encodedSize() is exact; the core fills datagrams with
// it without encoding, and a test holds it to encodePacket().
import { ByteReader, ByteWriter, describeFault, utf8Length } from '../../../shared/wire/byte-cursor.js';
import type { SimpleMessage, SwimMessage } from './messages.js';

export const MessageType = {
  ping: 1,
  ack: 2,
  'ping-req': 3,
  nack: 4,
  suspect: 5,
  alive: 6,
  dead: 7,
  user: 8,
  compound: 9,
} as const;

export const TYPE_BYTES = 1 as const;
export const SEQ_BYTES = 4 as const;
export const INCARNATION_BYTES = 4 as const;
export const STR8_LENGTH_BYTES = 1 as const;
export const FLAGS_BYTES = 1 as const;
export const FLAG_NACK = 0x01 as const;
/** type + count */
export const COMPOUND_HEADER_BYTES = 2 as const;
/** The u16 length in front of each part of a compound. */
export const COMPOUND_PART_OVERHEAD_BYTES = 2 as const;
export const MAX_COMPOUND_PARTS = 255 as const;
export const MAX_ID_BYTES = 32 as const;
export const MAX_ADDR_BYTES = 64 as const;
/** Largest part a compound can frame (u16 length). */
export const MAX_PART_BYTES = 0xffff as const;

export class SwimWireError extends Error {
  readonly code = 'ESWIMWIRE';
  override name = 'SwimWireError';
}

const TYPE_NAME: readonly (SwimMessage['type'] | undefined)[] = (() => {
  const t: (SwimMessage['type'] | undefined)[] = [];
  for (const [k, v] of Object.entries(MessageType)) t[v] = k as SwimMessage['type'];
  return t;
})();

export { utf8Length };

/** "host:port" with a dotted, named or bracketed-IPv6 host and a port 1..65535 without leading zeros. */
export function isHostPort(addr: string): boolean {
  const colon = addr.lastIndexOf(':');
  if (colon <= 0) return false;
  const host = addr.slice(0, colon);
  const port = addr.slice(colon + 1);
  if (!/^[1-9][0-9]{0,4}$/.test(port) || Number(port) > 65_535) return false;
  if (host.startsWith('[')) return /^\[[0-9a-fA-F:.]+\]$/.test(host);
  return /^[A-Za-z0-9.-]+$/.test(host);
}

function str8Size(s: string): number {
  return STR8_LENGTH_BYTES + utf8Length(s);
}

/** Exact encoded length of a message, in bytes. */
export function encodedSize(m: SwimMessage): number {
  switch (m.type) {
    case 'ping':
      return TYPE_BYTES + SEQ_BYTES + str8Size(m.target);
    case 'ack':
    case 'nack':
      return TYPE_BYTES + SEQ_BYTES;
    case 'ping-req':
      return TYPE_BYTES + SEQ_BYTES + FLAGS_BYTES + str8Size(m.target) + str8Size(m.targetAddr);
    case 'suspect':
    case 'dead':
      return TYPE_BYTES + INCARNATION_BYTES + str8Size(m.node) + str8Size(m.from);
    case 'alive':
      return TYPE_BYTES + INCARNATION_BYTES + str8Size(m.node) + str8Size(m.addr);
    case 'user':
      return TYPE_BYTES + m.payload.length;
    case 'compound': {
      let n = COMPOUND_HEADER_BYTES;
      for (const p of m.parts) n += COMPOUND_PART_OVERHEAD_BYTES + encodedSize(p);
      return n;
    }
  }
}

function writeStr8(w: ByteWriter, what: string, s: string, max: number): void {
  const n = utf8Length(s);
  if (n < 1 || n > max) throw new RangeError(`encodePacket: ${what} must be 1..${max} bytes of UTF-8, got ${n}`);
  w.str8(s);
}

function u32Field(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError(`encodePacket: ${what} must be an integer in 0..2^32-1, got ${v}`);
  return v;
}

function writeSimple(w: ByteWriter, m: SimpleMessage): void {
  w.u8(MessageType[m.type]);
  switch (m.type) {
    case 'ping':
      w.u32(u32Field('seq', m.seq));
      writeStr8(w, 'target', m.target, MAX_ID_BYTES);
      return;
    case 'ack':
    case 'nack':
      w.u32(u32Field('seq', m.seq));
      return;
    case 'ping-req':
      w.u32(u32Field('seq', m.seq));
      w.u8(m.nack ? FLAG_NACK : 0);
      writeStr8(w, 'target', m.target, MAX_ID_BYTES);
      writeStr8(w, 'targetAddr', m.targetAddr, MAX_ADDR_BYTES);
      return;
    case 'suspect':
    case 'dead':
      w.u32(u32Field('incarnation', m.incarnation));
      writeStr8(w, 'node', m.node, MAX_ID_BYTES);
      writeStr8(w, 'from', m.from, MAX_ID_BYTES);
      return;
    case 'alive':
      w.u32(u32Field('incarnation', m.incarnation));
      writeStr8(w, 'node', m.node, MAX_ID_BYTES);
      writeStr8(w, 'addr', m.addr, MAX_ADDR_BYTES);
      return;
    case 'user':
      if (m.payload.length === 0) throw new RangeError('encodePacket: user payload must not be empty');
      w.bytes(m.payload);
      return;
  }
}

/** Encode one message (a compound frames its parts). Throws RangeError on a field out of range. */
export function encodePacket(m: SwimMessage): Uint8Array {
  const w = new ByteWriter(encodedSize(m));
  if (m.type === 'compound') {
    if (m.parts.length < 1 || m.parts.length > MAX_COMPOUND_PARTS) {
      throw new RangeError(`encodePacket: a compound must have 1..${MAX_COMPOUND_PARTS} parts, got ${m.parts.length}`);
    }
    w.u8(MessageType.compound);
    w.u8(m.parts.length);
    for (const p of m.parts) {
      if ((p as SwimMessage).type === 'compound') throw new RangeError('encodePacket: compounds do not nest');
      const n = encodedSize(p);
      if (n > MAX_PART_BYTES) throw new RangeError(`encodePacket: a compound part must be at most ${MAX_PART_BYTES} bytes, got ${n}`);
      w.u16(n);
      writeSimple(w, p);
    }
  } else {
    writeSimple(w, m);
  }
  return w.buf;
}

function reader(buf: Uint8Array, start: number, end: number): ByteReader {
  return new ByteReader(buf, { start, end, fail: (f) => new SwimWireError(describeFault(f)) });
}

function readAddr(r: ByteReader, what: string): string {
  const s = r.str8(what, MAX_ADDR_BYTES);
  if (!isHostPort(s)) throw new SwimWireError(`${what} must be host:port, got ${JSON.stringify(s)}`);
  return s;
}

function readSimple(r: ByteReader): SimpleMessage {
  const t = r.u8('type');
  const name = TYPE_NAME[t];
  if (name === undefined) throw new SwimWireError(`unknown message type ${t}`);
  let m: SimpleMessage;
  switch (name) {
    case 'ping':
      m = { type: 'ping', seq: r.u32('seq'), target: r.str8('target', MAX_ID_BYTES) };
      break;
    case 'ack':
      m = { type: 'ack', seq: r.u32('seq') };
      break;
    case 'nack':
      m = { type: 'nack', seq: r.u32('seq') };
      break;
    case 'ping-req': {
      const seq = r.u32('seq');
      const flags = r.u8('flags');
      if ((flags & ~FLAG_NACK) !== 0) throw new SwimWireError(`ping-req flags has reserved bits set: 0x${flags.toString(16).padStart(2, '0')}`);
      m = { type: 'ping-req', seq, nack: (flags & FLAG_NACK) !== 0, target: r.str8('target', MAX_ID_BYTES), targetAddr: readAddr(r, 'targetAddr') };
      break;
    }
    case 'suspect':
    case 'dead':
      m = { type: name, incarnation: r.u32('incarnation'), node: r.str8('node', MAX_ID_BYTES), from: r.str8('from', MAX_ID_BYTES) };
      break;
    case 'alive':
      m = { type: 'alive', incarnation: r.u32('incarnation'), node: r.str8('node', MAX_ID_BYTES), addr: readAddr(r, 'addr') };
      break;
    case 'user':
      if (r.left === 0) throw new SwimWireError('user payload must not be empty');
      m = { type: 'user', payload: r.bytes(r.left, 'user payload') };
      break;
    case 'compound':
      throw new SwimWireError('compounds do not nest');
  }
  r.expectEnd(name);
  return m;
}

/** Decode one datagram. Throws SwimWireError (the caller drops and counts it). */
export function decodePacket(buf: Uint8Array): SwimMessage {
  if (buf.length === 0) throw new SwimWireError('empty packet');
  if (buf[0] !== MessageType.compound) return readSimple(reader(buf, 0, buf.length));
  const r = reader(buf, 1, buf.length);
  const count = r.u8('compound count');
  if (count === 0) throw new SwimWireError('compound with no parts');
  const parts: SimpleMessage[] = [];
  for (let i = 0; i < count; i++) {
    const len = r.u16(`compound part ${i} length`);
    if (len === 0) throw new SwimWireError(`compound part ${i} is empty`);
    r.need(len, `compound part ${i}`);
    parts.push(readSimple(reader(buf, r.offset, r.offset + len)));
    r.skip(len, `compound part ${i}`);
  }
  r.expectEnd('compound');
  return { type: 'compound', parts };
}
