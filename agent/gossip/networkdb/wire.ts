// NetworkDB messages on 7946 (before sealing; carried as SWIM `user`
// payloads, push-pull user state, or frames of a 7946/tcp stream). Issue 5.
// All integers are big-endian.
//
//    0       1
//   +-------+-----------------------------------------------------------+
//   | type  | body, by type                                          ... |
//   +-------+-----------------------------------------------------------+
//
//   type                    how it travels        body
//   1 table gossip          datagram, to members  batch
//   2 bulk sync             stream, to a member   flags (u8: 0x01 response) | table ltime (u64) | batch
//   3 network event         SWIM broadcast        flags (u8: 0x01 leave) | ltime (u64) | node str8 | network str8
//   4 network state         SWIM push-pull        network ltime (u64) | count (u32) | count × record
//
//   record = flags (u8: 0x01 leaving) | ltime (u64) | node str8 | network str8
//
//   batch  = network str8 | owner count (u16) | owner × count | entry count (u32) | entry × count
//   owner  = flags (u8: 0x01 leaving) | network ltime (u64) | node str8
//   entry  = flags (u8: 0x01 tombstone) | owner index (u16) | ltime (u64) | table str8 | key str8
//            | live:      value length (u16) | value
//            | tombstone: reap left (u32, ms)
//
//   str8 = length (u8) | UTF-8 bytes. Node ids 1..32 bytes (as SWIM's),
//   network ids 1..64, table names 1..32, keys 1..255; values 0..512 bytes.
//
// A batch names each owner once, with the owner's own attachment record for
// the network (its network Lamport time and whether it is leaving), so a
// receiver that has not yet heard the owner's network event still learns the
// owner is a member; entries point at owners by index. Lamport times are
// 1..2^53-1 (0 only as a clock reading in the ltime headers of types 2 and
// 4). Decoding is length-exact, refuses unknown flag bits, unreferenced
// bytes, an owner listed twice and an index past the owner list. Type
// numbers are only ever appended, never renumbered or reused. The *Bytes
// size functions are exact; the core packs datagrams with them without
// encoding, and a test holds them to the encoder.
import { ByteReader, ByteWriter, utf8Length, type ByteCursorFault } from '../../../shared/wire/byte-cursor.js';

export const MessageType = {
  tableGossip: 1,
  bulkSync: 2,
  networkEvent: 3,
  networkState: 4,
} as const;

export const TYPE_BYTES = 1 as const;
export const FLAGS_BYTES = 1 as const;
export const LTIME_BYTES = 8 as const;
export const STR8_LENGTH_BYTES = 1 as const;
export const OWNER_COUNT_BYTES = 2 as const;
export const OWNER_INDEX_BYTES = 2 as const;
export const ENTRY_COUNT_BYTES = 4 as const;
export const RECORD_COUNT_BYTES = 4 as const;
export const VALUE_LENGTH_BYTES = 2 as const;
export const REAP_LEFT_BYTES = 4 as const;

export const FLAG_RESPONSE = 0x01 as const;
export const FLAG_LEAVE = 0x01 as const;
export const FLAG_TOMBSTONE = 0x01 as const;

export const MAX_NODE_ID_BYTES = 32 as const;
export const MAX_NETWORK_ID_BYTES = 64 as const;
export const MAX_TABLE_BYTES = 32 as const;
export const MAX_KEY_BYTES = 255 as const;
/** Large enough for a service record with long names; small enough that any one entry fits a datagram. */
export const MAX_VALUE_BYTES = 512 as const;
export const MAX_OWNERS = 0xffff as const;
export const MAX_LTIME = Number.MAX_SAFE_INTEGER;
export const MAX_REAP_LEFT_MS = 0xffff_ffff;

/** A node's attachment to one network, as a batch names an owner. */
export interface OwnerRecord {
  node: string;
  /** The owner's network Lamport time for its latest join or leave of this network. */
  netLtime: number;
  leaving: boolean;
}

/** One version of one table entry. */
export interface WireEntry {
  owner: string;
  ltime: number;
  table: string;
  key: string;
  tombstone: boolean;
  /** Empty for a tombstone. */
  value: Uint8Array;
  /** Tombstones only (0 otherwise): how long the sender will keep it, so a copy never outlives the original. */
  reapLeftMs: number;
}

export interface Batch {
  nid: string;
  /** Every owner an entry names, each once; may name more (a bulk sync names its sender). */
  owners: OwnerRecord[];
  entries: WireEntry[];
}

