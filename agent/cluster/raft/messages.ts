// Messages between Raft peers, as plain objects; the host encodes them with
// CBOR. Like every wire format here, message types are only ever appended,
// never renumbered or reused (STYLE, memberlist habit).
//
// Every message carries the sender's current term: a receiver that sees a
// higher term adopts it and steps down (paper §5.1); one that sees a lower
// term mostly ignores the message (exceptions in raft-node.ts, step()).

import type { Entry, NodeId, Snapshot } from './types.js';

interface Envelope {
  from: NodeId;
  to: NodeId;
  term: number;
}

/**
 * RequestVote (paper §5.2, §5.4.1). For a pre-vote (thesis §9.6) `term` is
 * the term the sender would campaign in, its own term + 1, which it has not
 * adopted. `transfer` marks a campaign started by TimeoutNow (thesis §3.10),
 * which receivers must not ignore on account of a live leader.
 */
export interface VoteRequest extends Envelope {
  type: 'vote' | 'preVote';
  lastIndex: number;
  lastTerm: number;
  transfer: boolean;
}

export interface VoteResponse extends Envelope {
  type: 'voteResp' | 'preVoteResp';
  reject: boolean;
}

/** AppendEntries (paper §5.3). */
export interface AppendRequest extends Envelope {
  type: 'append';
  prevIndex: number;
  prevTerm: number;
  entries: Entry[];
  commit: number;
}

/**
 * Answer to an append or a snapshot. On success `index` is the last index now
 * known to match the leader. On reject `index` is the rejected prevIndex and
 * (hintIndex, hintTerm) is the follower's last entry that might match, so the
 * leader can skip a whole term of entries per round trip (paper §5.3, the
 * optimisation at the end; thesis §5.3).
 */
export interface AppendResponse extends Envelope {
  type: 'appendResp';
  index: number;
  reject: boolean;
  hintIndex: number;
  hintTerm: number;
}

/**
 * An empty AppendEntries (paper §5.2) that carries only the commit index the
 * follower is known to hold, and the newest pending read-index context
 * (thesis §6.4), echoed back in the response.
 */
export interface Heartbeat extends Envelope {
  type: 'heartbeat';
  commit: number;
  ctx: string | undefined;
}

export interface HeartbeatResponse extends Envelope {
  type: 'heartbeatResp';
  ctx: string | undefined;
}

/** InstallSnapshot (paper §7), in one message; answered with an AppendResponse. */
export interface InstallSnapshot extends Envelope {
  type: 'snapshot';
  snapshot: Snapshot;
}

/** Leadership transfer (thesis §3.10): the target starts an election at once. */
export interface TimeoutNow extends Envelope {
  type: 'timeoutNow';
}

export type RaftMessage =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | InstallSnapshot
  | TimeoutNow;

export type RaftMessageType = RaftMessage['type'];
