// The on-disk format of a Raft log segment (STYLE habit 6). All integers are
// big-endian; u64 values must be safe JavaScript integers (< 2^53).
//
// Segment file  wal-<sequence as 16 hex digits>.log
//
//    0        4         6          8
//   +--------+---------+----------+--------+--------+--
//   | magic  | version | reserved | record | record | ...
//   | "AWAL" | u16 = 1 | u16 = 0  |        |        |
//   +--------+---------+----------+--------+--------+--
//
// Record
//
//    0         4         8      9
//   +---------+---------+------+----------------------------+
//   | length  | crc32c  | type | payload (`length` bytes)   |
//   | u32     | u32     | u8   |                            |
//   +---------+---------+------+----------------------------+
//   crc32c (shared/checksum.ts) covers length, type and payload: bytes
//   [0,4) then [8, 9+length). A record is only ever appended whole.
//
// Payloads by type (type numbers are only ever appended, never reused):
//
//   1 entries     count u32 | count x ( index u64 | term u64 | kind u8 | size u32 | data )
//                 kind 0 = normal, 1 = conf; indexes consecutive; count >= 1
//   2 hard state  term u64 | commit u64 | voteSize u16 | vote (UTF-8; 0 bytes = no vote)
//   3 snapshot    index u64 | term u64   (a snapshot file for this position is durable)
//
// Decoding is length-exact: a payload with bytes left over or missing is
// malformed, never guessed at.

import { crc32c } from '../../../shared/checksum.js';
import type { Entry, EntryType, HardState, SnapshotMeta } from './types.js';

export const SEGMENT_MAGIC = Uint8Array.from([0x41, 0x57, 0x41, 0x4c]); // "AWAL"
export const SEGMENT_VERSION = 1;

export const SegmentHeader = { magic: 0, version: 4, reserved: 6, size: 8 } as const;
export const RecordHeader = { length: 0, crc: 4, type: 8, size: 9 } as const;

/** Record types; append new ones at the end, never renumber. */
export const RecordType = { entries: 1, hardState: 2, snapshot: 3 } as const;

export const EntryLayout = { index: 0, term: 8, kind: 16, size: 17, data: 21 } as const;
export const HardStateLayout = { term: 0, commit: 8, voteSize: 16, vote: 18 } as const;
export const SnapshotLayout = { index: 0, term: 8, size: 16 } as const;
const ENTRY_KINDS: readonly EntryType[] = ['normal', 'conf'];

/**
 * The largest payload written or accepted. A Raft append batch is bounded by
 * the core's per-message size (about 1 MiB); 64 MiB leaves room for huge
 * conf entries while letting a garbage length field be recognised as one.
 */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
const MAX_VOTE_BYTES = 0xffff;

export type WalRecord =
  | { type: 'entries'; entries: Entry[] }
  | { type: 'hardState'; hardState: HardState }
  | { type: 'snapshot'; snapshot: SnapshotMeta };

// ---- encoding ---------------------------------------------------------------

function checkU64(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
}

function setU64(dv: DataView, off: number, n: number): void {
  dv.setUint32(off, Math.floor(n / 0x1_0000_0000));
  dv.setUint32(off + 4, n >>> 0);
}

function getU64(dv: DataView, off: number): number | undefined {
  const hi = dv.getUint32(off);
  if (hi > 0x1f_ffff) return undefined; // not a safe integer
  return hi * 0x1_0000_0000 + dv.getUint32(off + 4);
}

export function encodeSegmentHeader(): Uint8Array {
  const out = new Uint8Array(SegmentHeader.size);
  out.set(SEGMENT_MAGIC, SegmentHeader.magic);
  new DataView(out.buffer).setUint16(SegmentHeader.version, SEGMENT_VERSION);
  return out;
}

