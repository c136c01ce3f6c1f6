// The in-memory Raft log: a snapshot (paper §7) followed by the entries after
// it. It also remembers which entries are not yet durable (the host learns
// them from Ready.entries and confirms them in advance()), and the
// configuration at every conf entry, because a server uses the newest
// configuration in its log, committed or not, and must fall back to the
// previous one when a conflict truncates it away (thesis §4.1).

import { applyConfChange, decodeConfChange } from './conf-change.js';
import type { ConfState, Entry, Snapshot } from './types.js';

/** Rough per-entry framing cost counted against maxBytes (term, index, type in CBOR). */
export const ENTRY_OVERHEAD_BYTES = 16 as const;

export function emptySnapshot(conf: ConfState = { voters: [] }): Snapshot {
  return { index: 0, term: 0, conf, data: new Uint8Array(0) };
}

interface ConfPoint {
  index: number;
  conf: ConfState;
}

export class RaftLog {
  #snap: Snapshot;
  /** #entries[k].index === #snap.index + 1 + k. */
  #entries: Entry[];
  /** First index not known to be durable. */
  #unstableFrom: number;
  /** A snapshot received from the leader and not yet durable. */
  #pendingSnapshot: Snapshot | undefined;
  /** Configurations introduced by conf entries after the snapshot, ascending. */
  #confs: ConfPoint[] = [];

  /** A log restored from storage: everything given is already durable. */
  constructor(snapshot: Snapshot = emptySnapshot(), entries: Entry[] = []) {
    this.#snap = snapshot;
    this.#entries = [];
    this.#unstableFrom = snapshot.index + 1;
    for (const [k, e] of entries.entries()) {
      if (e.index !== snapshot.index + 1 + k) {
        throw new RangeError(`RaftLog: expected entry index ${snapshot.index + 1 + k} after snapshot ${snapshot.index}, got ${e.index}`);
      }
      this.#push(e);
    }
    this.#unstableFrom = this.lastIndex() + 1;
  }

  firstIndex(): number {
    return this.#snap.index + 1;
  }

  lastIndex(): number {
    return this.#snap.index + this.#entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex())!;
  }

