// Shared by the Raft log tests: entry builders and a comparable view of a log.
import { Wal, type WalOpened } from '../../../../agent/cluster/wal/wal.js';
import { MemDisk } from '../../../../agent/cluster/wal/mem-disk.js';
import type { Entry, HardState, SnapshotMeta } from '../../../../agent/cluster/wal/types.js';
import { seededRand } from '../../../../shared/rand.js';

export const DIR = '/var/lib/agent/raft';

/** Entries from..to inclusive, all in `term`, data derived from the index. */
export function ents(from: number, to: number, term: number, tag = 0): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push({ index: i, term, type: i % 5 === 0 ? 'conf' : 'normal', data: Uint8Array.of(i & 0xff, tag, term & 0xff) });
  return out;
}

export function hs(term: number, commit: number, vote?: string): HardState {
  return { term, vote, commit };
}

/** What a log holds, in a form `equal` compares. */
export interface LogView {
  hardState: HardState;
  snapshot: SnapshotMeta | undefined;
  entries: Entry[];
}

export function view(o: LogView): LogView {
  return { hardState: { ...o.hardState }, snapshot: o.snapshot && { ...o.snapshot }, entries: o.entries.map((e) => ({ ...e, data: e.data.slice() })) };
}

export function memDisk(seed = 1): MemDisk {
  return new MemDisk({ rand: seededRand(seed) });
}

/** Open, close and return what was read. */
export async function reopen(disk: MemDisk, dir = DIR): Promise<WalOpened> {
  const o = await Wal.open(disk, dir);
  o.wal.close();
  return o;
}

export function segPath(seq: number, dir = DIR): string {
  return `${dir}/wal-${seq.toString(16).padStart(16, '0')}.log`;
}
