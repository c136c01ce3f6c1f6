// The on-disk format of a Raft snapshot file (STYLE habit 6). Big-endian;
// u64 values must be safe JavaScript integers.
//
// Snapshot file  snap-<index as 16 hex digits>-<term as 16 hex digits>.snap
//
//    0       4         6          8       16      24       32       36
//   +-------+---------+----------+-------+-------+--------+--------+--------------+
//   | magic | version | reserved | index | term  | size   | crc32c | body         |
//   | "ASNP"| u16 = 1 | u16 = 0  | u64   | u64   | u64    | u32    | `size` bytes |
//   +-------+---------+----------+-------+-------+--------+--------+--------------+
//   crc32c covers bytes [0,32) and the body, so a flipped bit anywhere but in
//   the crc itself is caught (and a flipped crc is a mismatch too).
//
// The body is opaque here: the host encodes the state machine and its
// configuration however it likes. The file is written whole to a temp name,
// fsynced and renamed (wal.ts), so a torn snapshot file is never visible.

import { crc32c } from '../../../shared/checksum.js';
import type { SnapshotMeta } from './types.js';

export const SNAPSHOT_MAGIC = Uint8Array.from([0x41, 0x53, 0x4e, 0x50]); // "ASNP"
export const SNAPSHOT_VERSION = 1;
export const SnapshotHeader = { magic: 0, version: 4, reserved: 6, index: 8, term: 16, size: 24, crc: 32, body: 36 } as const;

export function snapshotFileName(m: SnapshotMeta): string {
  return `snap-${hex16(m.index)}-${hex16(m.term)}.snap`;
}

export function parseSnapshotFileName(name: string): SnapshotMeta | undefined {
  const m = /^snap-([0-9a-f]{16})-([0-9a-f]{16})\.snap$/.exec(name);
  if (!m) return undefined;
  return { index: parseInt(m[1]!, 16), term: parseInt(m[2]!, 16) };
}

export function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

export function encodeSnapshotFile(meta: SnapshotMeta, body: Uint8Array): Uint8Array {
  for (const [what, n] of [['index', meta.index], ['term', meta.term]] as const) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`snapshot ${what} must be a non-negative safe integer, got ${n}`);
  }
  const out = new Uint8Array(SnapshotHeader.body + body.length);
  const dv = new DataView(out.buffer);
  out.set(SNAPSHOT_MAGIC, SnapshotHeader.magic);
  dv.setUint16(SnapshotHeader.version, SNAPSHOT_VERSION);
  setU64(dv, SnapshotHeader.index, meta.index);
  setU64(dv, SnapshotHeader.term, meta.term);
  setU64(dv, SnapshotHeader.size, body.length);
  out.set(body, SnapshotHeader.body);
  dv.setUint32(SnapshotHeader.crc, fileCrc(out));
  return out;
}

/** The snapshot, or why the file cannot be trusted. */
export function decodeSnapshotFile(buf: Uint8Array): (SnapshotMeta & { data: Uint8Array }) | string {
  if (buf.length < SnapshotHeader.body) return `file is ${buf.length} bytes, shorter than the ${SnapshotHeader.body}-byte header`;
  for (let i = 0; i < SNAPSHOT_MAGIC.length; i++) if (buf[i] !== SNAPSHOT_MAGIC[i]) return 'bad magic, not a raft snapshot';
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint16(SnapshotHeader.version);
  if (version !== SNAPSHOT_VERSION) return `format version ${version}, this agent reads version ${SNAPSHOT_VERSION}`;
  if (fileCrc(buf) !== dv.getUint32(SnapshotHeader.crc)) return 'checksum mismatch';
  const index = getU64(dv, SnapshotHeader.index);
  const term = getU64(dv, SnapshotHeader.term);
  const size = getU64(dv, SnapshotHeader.size);
  if (index === undefined || term === undefined || dv.getUint16(SnapshotHeader.reserved) !== 0) return 'malformed header';
  if (size !== buf.length - SnapshotHeader.body) return `body is ${buf.length - SnapshotHeader.body} bytes, header says ${size}`;
  return { index, term, data: buf.slice(SnapshotHeader.body) };
}

function fileCrc(buf: Uint8Array): number {
  return crc32c(buf.subarray(SnapshotHeader.body), crc32c(buf.subarray(0, SnapshotHeader.crc)));
}

function setU64(dv: DataView, off: number, n: number): void {
  dv.setUint32(off, Math.floor(n / 0x1_0000_0000));
  dv.setUint32(off + 4, n >>> 0);
}

function getU64(dv: DataView, off: number): number | undefined {
  const hi = dv.getUint32(off);
  return hi > 0x1f_ffff ? undefined : hi * 0x1_0000_0000 + dv.getUint32(off + 4);
}