function encodePayload(r: WalRecord): Uint8Array {
  switch (r.type) {
    case 'entries': {
      if (r.entries.length === 0) throw new RangeError('entries record: needs at least one entry, got 0');
      let size = 4;
      for (const e of r.entries) size += EntryLayout.data + e.data.length;
      if (size > MAX_PAYLOAD_BYTES) throw new RangeError(`entries record: ${size} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte record limit`);
      const out = new Uint8Array(size);
      const dv = new DataView(out.buffer);
      dv.setUint32(0, r.entries.length);
      let off = 4;
      for (const e of r.entries) {
        checkU64('entry index', e.index);
        checkU64('entry term', e.term);
        const kind = ENTRY_KINDS.indexOf(e.type);
        if (kind < 0) throw new RangeError(`entry type must be 'normal' or 'conf', got ${String(e.type)}`);
        if (!(e.data instanceof Uint8Array)) throw new TypeError(`entry data must be a Uint8Array, got ${typeof e.data}`);
        setU64(dv, off + EntryLayout.index, e.index);
        setU64(dv, off + EntryLayout.term, e.term);
        dv.setUint8(off + EntryLayout.kind, kind);
        dv.setUint32(off + EntryLayout.size, e.data.length);
        out.set(e.data, off + EntryLayout.data);
        off += EntryLayout.data + e.data.length;
      }
      return out;
    }
    case 'hardState': {
      const { term, commit, vote } = r.hardState;
      checkU64('hard state term', term);
      checkU64('hard state commit', commit);
      if (vote !== undefined && (typeof vote !== 'string' || vote === '')) {
        throw new RangeError(`hard state vote must be a non-empty string or undefined, got ${JSON.stringify(vote)}`);
      }
      const voteBytes = new TextEncoder().encode(vote ?? '');
      if (voteBytes.length > MAX_VOTE_BYTES) throw new RangeError(`hard state vote must be at most ${MAX_VOTE_BYTES} bytes, got ${voteBytes.length}`);
      const out = new Uint8Array(HardStateLayout.vote + voteBytes.length);
      const dv = new DataView(out.buffer);
      setU64(dv, HardStateLayout.term, term);
      setU64(dv, HardStateLayout.commit, commit);
      dv.setUint16(HardStateLayout.voteSize, voteBytes.length);
      out.set(voteBytes, HardStateLayout.vote);
      return out;
    }
    case 'snapshot': {
      checkU64('snapshot index', r.snapshot.index);
      checkU64('snapshot term', r.snapshot.term);
      const out = new Uint8Array(SnapshotLayout.size);
      const dv = new DataView(out.buffer);
      setU64(dv, SnapshotLayout.index, r.snapshot.index);
      setU64(dv, SnapshotLayout.term, r.snapshot.term);
      return out;
    }
  }
}

