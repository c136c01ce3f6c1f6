// The public shapes of the NetworkDB core (network-db.ts): what the host
// passes in, what takeOutput() hands back, what reads and stats() return.
import type { Rand } from '../../../shared/rand.js';
import type { NetworkDbConfig } from './config.js';
import type { BulkSync, NetworkEvent, TableGossip } from './wire.js';

export interface NetworkDbOptions {
  nodeId: string;
  config: NetworkDbConfig;
  /** Picks gossip targets and staggers timers; seededRand(seed) in tests. */
  rand: Rand;
  nowMs: number;
}

export interface Send {
  to: string;
  /** true: bulk sync, over a stream; false: one best-effort datagram. */
  reliable: boolean;
  msg: TableGossip | BulkSync;
  bytes: Uint8Array;
}

export interface Broadcast {
  /** A newer broadcast with the same key supersedes a queued older one. */
  key: string;
  msg: NetworkEvent;
  bytes: Uint8Array;
}

/** A change of the local view of a table. */
export interface TableEvent {
  type: 'create' | 'update' | 'delete';
  nid: string;
  table: string;
  key: string;
  owner: string;
  /** The new value; for a delete, the last value the view held. */
  value: Uint8Array;
  ltime: number;
}

export interface NetworkDbOutput {
  sends: Send[];
  broadcasts: Broadcast[];
  events: TableEvent[];
}

export interface EntryView {
  key: string;
  value: Uint8Array;
  owner: string;
  ltime: number;
}

export type NodeState = 'alive' | 'dead' | 'left';

export interface NetworkDbStats {
  received: number;
  /** Not a well-formed NetworkDB message. */
  malformed: number;
  /** Table gossip or bulk sync for a network this node is not in. */
  notMember: number;
  /** Entries whose owner is not (or no longer) in the network. */
  ownerNotMember: number;
  /** Events about a node that left or whose grace period ran out. */
  fromGoneNode: number;
  /** Entry versions no newer than the one held. */
  stale: number;
  /** Claims about this node's own entries or attachments that it corrected with a newer time. */
  refuted: number;
  /** Bulk sync requests from nodes not in the network, left unanswered. */
  syncRefused: number;
  /** Entries from a periodic bulk sync not re-gossiped because the queue was long. */
  rebroadcastSkipped: number;
  gossipPackets: number;
  bulkSyncs: number;
}