  /** Term of entry i; the snapshot's term at its index; undefined when compacted away or beyond the end. */
  term(i: number): number | undefined {
    if (i === this.#snap.index) return this.#snap.term;
    return this.#entries[i - this.#snap.index - 1]?.term;
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term;
  }

  /** Entries [lo, hi), which must lie within [firstIndex, lastIndex + 1]. */
  slice(lo: number, hi: number): Entry[] {
    if (lo < this.firstIndex() || hi > this.lastIndex() + 1 || lo > hi) {
      throw new RangeError(`RaftLog.slice: expected ${this.firstIndex()} <= lo <= hi <= ${this.lastIndex() + 1}, got [${lo}, ${hi})`);
    }
    return this.#entries.slice(lo - this.firstIndex(), hi - this.firstIndex());
  }

  /**
   * Entries from i on, at most maxBytes of payload but always at least one
   * when any exists. Undefined when i was compacted away (send a snapshot).
   */
  entriesFrom(i: number, maxBytes: number): Entry[] | undefined {
    if (i < this.firstIndex()) return undefined;
    const out: Entry[] = [];
    let bytes = 0;
    for (let k = i - this.firstIndex(); k < this.#entries.length; k++) {
      const e = this.#entries[k]!;
      bytes += e.data.length + ENTRY_OVERHEAD_BYTES;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** §5.4.1: a log is more up to date if its last term is higher, or equal with a longer log. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** The leader appends its own new entries (paper §5.3: a leader never overwrites its log). */
  append(entries: Entry[]): void {
    for (const e of entries) {
      if (e.index !== this.lastIndex() + 1) throw new RangeError(`RaftLog.append: expected index ${this.lastIndex() + 1}, got ${e.index}`);
      this.#push(e);
    }
  }

  /**
   * AppendEntries consistency check and conflict truncation (paper §5.3).
   * Returns the index of the last entry the request covers, or undefined when
   * our log has no entry (prevIndex, prevTerm). `truncating` is called with
   * the first index about to be overwritten, so the caller can check it is
   * not committed.
   */
  maybeAppend(prevIndex: number, prevTerm: number, entries: Entry[], truncating: (from: number) => void): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    for (const [k, e] of entries.entries()) {
      if (e.index !== prevIndex + 1 + k) throw new RangeError(`RaftLog.maybeAppend: expected entry index ${prevIndex + 1 + k}, got ${e.index}`);
      if (e.index <= this.#snap.index) continue; // compacted, hence committed, hence matching
      const t = this.term(e.index);
      if (t === e.term) continue;
      if (t !== undefined) {
        truncating(e.index);
        this.#truncateFrom(e.index);
      }
      for (const rest of entries.slice(k)) this.#push(rest);
      break;
    }
    return prevIndex + entries.length;
  }

  /**
   * For a rejected append at prevIndex: the last index <= prevIndex whose
   * term is <= prevTerm. Every entry after it conflicts, so the leader can
   * skip back past them in one round trip (paper §5.3, last paragraphs).
   */
  conflictHint(prevIndex: number, prevTerm: number): { index: number; term: number } {
    let i = Math.min(prevIndex, this.lastIndex());
    for (;;) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= prevTerm || i <= this.#snap.index) return { index: i, term: t };
      i--;
    }
  }

  /**
   * Drop entries up to and including index, replacing them by a snapshot the
   * host took of its state machine at index (paper §7). The caller makes sure
   * index is applied (hence committed and durable).
   */
  compact(index: number, data: Uint8Array): Snapshot {
    if (index < this.#snap.index || index > this.lastIndex()) {
      throw new RangeError(`RaftLog.compact: expected index in ${this.#snap.index}..${this.lastIndex()}, got ${index}`);
    }
    const snap: Snapshot = { index, term: this.term(index)!, conf: this.confAt(index), data };
    this.#entries = this.#entries.slice(index - this.#snap.index);
    this.#confs = this.#confs.filter((p) => p.index > index);
    this.#snap = snap;
    this.#unstableFrom = Math.max(this.#unstableFrom, index + 1);
    return snap;
  }

  /** Replace the whole log by a snapshot from the leader (paper §7); it is not durable yet. */
  restore(snap: Snapshot): void {
    this.#snap = snap;
    this.#entries = [];
    this.#confs = [];
    this.#pendingSnapshot = snap;
    this.#unstableFrom = snap.index + 1;
  }

  snapshot(): Snapshot {
    return this.#snap;
  }

  /** The configuration in force: the newest in the log, committed or not (thesis §4.1). */
  conf(): ConfState {
    return this.#confs.at(-1)?.conf ?? this.#snap.conf;
  }

  /** The configuration as of entry index (index >= snapshot index). */
  confAt(index: number): ConfState {
    let conf = this.#snap.conf;
    for (const p of this.#confs) {
      if (p.index > index) break;
      conf = p.conf;
    }
    return conf;
  }

  /** Index of the entry that introduced the configuration in force (the snapshot index if none). */
  confIndex(): number {
    return this.#confs.at(-1)?.index ?? this.#snap.index;
  }

  /** Indexes of conf entries after `after` (uncommitted membership changes, for instance). */
  confIndexesAfter(after: number): number[] {
    return this.#confs.filter((p) => p.index > after).map((p) => p.index);
  }

  unstableEntries(): Entry[] {
    return this.#entries.slice(this.#unstableFrom - this.firstIndex());
  }

  /** The host made entries up to (index, term) durable. Ignored if a truncation replaced that entry meanwhile. */
  stableTo(index: number, term: number): void {
    if (this.matchTerm(index, term) && index >= this.#unstableFrom) this.#unstableFrom = index + 1;
  }

  pendingSnapshot(): Snapshot | undefined {
    return this.#pendingSnapshot;
  }

  stableSnapTo(index: number): void {
    if (this.#pendingSnapshot?.index === index) this.#pendingSnapshot = undefined;
  }

  #push(e: Entry): void {
    this.#entries.push(e);
    if (e.type === 'conf') this.#confs.push({ index: e.index, conf: applyConfChange(this.conf(), decodeConfChange(e.data)) });
  }

  #truncateFrom(index: number): void {
    this.#entries.length = index - this.firstIndex();
    while ((this.#confs.at(-1)?.index ?? 0) >= index) this.#confs.pop();
    this.#unstableFrom = Math.min(this.#unstableFrom, index);
  }
}
