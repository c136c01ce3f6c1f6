// Majority arithmetic over the current configuration (paper §5.2, §5.4.2;
// thesis §4.1: a server always uses the latest configuration in its log).

import type { NodeId } from './types.js';

export function quorumSize(voters: readonly NodeId[]): number {
  return Math.floor(voters.length / 2) + 1;
}

/**
 * The highest index stored on a majority of voters: sort the match indexes
 * descending and take the quorum-th. Voters with no known match count as 0.
 * An empty configuration has no majority: 0.
 */
export function majorityIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const m = voters.map(matchOf).sort((a, b) => b - a);
  return m[quorumSize(voters) - 1]!;
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** Outcome of an election given the answers so far (paper §5.2). */
export function tallyVotes(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  const q = quorumSize(voters);
  if (granted >= q) return 'won';
  if (rejected > voters.length - q) return 'lost';
  return 'pending';
}
