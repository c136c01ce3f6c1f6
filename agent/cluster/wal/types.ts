// The plain records the Raft log stores: the core's own Entry and HardState
// (agent/cluster/raft/types.ts, types only, no code), so the host passes the
// core's objects straight through.

export type { Entry, EntryType, HardState } from '../raft/types.js';
import type { HardState } from '../raft/types.js';

/** Which log position a snapshot stands for: the last entry it includes (Raft paper §7). */
export interface SnapshotMeta {
  index: number;
  term: number;
}

export function emptyHardState(): HardState {
  return { term: 0, vote: undefined, commit: 0 };
}
