// The plain records the Raft log stores. They have the same shape as Entry and
// HardState of the Raft core (agent/cluster/raft/types.ts), so the host passes
// the core's objects straight through; they are declared here so the storage
// layer does not depend on the core's module.

export type EntryType = 'normal' | 'conf';

/** One Raft log entry (Raft paper §5.3). */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** What a server must persist before answering an RPC (Raft paper, figure 2), plus commit. */
export interface HardState {
  term: number;
  /** The candidate voted for in `term`, or undefined. */
  vote: string | undefined;
  commit: number;
}

/** Which log position a snapshot stands for: the last entry it includes (Raft paper §7). */
export interface SnapshotMeta {
  index: number;
  term: number;
}

export function emptyHardState(): HardState {
  return { term: 0, vote: undefined, commit: 0 };
}