/** One framed record, ready to append. */
export function encodeRecord(r: WalRecord): Uint8Array {
  const payload = encodePayload(r);
  const out = new Uint8Array(RecordHeader.size + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(RecordHeader.length, payload.length);
  dv.setUint8(RecordHeader.type, RecordType[r.type]);
  out.set(payload, RecordHeader.size);
  dv.setUint32(RecordHeader.crc, recordCrc(out, payload.length));
  return out;
}

function recordCrc(buf: Uint8Array, length: number, at = 0): number {
  const head = crc32c(buf.subarray(at + RecordHeader.length, at + RecordHeader.crc));
  return crc32c(buf.subarray(at + RecordHeader.type, at + RecordHeader.size + length), head);
}

// ---- decoding ---------------------------------------------------------------

/** Why the segment header is unusable, or undefined when it is fine. */
export function checkSegmentHeader(buf: Uint8Array): string | undefined {
  if (buf.length < SegmentHeader.size) return `file is ${buf.length} bytes, shorter than the ${SegmentHeader.size}-byte header`;
  for (let i = 0; i < SEGMENT_MAGIC.length; i++) if (buf[i] !== SEGMENT_MAGIC[i]) return 'bad magic, not a raft log segment';
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint16(SegmentHeader.version);
  if (version !== SEGMENT_VERSION) return `format version ${version}, this agent reads version ${SEGMENT_VERSION}`;
  if (dv.getUint16(SegmentHeader.reserved) !== 0) return 'reserved header bytes are not zero';
  return undefined;
}

/**
 * What sits at one offset of a segment:
 * - record: a whole record with a good checksum, ending at `end`;
 * - short: its header or payload runs past the end of the file;
 * - damaged: the length is out of range or the checksum does not match;
 * - unreadable: the checksum matches but the content cannot be decoded (an
 *   unknown type from a newer agent, or a malformed payload): never torn.
 */
export type Frame =
  | { kind: 'record'; record: WalRecord; end: number }
  | { kind: 'short' }
  | { kind: 'damaged'; reason: string }
  | { kind: 'unreadable'; reason: string };

export function readFrame(buf: Uint8Array, off: number): Frame {
  if (buf.length - off < RecordHeader.size) return { kind: 'short' };
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const length = dv.getUint32(off + RecordHeader.length);
  if (length > MAX_PAYLOAD_BYTES) return { kind: 'damaged', reason: 'record length out of range' };
  const end = off + RecordHeader.size + length;
  if (end > buf.length) return { kind: 'short' };
  if (recordCrc(buf, length, off) !== dv.getUint32(off + RecordHeader.crc)) return { kind: 'damaged', reason: 'checksum mismatch' };
  const type = dv.getUint8(off + RecordHeader.type);
  const payload = new DataView(buf.buffer, buf.byteOffset + off + RecordHeader.size, length);
  const record = decodePayload(type, payload, buf.subarray(off + RecordHeader.size, end));
  if (typeof record === 'string') return { kind: 'unreadable', reason: record };
  return { kind: 'record', record, end };
}

/** The record, or why the payload cannot be decoded. */
function decodePayload(type: number, dv: DataView, bytes: Uint8Array): WalRecord | string {
  const n = bytes.length;
  switch (type) {
    case RecordType.entries: {
      if (n < 4) return 'malformed entries record';
      const count = dv.getUint32(0);
      const entries: Entry[] = [];
      let off = 4;
      for (let i = 0; i < count; i++) {
        if (n - off < EntryLayout.data) return 'malformed entries record';
        const index = getU64(dv, off + EntryLayout.index);
        const term = getU64(dv, off + EntryLayout.term);
        const kind = ENTRY_KINDS[dv.getUint8(off + EntryLayout.kind)];
        const size = dv.getUint32(off + EntryLayout.size);
        if (index === undefined || term === undefined || kind === undefined) return 'malformed entries record';
        const start = off + EntryLayout.data;
        if (n - start < size) return 'malformed entries record';
        entries.push({ index, term, type: kind, data: bytes.slice(start, start + size) });
        off = start + size;
      }
      if (off !== n || count === 0) return 'malformed entries record';
      for (let i = 1; i < entries.length; i++) if (entries[i]!.index !== entries[0]!.index + i) return 'entries record with non-consecutive indexes';
      return { type: 'entries', entries };
    }
    case RecordType.hardState: {
      if (n < HardStateLayout.vote) return 'malformed hard state record';
      const term = getU64(dv, HardStateLayout.term);
      const commit = getU64(dv, HardStateLayout.commit);
      const voteSize = dv.getUint16(HardStateLayout.voteSize);
      if (term === undefined || commit === undefined || n !== HardStateLayout.vote + voteSize) return 'malformed hard state record';
      let vote: string | undefined;
      try {
        vote = voteSize === 0 ? undefined : new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HardStateLayout.vote));
      } catch {
        return 'malformed hard state record';
      }
      return { type: 'hardState', hardState: { term, vote, commit } };
    }
    case RecordType.snapshot: {
      if (n !== SnapshotLayout.size) return 'malformed snapshot record';
      const index = getU64(dv, SnapshotLayout.index);
      const term = getU64(dv, SnapshotLayout.term);
      if (index === undefined || term === undefined) return 'malformed snapshot record';
      return { type: 'snapshot', snapshot: { index, term } };
    }
    default:
      return `record of unknown type ${type} (written by a newer agent?)`;
  }
}

export interface Damage {
  offset: number;
  reason: string;
  /** A readable record (good checksum) lies after the damage, so it is not a torn tail. */
  validFollows: boolean;
  /** The checksum matched: the record is intact but this agent cannot read it. */
  unreadable: boolean;
}

export interface SegmentScan {
  records: { offset: number; record: WalRecord }[];
  /** Where the last whole, readable record ends. */
  goodEnd: number;
  damage: Damage | undefined;
}

/**
 * Read every record of a segment whose header is good. Stops at the first
 * damaged record and looks for any record with a good checksum at any later
 * offset: a crash can only tear the tail (we append, and fsync before
 * acknowledging), so damage followed by a good record is corruption.
 */
export function scanSegment(buf: Uint8Array): SegmentScan {
  const records: SegmentScan['records'] = [];
  let off: number = SegmentHeader.size;
  while (off < buf.length) {
    const f = readFrame(buf, off);
    if (f.kind === 'record') {
      records.push({ offset: off, record: f.record });
      off = f.end;
      continue;
    }
    const reason = f.kind === 'short' ? 'record runs past the end of the file' : f.reason;
    const unreadable = f.kind === 'unreadable';
    return { records, goodEnd: off, damage: { offset: off, reason, unreadable, validFollows: goodRecordAfter(buf, off + 1) } };
  }
  return { records, goodEnd: off, damage: undefined };
}

function goodRecordAfter(buf: Uint8Array, from: number): boolean {
  for (let q = from; q + RecordHeader.size <= buf.length; q++) {
    const k = readFrame(buf, q).kind;
    if (k === 'record' || k === 'unreadable') return true;
  }
  return false;
}
