// Knobs of the Raft core (STYLE habit 12): few, each with its unit in its
// name and the reason for its value. The core never reads a clock: the host
// calls tick() every tickMs and every other duration is a count of ticks.

export interface RaftConfig {
  /** How often the host calls tick(), in milliseconds. Only the host reads it. */
  tickMs: number;
  /** A leader sends heartbeats every heartbeatTicks ticks. */
  heartbeatTicks: number;
  /**
   * Base election timeout in ticks. Each follower draws its real timeout
   * uniformly from [electionTicks, 2·electionTicks) so that split votes are
   * rare and resolve quickly (paper §5.2, §9.3). Also the check-quorum period,
   * the leader-lease length and the leadership-transfer deadline.
   */
  electionTicks: number;
  /** Upper bound on the payload of one append message; one entry is always sent even if larger. */
  maxEntriesPerAppendBytes: number;
  /** Ready.shouldSnapshot turns true once this many applied entries sit in the log (thesis §5.1). */
  snapshotEveryEntries: number;
  /** A leader that has not heard from a majority within electionTicks steps down (thesis §6.2, §9.6). */
  checkQuorum: boolean;
  /** Campaign only after a pre-vote round shows a majority would vote (thesis §9.6). */
  preVote: boolean;
}

/**
 * Swarmkit's settings: a 1 s tick, a heartbeat every tick, an election after
 * 10 to 20 s of silence. Long, because managers run over WANs and a needless
 * election stalls every write in the cluster.
 */
export function defaultRaftConfig(): RaftConfig {
  return {
    tickMs: 1000,
    heartbeatTicks: 1,
    electionTicks: 10,
    maxEntriesPerAppendBytes: 1 << 20,
    snapshotEveryEntries: 10_000,
    checkQuorum: true,
    preVote: true,
  };
}

/** Fast settings for unit tests and the simulator; same ratios as the paper's examples (§9.3). */
export function testRaftConfig(): RaftConfig {
  return {
    tickMs: 10,
    heartbeatTicks: 1,
    electionTicks: 10,
    maxEntriesPerAppendBytes: 64 * 1024,
    snapshotEveryEntries: 100,
    checkQuorum: true,
    preVote: true,
  };
}

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`RaftConfig.${name}: expected a positive integer, got ${v}`);
}

/** Throws a RangeError naming the first bad field. */
export function validateRaftConfig(c: RaftConfig): void {
  positiveInt('tickMs', c.tickMs);
  positiveInt('heartbeatTicks', c.heartbeatTicks);
  positiveInt('electionTicks', c.electionTicks);
  positiveInt('maxEntriesPerAppendBytes', c.maxEntriesPerAppendBytes);
  positiveInt('snapshotEveryEntries', c.snapshotEveryEntries);
  if (c.electionTicks <= c.heartbeatTicks) {
    throw new RangeError(`RaftConfig.electionTicks: expected more than heartbeatTicks (${c.heartbeatTicks}), got ${c.electionTicks}`);
  }
}
