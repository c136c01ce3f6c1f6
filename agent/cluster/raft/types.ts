// Plain records of the Raft core. Everything here is a plain object so the
// host can persist or send it with CBOR as is.

import type { RaftMessage } from './messages.js';

export type NodeId = string;

export type EntryType = 'normal' | 'conf';

/**
 * One log entry (paper §5.3). A 'normal' entry with empty data is the no-op a
 * new leader appends (§8); the host skips it when applying. A 'conf' entry
 * carries an encoded ConfChange (conf-change.ts).
 */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** The state every server persists before answering an RPC (paper figure 2), plus commit. */
export interface HardState {
  term: number;
  /** Candidate voted for in `term`; undefined when none. */
  vote: NodeId | undefined;
  commit: number;
}

/** The voting members of the cluster (thesis §4.1). */
export interface ConfState {
  voters: NodeId[];
}

/** The state machine at `index`, with the last included term and configuration (paper §7). */
export interface Snapshot {
  index: number;
  term: number;
  conf: ConfState;
  data: Uint8Array;
}

/** A linearizable read may be served once the state machine has applied `index` (thesis §6.4). */
export interface ReadState {
  index: number;
  ctx: string;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile facts the host may show or act on (who leads, our role). */
export interface SoftState {
  role: Role;
  leaderId: NodeId | undefined;
  term: number;
}

/**
 * One batch of work for the host. See RaftNode.ready() for the order in
 * which the host must handle the fields.
 */
export interface Ready {
  /** Set when role, leader or term changed since the last Ready. */
  softState: SoftState | undefined;
  /** Set when term, vote or commit changed: persist it. */
  hardState: HardState | undefined;
  /** An incoming snapshot: persist it, drop the whole stored log, restore the state machine from it. */
  snapshot: Snapshot | undefined;
  /**
   * Entries to write to stable storage. Any stored entry with index >=
   * entries[0].index must be discarded first (a conflict truncation, §5.3).
   */
  entries: Entry[];
  /** Entries now committed, in order: apply them to the state machine. */
  committedEntries: Entry[];
  /** Messages to send, only AFTER hardState, snapshot and entries are durable. */
  messages: RaftMessage[];
  /** Reads whose index is covered once committedEntries of this Ready are applied. */
  readStates: ReadState[];
  /** True when at least snapshotEveryEntries applied entries sit in the log: call compact(). */
  shouldSnapshot: boolean;
}

/** What the host keeps on disk and hands back on restart. */
export interface PersistedState {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  /** Entries after the snapshot, contiguous and in order. */
  entries: Entry[];
}

export interface FollowerProgress {
  match: number;
  next: number;
  state: 'probe' | 'replicate' | 'snapshot';
  recentActive: boolean;
}

/** A read-only view for hosts and tests. */
export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  vote: NodeId | undefined;
  leaderId: NodeId | undefined;
  commit: number;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  voters: NodeId[];
  leadTransferee: NodeId | undefined;
  /** Only on a leader: what it knows of each voter. */
  progress: Map<NodeId, FollowerProgress> | undefined;
}
