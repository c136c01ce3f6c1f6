// What a Raft log segment means: the state its records build up, as a pure
// function of the records. Replay at startup and the live log after each
// write go through the same applyRecord(), so what a restarted manager reads
// back is by construction what the running one held.
//
// Snapshot rule (Raft paper §7): when a snapshot's last included entry is in
// the log with the same term, the entries after it are kept; otherwise (a
// snapshot from the leader that our log does not match) the whole log goes.
// Entries after the *previous* snapshot are kept too while they lead up to
// the new one, so a manager whose latest snapshot file is corrupt can still
// start from the previous snapshot and the same entries: the same log, read
// from an earlier point, never a shorter one.
import { emptyHardState, type Entry, type HardState, type SnapshotMeta } from './types.js';
import type { WalRecord } from './record.js';

const ORIGIN: SnapshotMeta = { index: 0, term: 0 };

export interface LogState {
  hardState: HardState;
  /** The latest snapshot, undefined before the first. */
  snapshot: SnapshotMeta | undefined;
  /**
   * Entries are held from here on: the previous snapshot (or ORIGIN, the
   * start of the log) when it can stand in for `snapshot`, else `snapshot`.
   */
  base: SnapshotMeta;
  /** Consecutive entries with indexes base.index+1 .. lastIndex. */
  entries: Entry[];
}

export function emptyLogState(): LogState {
  return { hardState: emptyHardState(), snapshot: undefined, base: ORIGIN, entries: [] };
}

export function lastIndex(s: LogState): number {
  return s.base.index + s.entries.length;
}

function termAt(s: LogState, index: number): number | undefined {
  if (index === s.base.index) return s.base.term;
  return s.entries[index - s.base.index - 1]?.term;
}

/** Why `entries` cannot be appended to the log, or undefined when they can. */
export function checkAppend(s: LogState, entries: readonly Entry[]): string | undefined {
  const first = entries[0];
  if (!first) return undefined;
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.index !== first.index + i) return `entries must have consecutive indexes, got ${entries[i - 1]!.index} then ${entries[i]!.index}`;
  }
  const floor = s.snapshot?.index ?? 0;
  if (first.index <= floor) return `entries must start after the snapshot at index ${floor}, got first index ${first.index}`;
  if (first.index > lastIndex(s) + 1) return `entries must start at or before index ${lastIndex(s) + 1} (the log ends at ${lastIndex(s)}), got first index ${first.index}`;
  return undefined;
}

/** Why a snapshot at `m` cannot be recorded, or undefined when it can. */
export function checkSnapshot(s: LogState, m: SnapshotMeta): string | undefined {
  const floor = s.snapshot?.index ?? 0;
  if (!Number.isSafeInteger(m.index) || m.index <= floor) return `snapshot index must be an integer above the current snapshot index ${floor}, got ${m.index}`;
  if (!Number.isSafeInteger(m.term) || m.term < 1) return `snapshot term must be a positive integer, got ${m.term}`;
  return undefined;
}

/**
 * Apply one record to the state in place. Returns why the record does not fit
 * (the log is inconsistent) and leaves the state as it was in that case.
 */
export function applyRecord(s: LogState, r: WalRecord): string | undefined {
  switch (r.type) {
    case 'hardState':
      s.hardState = { ...r.hardState };
      return undefined;
    case 'entries': {
      const why = checkAppend(s, r.entries);
      if (why) return why;
      const first = r.entries[0]!.index;
      // Appending at an index already held replaces it and everything after
      // (a conflict truncation, Raft paper §5.3).
      s.entries = s.entries.slice(0, first - s.base.index - 1).concat(r.entries);
      return undefined;
    }
    case 'snapshot': {
      const m = r.snapshot;
      const why = checkSnapshot(s, m);
      if (why) return why;
      if (termAt(s, m.index) === m.term) {
        const previous = s.snapshot ?? ORIGIN;
        s.entries = s.entries.slice(previous.index - s.base.index);
        s.base = previous;
      } else {
        s.entries = [];
        s.base = { ...m };
      }
      s.snapshot = { ...m };
      return undefined;
    }
  }
}

/**
 * The records that rebuild `s` from an empty state: what a new segment starts
 * with. replay(segmentRecords(s)) equals s.
 */
export function segmentRecords(s: LogState): WalRecord[] {
  const out: WalRecord[] = [];
  if (s.base.index > 0) out.push({ type: 'snapshot', snapshot: s.base });
  out.push({ type: 'hardState', hardState: s.hardState });
  if (s.entries.length > 0) out.push({ type: 'entries', entries: s.entries });
  if (s.snapshot && s.snapshot.index !== s.base.index) out.push({ type: 'snapshot', snapshot: s.snapshot });
  return out;
}

/** Entries after the given snapshot (or all when undefined). */
export function entriesAfter(s: LogState, m: SnapshotMeta | undefined): Entry[] {
  return s.entries.slice((m?.index ?? 0) - s.base.index);
}