export interface TableGossip extends Batch {
  type: 'tableGossip';
}

export interface BulkSync extends Batch {
  type: 'bulkSync';
  /** false: a request, carrying the sender's entries and asking for ours; true: the answer. */
  response: boolean;
  /** The sender's table clock, witnessed by the receiver. */
  tableLtime: number;
}

export interface NetworkEvent {
  type: 'networkEvent';
  node: string;
  nid: string;
  ltime: number;
  leaving: boolean;
}

export interface NetworkRecord {
  node: string;
  nid: string;
  ltime: number;
  leaving: boolean;
}

export interface NetworkState {
  type: 'networkState';
  /** The sender's network clock, witnessed by the receiver. */
  networkLtime: number;
  records: NetworkRecord[];
}

export type NetworkDbMessage = TableGossip | BulkSync | NetworkEvent | NetworkState;

export class NetworkDbWireError extends Error {
  readonly code = 'ENETDBWIRE';
  override name = 'NetworkDbWireError';
}

export { utf8Length };

const str8Bytes = (s: string) => STR8_LENGTH_BYTES + utf8Length(s);

// ---- sizes (exact) -------------------------------------------------------

/** Type byte plus the batch header of a table gossip with no owners and no entries. */
export function gossipHeaderBytes(nid: string): number {
  return TYPE_BYTES + str8Bytes(nid) + OWNER_COUNT_BYTES + ENTRY_COUNT_BYTES;
}

export function ownerBytes(o: OwnerRecord): number {
  return FLAGS_BYTES + LTIME_BYTES + str8Bytes(o.node);
}

export function entryBytes(e: Pick<WireEntry, 'table' | 'key' | 'tombstone' | 'value'>): number {
  const head = FLAGS_BYTES + OWNER_INDEX_BYTES + LTIME_BYTES + str8Bytes(e.table) + str8Bytes(e.key);
  return head + (e.tombstone ? REAP_LEFT_BYTES : VALUE_LENGTH_BYTES + e.value.length);
}

function batchBytes(b: Batch): number {
  let n = str8Bytes(b.nid) + OWNER_COUNT_BYTES + ENTRY_COUNT_BYTES;
  for (const o of b.owners) n += ownerBytes(o);
  for (const e of b.entries) n += entryBytes(e);
  return n;
}

function recordBytes(r: NetworkRecord): number {
  return FLAGS_BYTES + LTIME_BYTES + str8Bytes(r.node) + str8Bytes(r.nid);
}

/** Exact length of encodeMessage(m). */
export function encodedSize(m: NetworkDbMessage): number {
  switch (m.type) {
    case 'tableGossip':
      return TYPE_BYTES + batchBytes(m);
    case 'bulkSync':
      return TYPE_BYTES + FLAGS_BYTES + LTIME_BYTES + batchBytes(m);
    case 'networkEvent':
      return TYPE_BYTES + recordBytes(m);
    case 'networkState': {
      let n = TYPE_BYTES + LTIME_BYTES + RECORD_COUNT_BYTES;
      for (const r of m.records) n += recordBytes(r);
      return n;
    }
  }
}

// ---- encoding ------------------------------------------------------------

function checkStr(fn: string, what: string, s: string, max: number): void {
  const n = utf8Length(s);
  if (n < 1 || n > max) throw new RangeError(`${fn}: ${what} must be 1..${max} bytes of UTF-8, got ${n}`);
}

