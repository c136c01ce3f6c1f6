// The durable Raft log of a manager: segments of checksummed records
// (record.ts) plus snapshot files (snapshot-file.ts) in one state directory,
// reached only through the Disk seam (disk.ts).
//
// - save() appends and fsyncs before it resolves; the host sends the
//   messages that depend on a write only after that (Raft paper, figure 2:
//   "updated on stable storage before responding to RPCs").
// - A crash can only tear the end of the newest segment: open() cuts a torn
//   tail back to the last whole record and says so in `repairs`. Damage with
//   a good record after it is corruption, and open() refuses to start with
//   one line naming the file and byte, rather than lose committed entries.
// - saveSnapshot() writes the snapshot file atomically, then starts a new
//   segment that holds the whole remaining state on its own (so only the
//   newest segment is ever read), then deletes what that makes obsolete. The
//   previous snapshot and the entries after it are kept while they lead up to
//   the new snapshot, as a fallback for a corrupt snapshot file.
// - rewriteSnapshot() replaces the body of the current snapshot file the
//   same atomic way (temp file, fsync, rename, fsync of the directory).
//
// Every step is ordered so that a crash between any two leaves either the old
// or the new state on disk (test/unit/cluster/wal/wal-crash.test.ts checks
// each point). Once a write or fsync fails the log refuses all further work:
// after a failed fsync the kernel may have dropped the dirty pages, and a
// retry can report success without them (PostgreSQL "fsyncgate", 2018).
import { join } from 'node:path';
import type { AppendFile, Disk } from './disk.js';
import { applyRecord, checkAppend, checkSnapshot, emptyLogState, entriesAfter, segmentRecords, type LogState } from './log-state.js';
import { checkSegmentHeader, encodeRecord, encodeSegmentHeader, scanSegment, type WalRecord } from './record.js';
import { decodeSnapshotFile, encodeSnapshotFile, hex16, parseSnapshotFileName, snapshotFileName } from './snapshot-file.js';
import type { Entry, HardState, SnapshotMeta } from './types.js';

const REFUSE = 'refusing to start; restore this manager from a backup or remove it and rejoin';
const SEGMENT_NAME = /^wal-([0-9a-f]{16})\.log$/;
const TEMP_SUFFIX = '.tmp';

export function segmentFileName(seq: number): string {
  return `wal-${hex16(seq)}.log`;
}

/** What open() had to fix to start. */
export interface WalRepairs {
  /** Bytes cut off the end of the newest segment (a torn tail); 0 when it was clean. */
  truncatedBytes: number;
  /** Where and why the cut was made, when truncatedBytes > 0. */
  truncatedAt: { file: string; offset: number; reason: string } | undefined;
  /** Set when the latest snapshot was unusable and the previous one was used instead. */
  snapshotFallback: { file: string; reason: string } | undefined;
  /** Leftovers of interrupted writes that were deleted (temp files, superseded segments). */
  removedFiles: string[];
}

export interface WalOpened {
  wal: Wal;
  hardState: HardState;
  /** The snapshot to restore the state machine from (loadSnapshot() reads it), if any. */
  snapshot: SnapshotMeta | undefined;
  /** Every stored entry after `snapshot`, consecutive. */
  entries: Entry[];
  repairs: WalRepairs;
}

export interface WalUpdate {
  hardState?: HardState;
  /** Replaces any stored entry at or after entries[0].index. */
  entries?: Entry[];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function cloneState(s: LogState): LogState {
  return { hardState: { ...s.hardState }, snapshot: s.snapshot && { ...s.snapshot }, base: { ...s.base }, entries: s.entries.slice() };
}

export class Wal {
  readonly #disk: Disk;
  readonly #dir: string;
  #seq: number;
  #file: AppendFile | undefined;
  #state: LogState;
  #broken: unknown;
  #closed = false;

  private constructor(disk: Disk, dir: string, seq: number, state: LogState) {
    this.#disk = disk;
    this.#dir = dir;
    this.#seq = seq;
    this.#state = state;
  }

  /** Open (creating if needed) the log in `dir` and read back everything it holds. */
  static async open(disk: Disk, dir: string): Promise<WalOpened> {
    const repairs: WalRepairs = { truncatedBytes: 0, truncatedAt: undefined, snapshotFallback: undefined, removedFiles: [] };
    disk.mkdirp(dir);
    // What we are about to read may be visible yet not durable (a process
    // crash keeps the page cache): make the names durable before acting on them.
    disk.syncDir(dir);
    const names = disk.list(dir);
    for (const n of names.filter((n) => n.endsWith(TEMP_SUFFIX))) {
      disk.remove(join(dir, n));
      repairs.removedFiles.push(join(dir, n));
    }
    const segments = names.flatMap((n) => {
      const m = SEGMENT_NAME.exec(n);
      return m ? [parseInt(m[1]!, 16)] : [];
    });
    const newest = segments.length > 0 ? Math.max(...segments) : undefined;

    let wal: Wal;
    if (newest === undefined) {
      const snap = names.find((n) => parseSnapshotFileName(n));
      if (snap) throw new Error(`raft state dir ${dir} holds snapshot ${snap} but no log segment: ${REFUSE}`);
      wal = new Wal(disk, dir, 0, emptyLogState());
      wal.#startSegment(wal.#state);
    } else {
      const path = join(dir, segmentFileName(newest));
      const state = Wal.#replay(disk, path, repairs);
      wal = new Wal(disk, dir, newest, state);
      wal.#file = disk.openAppend(path);
      // Makes a truncation durable, and any tail that a process crash left
      // in the page cache but never fsynced.
      wal.#file.sync();
      for (const seq of segments.filter((s) => s !== newest)) {
        disk.remove(join(dir, segmentFileName(seq)));
        repairs.removedFiles.push(join(dir, segmentFileName(seq)));
      }
      if (segments.length > 1) disk.syncDir(dir);
    }
    try {
      wal.#pickSnapshot(repairs);
    } catch (e) {
      wal.close();
      throw e;
    }
    const s = wal.#state;
    return { wal, hardState: { ...s.hardState }, snapshot: s.snapshot && { ...s.snapshot }, entries: entriesAfter(s, s.snapshot), repairs };
  }

