// Errors a caller of the Raft core branches on (STYLE habit 9), each with a
// stable code. Bad arguments are plain RangeErrors with exact messages.

import type { NodeId } from './types.js';

export type RaftErrorCode = 'RAFT_NOT_LEADER' | 'RAFT_PROPOSAL_DROPPED';

export abstract class RaftError extends Error {
  abstract readonly code: RaftErrorCode;
}

/** This node is not the leader; `leaderHint` is the leader it knows of, if any (paper §8). */
export class NotLeaderError extends RaftError {
  readonly code = 'RAFT_NOT_LEADER' as const;
  constructor(readonly leaderHint: NodeId | undefined) {
    super(leaderHint === undefined ? 'not the leader; no leader known' : `not the leader; leader is ${leaderHint}`);
    this.name = 'NotLeaderError';
  }
}

export type DropReason =
  /** A leadership transfer is under way (thesis §3.10); retry on the new leader. */
  | 'transfer-in-progress'
  /** Another configuration change is not committed yet (thesis §4.1). */
  | 'conf-change-pending'
  /** The entry was appended but a later leader overwrote it: it never took effect (paper §5.3). */
  | 'overwritten';

/** The leader refused the proposal for now; retrying later may succeed. */
export class ProposalDroppedError extends RaftError {
  readonly code = 'RAFT_PROPOSAL_DROPPED' as const;
  constructor(readonly reason: DropReason) {
    super(`proposal dropped: ${reason}`);
    this.name = 'ProposalDroppedError';
  }
}