function checkLtime(fn: string, what: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${fn}: ${what} must be an integer in ${min}..2^53-1, got ${v}`);
}

function writeBatch(w: ByteWriter, b: Batch): void {
  const fn = 'encodeMessage';
  checkStr(fn, 'network id', b.nid, MAX_NETWORK_ID_BYTES);
  if (b.owners.length > MAX_OWNERS) throw new RangeError(`${fn}: at most ${MAX_OWNERS} owners per batch, got ${b.owners.length}`);
  const index = new Map<string, number>();
  w.str8(b.nid);
  w.u16(b.owners.length);
  for (const o of b.owners) {
    checkStr(fn, 'owner', o.node, MAX_NODE_ID_BYTES);
    checkLtime(fn, 'owner network ltime', o.netLtime, 1);
    if (index.has(o.node)) throw new RangeError(`${fn}: owner ${o.node} listed twice`);
    index.set(o.node, index.size);
    w.u8(o.leaving ? FLAG_LEAVE : 0);
    w.u64(o.netLtime);
    w.str8(o.node);
  }
  w.u32(b.entries.length);
  for (const e of b.entries) {
    const i = index.get(e.owner);
    if (i === undefined) throw new RangeError(`${fn}: entry owner ${e.owner} is not in the owner list`);
    checkLtime(fn, 'entry ltime', e.ltime, 1);
    checkStr(fn, 'table', e.table, MAX_TABLE_BYTES);
    checkStr(fn, 'key', e.key, MAX_KEY_BYTES);
    w.u8(e.tombstone ? FLAG_TOMBSTONE : 0);
    w.u16(i);
    w.u64(e.ltime);
    w.str8(e.table);
    w.str8(e.key);
    if (e.tombstone) {
      if (e.value.length !== 0) throw new RangeError(`${fn}: a tombstone carries no value, got ${e.value.length} bytes`);
      if (!Number.isSafeInteger(e.reapLeftMs) || e.reapLeftMs < 0 || e.reapLeftMs > MAX_REAP_LEFT_MS) {
        throw new RangeError(`${fn}: reapLeftMs must be an integer in 0..${MAX_REAP_LEFT_MS}, got ${e.reapLeftMs}`);
      }
      w.u32(e.reapLeftMs);
    } else {
      if (e.value.length > MAX_VALUE_BYTES) throw new RangeError(`${fn}: value must be at most ${MAX_VALUE_BYTES} bytes, got ${e.value.length}`);
      w.u16(e.value.length);
      w.bytes(e.value);
    }
  }
}

function writeRecord(w: ByteWriter, r: NetworkRecord): void {
  checkStr('encodeMessage', 'node', r.node, MAX_NODE_ID_BYTES);
  checkStr('encodeMessage', 'network id', r.nid, MAX_NETWORK_ID_BYTES);
  checkLtime('encodeMessage', 'ltime', r.ltime, 1);
  w.u8(r.leaving ? FLAG_LEAVE : 0);
  w.u64(r.ltime);
  w.str8(r.node);
  w.str8(r.nid);
}

/** Encodes a message; throws RangeError for a field out of range (a caller bug, never a peer's). */
export function encodeMessage(m: NetworkDbMessage): Uint8Array {
  const w = new ByteWriter(encodedSize(m));
  w.u8(MessageType[m.type]);
  switch (m.type) {
    case 'tableGossip':
      writeBatch(w, m);
      break;
    case 'bulkSync':
      checkLtime('encodeMessage', 'tableLtime', m.tableLtime, 0);
      w.u8(m.response ? FLAG_RESPONSE : 0);
      w.u64(m.tableLtime);
      writeBatch(w, m);
      break;
    case 'networkEvent':
      writeRecord(w, m);
      break;
    case 'networkState':
      checkLtime('encodeMessage', 'networkLtime', m.networkLtime, 0);
      w.u64(m.networkLtime);
      w.u32(m.records.length);
      for (const r of m.records) writeRecord(w, r);
      break;
  }
  return w.buf;
}

// ---- decoding ------------------------------------------------------------

/** The cursor's faults, in this codec's words. */
function wireError(f: ByteCursorFault): NetworkDbWireError {
  switch (f.kind) {
    case 'truncated':
      return new NetworkDbWireError(`truncated ${f.what}`);
    case 'length':
      return new NetworkDbWireError(`${f.what} must be 1..${f.max} bytes, got ${f.got}`);
    case 'utf8':
      return new NetworkDbWireError(`${f.what} is not UTF-8`);
    case 'u64':
      return new NetworkDbWireError(`${f.what} exceeds 2^53-1`);
    case 'trailing':
      return new NetworkDbWireError(`${f.have} bytes after the ${f.what} message`);
  }
}

function readFlags(r: ByteReader, what: string, allowed: number): number {
  const f = r.u8(`${what} flags`);
  if ((f & ~allowed) !== 0) throw new NetworkDbWireError(`${what} flags 0x${f.toString(16).padStart(2, '0')} has unknown bits`);
  return f;
}

function ltimeAtLeast1(v: number, what: string): number {
  if (v === 0) throw new NetworkDbWireError(`${what} must not be 0`);
  return v;
}

const MIN_OWNER_BYTES = FLAGS_BYTES + LTIME_BYTES + STR8_LENGTH_BYTES + 1;
const MIN_ENTRY_BYTES = FLAGS_BYTES + OWNER_INDEX_BYTES + LTIME_BYTES + 2 * (STR8_LENGTH_BYTES + 1) + VALUE_LENGTH_BYTES;
const MIN_RECORD_BYTES = FLAGS_BYTES + LTIME_BYTES + 2 * (STR8_LENGTH_BYTES + 1);

function readBatch(r: ByteReader): Batch {
  const nid = r.str8('network id', MAX_NETWORK_ID_BYTES);
  const ownerCount = r.u16('owner count');
  if (ownerCount * MIN_OWNER_BYTES > r.left) throw new NetworkDbWireError(`owner count ${ownerCount} exceeds the message`);
  const owners: OwnerRecord[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < ownerCount; i++) {
    const leaving = (readFlags(r, 'owner', FLAG_LEAVE) & FLAG_LEAVE) !== 0;
    const netLtime = ltimeAtLeast1(r.u64('owner network ltime'), 'owner network ltime');
    const node = r.str8('owner', MAX_NODE_ID_BYTES);
    if (seen.has(node)) throw new NetworkDbWireError(`owner ${node} listed twice`);
    seen.add(node);
    owners.push({ node, netLtime, leaving });
  }
  const entryCount = r.u32('entry count');
  if (entryCount * MIN_ENTRY_BYTES > r.left) throw new NetworkDbWireError(`entry count ${entryCount} exceeds the message`);
  const entries: WireEntry[] = [];
  for (let i = 0; i < entryCount; i++) {
    const tombstone = (readFlags(r, 'entry', FLAG_TOMBSTONE) & FLAG_TOMBSTONE) !== 0;
    const idx = r.u16('owner index');
    const owner = owners[idx];
    if (owner === undefined) throw new NetworkDbWireError(`owner index ${idx} past ${ownerCount} owners`);
    const ltime = ltimeAtLeast1(r.u64('entry ltime'), 'entry ltime');
    const table = r.str8('table', MAX_TABLE_BYTES);
    const key = r.str8('key', MAX_KEY_BYTES);
    if (tombstone) {
      const reapLeftMs = r.u32('reap left');
      entries.push({ owner: owner.node, ltime, table, key, tombstone, value: new Uint8Array(0), reapLeftMs });
    } else {
      const n = r.u16('value length');
      if (n > MAX_VALUE_BYTES) throw new NetworkDbWireError(`value must be at most ${MAX_VALUE_BYTES} bytes, got ${n}`);
      entries.push({ owner: owner.node, ltime, table, key, tombstone, value: r.bytes(n, 'value'), reapLeftMs: 0 });
    }
  }
  return { nid, owners, entries };
}

function readRecord(r: ByteReader): NetworkRecord {
  const leaving = (readFlags(r, 'record', FLAG_LEAVE) & FLAG_LEAVE) !== 0;
  const ltime = ltimeAtLeast1(r.u64('ltime'), 'ltime');
  const node = r.str8('node', MAX_NODE_ID_BYTES);
  const nid = r.str8('network id', MAX_NETWORK_ID_BYTES);
  return { node, nid, ltime, leaving };
}

/** Decodes and validates; throws NetworkDbWireError on anything but one well-formed message. */
export function decodeMessage(buf: Uint8Array): NetworkDbMessage {
  // Strings decode as they always have here: a leading U+FEFF is dropped.
  const r = new ByteReader(buf, { stripBOM: true, fail: wireError });
  const t = r.u8('type');
  let m: NetworkDbMessage;
  switch (t) {
    case MessageType.tableGossip:
      m = { type: 'tableGossip', ...readBatch(r) };
      break;
    case MessageType.bulkSync: {
      const response = (readFlags(r, 'bulk sync', FLAG_RESPONSE) & FLAG_RESPONSE) !== 0;
      const tableLtime = r.u64('table ltime');
      m = { type: 'bulkSync', response, tableLtime, ...readBatch(r) };
      break;
    }
    case MessageType.networkEvent:
      m = { type: 'networkEvent', ...readRecord(r) };
      break;
    case MessageType.networkState: {
      const networkLtime = r.u64('network ltime');
      const count = r.u32('record count');
      if (count * MIN_RECORD_BYTES > r.left) throw new NetworkDbWireError(`record count ${count} exceeds the message`);
      const records: NetworkRecord[] = [];
      for (let i = 0; i < count; i++) records.push(readRecord(r));
      m = { type: 'networkState', networkLtime, records };
      break;
    }
    default:
      throw new NetworkDbWireError(`unknown message type ${t}`);
  }
  r.expectEnd(m.type);
  return m;
}