  static #replay(disk: Disk, path: string, repairs: WalRepairs): LogState {
    const buf = disk.readFile(path);
    const bad = checkSegmentHeader(buf);
    if (bad) throw new Error(`raft log ${path} is corrupt at byte 0 (${bad}): ${REFUSE}`);
    const scan = scanSegment(buf);
    const d = scan.damage;
    if (d?.unreadable) throw new Error(`raft log ${path} is unreadable at byte ${d.offset} (${d.reason}): ${REFUSE}`);
    if (d?.validFollows) throw new Error(`raft log ${path} is corrupt at byte ${d.offset} (${d.reason}, valid records follow): ${REFUSE}`);
    const state = emptyLogState();
    for (const { offset, record } of scan.records) {
      const why = applyRecord(state, record);
      if (why) throw new Error(`raft log ${path} is corrupt at byte ${offset} (${why}): ${REFUSE}`);
    }
    if (d) {
      disk.truncate(path, scan.goodEnd);
      repairs.truncatedBytes = buf.length - scan.goodEnd;
      repairs.truncatedAt = { file: path, offset: d.offset, reason: d.reason };
    }
    return state;
  }

  /** Check the latest snapshot file; fall back to the previous one when it is unusable and the log allows. */
  #pickSnapshot(repairs: WalRepairs): void {
    const s = this.#state;
    if (!s.snapshot) return;
    const why = this.#checkSnapshotFile(s.snapshot);
    if (!why) return;
    const file = join(this.#dir, snapshotFileName(s.snapshot));
    const canFallBack = s.base.index < s.snapshot.index;
    const baseWhy = canFallBack && s.base.index > 0 ? this.#checkSnapshotFile(s.base) : undefined;
    if (!canFallBack || baseWhy) {
      const previous = canFallBack ? `the previous snapshot is unusable too (${baseWhy})` : 'the log no longer holds what an earlier snapshot would need';
      throw new Error(`raft snapshot ${file} is unusable (${why}) and ${previous}: ${REFUSE}`);
    }
    repairs.snapshotFallback = { file, reason: why };
    // Rewrite the log around the previous snapshot, so that the disk says
    // what the running log holds and a later append cannot conflict with it.
    const next = cloneState(s);
    next.snapshot = s.base.index > 0 ? { ...s.base } : undefined;
    this.#guard(() => this.#startSegment(next));
    this.#state = next;
  }

  #checkSnapshotFile(m: SnapshotMeta): string | undefined {
    const got = this.#readSnapshotFile(m);
    return typeof got === 'string' ? got : undefined;
  }

  #readSnapshotFile(m: SnapshotMeta): (SnapshotMeta & { data: Uint8Array }) | string {
    let buf: Uint8Array;
    try {
      buf = this.#disk.readFile(join(this.#dir, snapshotFileName(m)));
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return 'file is missing';
      throw e;
    }
    const got = decodeSnapshotFile(buf);
    if (typeof got === 'string') return got;
    if (got.index !== m.index || got.term !== m.term) return `header says index ${got.index} term ${got.term}`;
    return got;
  }

  /** The snapshot the log currently starts from. */
  get snapshot(): SnapshotMeta | undefined {
    return this.#state.snapshot && { ...this.#state.snapshot };
  }

  /** Append entries and/or a hard state and fsync; resolves only once both are durable. */
  async save(update: WalUpdate): Promise<void> {
    this.#usable('save');
    const records: WalRecord[] = [];
    const entries = update.entries ?? [];
    if (!Array.isArray(entries)) throw new TypeError(`save: entries must be an array, got ${typeof entries}`);
    const why = checkAppend(this.#state, entries);
    if (why) throw new RangeError(`save: ${why}`);
    // Entries before the hard state: a torn write then keeps entries without
    // the commit index that points at them, never the other way round.
    if (entries.length > 0) records.push({ type: 'entries', entries });
    if (update.hardState) records.push({ type: 'hardState', hardState: update.hardState });
    if (records.length === 0) return;
    const bytes = concat(records.map(encodeRecord)); // validates before any write
    this.#guard(() => {
      this.#file!.append(bytes);
      this.#file!.sync();
    });
    for (const r of records) applyRecord(this.#state, r);
  }

  /**
   * Store a snapshot of the state machine up to and including `meta.index`,
   * then compact: entries up to it leave the log (or the whole log, when it
   * does not hold meta.index at meta.term, as for a snapshot from the leader).
   */
  async saveSnapshot(data: Uint8Array, meta: SnapshotMeta): Promise<void> {
    this.#usable('saveSnapshot');
    if (!(data instanceof Uint8Array)) throw new TypeError(`saveSnapshot: data must be a Uint8Array, got ${typeof data}`);
    const why = checkSnapshot(this.#state, meta);
    if (why) throw new RangeError(`saveSnapshot: ${why}`);
    const bytes = encodeSnapshotFile(meta, data);
    const next = cloneState(this.#state);
    applyRecord(next, { type: 'snapshot', snapshot: meta });
    this.#guard(() => {
      const path = join(this.#dir, snapshotFileName(meta));
      this.#writeAtomically(path, bytes);
      this.#startSegment(next);
      const keep = new Set([next.snapshot, next.base].flatMap((m) => (m && m.index > 0 ? [snapshotFileName(m)] : [])));
      let removed = false;
      for (const n of this.#disk.list(this.#dir)) {
        if (parseSnapshotFileName(n) && !keep.has(n)) {
          this.#disk.remove(join(this.#dir, n));
          removed = true;
        }
      }
      if (removed) this.#disk.syncDir(this.#dir);
    });
    this.#state = next;
  }

  /**
   * Replace the body of the snapshot the log starts from, keeping its index
   * and term: for a host that changes what the snapshot stands for while the
   * log holds nothing after it (a forced new cluster whose log ends at its
   * snapshot, replica.ts). Atomic like saveSnapshot: a crash leaves the old
   * body or the new one, both at the same position.
   */
  async rewriteSnapshot(data: Uint8Array, meta: SnapshotMeta): Promise<void> {
    this.#usable('rewriteSnapshot');
    if (!(data instanceof Uint8Array)) throw new TypeError(`rewriteSnapshot: data must be a Uint8Array, got ${typeof data}`);
    const cur = this.#state.snapshot;
    if (!cur || cur.index !== meta.index || cur.term !== meta.term) {
      const want = cur ? `index ${cur.index} term ${cur.term}` : 'none, the log has no snapshot';
      throw new RangeError(`rewriteSnapshot: expected the current snapshot (${want}), got index ${meta.index} term ${meta.term}`);
    }
    const bytes = encodeSnapshotFile(meta, data);
    this.#guard(() => this.#writeAtomically(join(this.#dir, snapshotFileName(meta)), bytes));
  }

  /** The snapshot the log starts from, read and verified; undefined before the first. */
  async loadSnapshot(): Promise<(SnapshotMeta & { data: Uint8Array }) | undefined> {
    this.#usable('loadSnapshot');
    const m = this.#state.snapshot;
    if (!m) return undefined;
    const got = this.#readSnapshotFile(m);
    if (typeof got === 'string') throw new Error(`raft snapshot ${join(this.#dir, snapshotFileName(m))} is unusable (${got})`);
    return got;
  }

  /** Release the open segment. Idempotent; every other call throws afterwards. */
  close(): void {
    this.#closed = true;
    this.#file?.close();
    this.#file = undefined;
  }

  #usable(op: string): void {
    if (this.#closed) throw new Error(`${op}: the raft log is closed`);
    if (this.#broken !== undefined) {
      const cause = this.#broken instanceof Error ? this.#broken.message : String(this.#broken);
      throw new Error(`${op}: the raft log is unusable after a failed write (${cause}); restart the manager`);
    }
  }

  /** Run disk writes; the first failure poisons the log (see the header comment). */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#broken = e;
      throw e;
    }
  }

  /** Write a whole file under a temp name, fsync it, rename it into place, fsync the dir. */
  #writeAtomically(path: string, bytes: Uint8Array): void {
    const tmp = path + TEMP_SUFFIX;
    const f = this.#disk.openAppend(tmp);
    try {
      f.append(bytes);
      f.sync();
    } finally {
      f.close();
    }
    this.#disk.rename(tmp, path);
    this.#disk.syncDir(this.#dir);
  }

  /** Make a new segment that holds `state` on its own, switch to it, and delete the older ones. */
  #startSegment(state: LogState): void {
    const seq = this.#seq + 1;
    const path = join(this.#dir, segmentFileName(seq));
    this.#writeAtomically(path, concat([encodeSegmentHeader(), ...segmentRecords(state).map(encodeRecord)]));
    this.#file?.close();
    this.#file = this.#disk.openAppend(path);
    this.#seq = seq;
    let removed = false;
    for (const n of this.#disk.list(this.#dir)) {
      const m = SEGMENT_NAME.exec(n);
      if (m && parseInt(m[1]!, 16) < seq) {
        this.#disk.remove(join(this.#dir, n));
        removed = true;
      }
    }
    if (removed) this.#disk.syncDir(this.#dir);
  }
}
