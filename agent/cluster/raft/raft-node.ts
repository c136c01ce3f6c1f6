// The Raft consensus core for managers: a deterministic state machine with
// no I/O (STYLE habit 1). Section numbers cite Ongaro & Ousterhout, "In
// Search of an Understandable Consensus Algorithm" (extended version) as
// "paper §n", and Ongaro's thesis, "Consensus: Bridging Theory and Practice",
// as "thesis §n".
//
// Inputs: tick(), step(message), propose(), proposeConfChange(), readIndex(),
// transferLeadership(), compact(), campaign(). Output: a Ready batch, taken
// with ready() and acknowledged with advance(). The host contract:
//
//   1. rd = node.ready()                        (only when hasReady())
//   2. persist, in this order and durably (fsync):
//        rd.hardState if set;
//        rd.snapshot if set, discarding the whole stored log;
//        rd.entries, first discarding stored entries with index >= rd.entries[0].index
//   3. send rd.messages (only now: a vote or an acknowledgement must never
//      leave before the state it promises is on disk, paper figure 2)
//   4. if rd.snapshot: restore the state machine from rd.snapshot.data
//   5. apply rd.committedEntries in order (skip 'normal' entries with empty
//      data: the no-op of a new leader, §8; decode 'conf' ones with
//      decodeConfChange when the host needs to know, e.g. to dial a new manager)
//   6. answer rd.readStates (their index is covered by step 5)
//   7. node.advance()
//   8. if rd.shouldSnapshot: node.compact(appliedIndex, stateMachineBytes)
//      and persist the returned snapshot, dropping stored entries <= its index
//
// step/tick/propose may be called between ready() and advance(); their
// effects show in the next Ready. ready() may not be called again before
// advance(). Entries and snapshots handed out are shared, never copy them
// into something that mutates them.

import { validateRaftConfig, type RaftConfig } from './config.js';
import { encodeConfChange, type ConfChange } from './conf-change.js';
import { NotLeaderError, ProposalDroppedError } from './errors.js';
import type { AppendRequest, AppendResponse, Heartbeat, HeartbeatResponse, InstallSnapshot, RaftMessage, TimeoutNow, VoteRequest, VoteResponse } from './messages.js';
import { Progress } from './progress.js';
import { majorityIndex, quorumSize, tallyVotes } from './quorum.js';
import { emptySnapshot, RaftLog } from './raft-log.js';
import { ReadIndexQueue } from './read-index.js';
import type { Entry, EntryType, HardState, NodeId, PersistedState, RaftStatus, ReadState, Ready, Role, Snapshot, SoftState } from './types.js';
import type { Rand } from '../../../shared/rand.js';

export interface RaftNodeOptions {
  id: NodeId;
  config: RaftConfig;
  /** Draws election timeouts; pass seededRand(seed) in tests and simulations. */
  rand: Rand;
  /** What stable storage holds, on restart. */
  persisted?: PersistedState;
  /** The host state machine's applied index on restart; defaults to the snapshot index. */
  applied?: number;
  /**
   * First start of a brand-new cluster: the initial voters. Every
   * bootstrapping node must pass the same list. A node joining an existing
   * cluster passes neither this nor `persisted`, and waits for the leader.
   */
  bootstrap?: NodeId[];
}

/** Where a proposal landed: it took effect iff the entry committed at `index` has this `term`. */
export interface Proposal {
  index: number;
  term: number;
}

interface Inflight {
  hardState: HardState;
  lastEntry: { index: number; term: number } | undefined;
  snapshotIndex: number | undefined;
  appliedTo: number;
}

export class RaftNode {
  readonly id: NodeId;
  readonly #cfg: RaftConfig;
  readonly #rand: Rand;
  readonly #log: RaftLog;

  // Persistent state (paper figure 2), plus commit.
  #term = 0;
  #vote: NodeId | undefined;
  #commit = 0;

  #role: Role = 'follower';
  #lead: NodeId | undefined;
  #applied: number;
  /** Ticks since the last valid leader message (follower), or since the last check-quorum round (leader). */
  #electionElapsed = 0;
  #heartbeatElapsed = 0;
  #randomizedElectionTicks = 0;
  #votes = new Map<NodeId, boolean>();
  #progress = new Map<NodeId, Progress>();
  #leadTransferee: NodeId | undefined;
  /** A new conf change waits until this index is committed (thesis §4.1). */
  #pendingConfIndex = 0;
  #reads = new ReadIndexQueue();
  /** Reads that arrived before this leader committed an entry of its term (thesis §6.4 step 1). */
  #readsAwaitingCommit: string[] = [];
  /** Reads confirmed by a heartbeat quorum, released once applied covers them. */
  #confirmedReads: ReadState[] = [];
  #msgs: RaftMessage[] = [];
  #prevHard: HardState;
  #prevSoft: SoftState;
  #inflight: Inflight | undefined;

  constructor(opts: RaftNodeOptions) {
    if (typeof opts.id !== 'string' || opts.id.length === 0) throw new RangeError(`RaftNode: id must be a non-empty string, got ${JSON.stringify(opts.id)}`);
    if (opts.persisted && opts.bootstrap) throw new RangeError('RaftNode: pass persisted (restart) or bootstrap (new cluster), not both');
    validateRaftConfig(opts.config);
    this.id = opts.id;
    this.#cfg = opts.config;
    this.#rand = opts.rand;
    const p = opts.persisted;
    if (p) {
      const snap = p.snapshot ?? emptySnapshot();
      this.#log = new RaftLog(snap, p.entries);
      const hs = p.hardState;
      if (hs.commit < snap.index || hs.commit > this.#log.lastIndex()) {
        throw new RangeError(`RaftNode: persisted commit ${hs.commit} outside ${snap.index}..${this.#log.lastIndex()}`);
      }
      this.#term = hs.term;
      this.#vote = hs.vote;
      this.#commit = hs.commit;
      this.#applied = opts.applied ?? snap.index;
      if (this.#applied < snap.index || this.#applied > hs.commit) {
        throw new RangeError(`RaftNode: applied ${this.#applied} outside ${snap.index}..${hs.commit}`);
      }
      this.#prevHard = { ...hs };
    } else {
      this.#log = new RaftLog();
      this.#applied = 0;
      this.#prevHard = { term: 0, vote: undefined, commit: 0 };
      if (opts.bootstrap) {
        const voters = [...new Set(opts.bootstrap)].sort();
        if (voters.length === 0) throw new RangeError('RaftNode: bootstrap needs at least one voter');
        // The initial configuration is written as committed conf entries of
        // term 1, identical on every bootstrapping node, so a restart finds
        // it in the log like any later change.
        this.#log.append(voters.map((id, k) => ({ term: 1, index: k + 1, type: 'conf' as const, data: encodeConfChange({ type: 'add', id }) })));
        this.#term = 1;
        this.#commit = voters.length;
      }
    }
    this.#resetTimers();
    this.#prevSoft = this.#softState();
  }

  // ---- queries -------------------------------------------------------------

  get role(): Role {
    return this.#role;
  }

  get term(): number {
    return this.#term;
  }

  get leaderId(): NodeId | undefined {
    return this.#lead;
  }

  status(): RaftStatus {
    let progress: RaftStatus['progress'];
    if (this.#role === 'leader') {
      progress = new Map();
      for (const [id, pr] of this.#progress) progress.set(id, pr.view());
    }
    return {
      id: this.id,
      role: this.#role,
      term: this.#term,
      vote: this.#vote,
      leaderId: this.#lead,
      commit: this.#commit,
      applied: this.#applied,
      firstIndex: this.#log.firstIndex(),
      lastIndex: this.#log.lastIndex(),
      voters: [...this.#voters()],
      leadTransferee: this.#leadTransferee,
      progress,
    };
  }

  /** Entries [lo, hi) still in the log (for tests and for a host re-reading its log). */
  entries(lo: number, hi: number): Entry[] {
    return this.#log.slice(lo, hi);
  }

  // ---- inputs --------------------------------------------------------------

  /** One logical clock tick; the host calls it every config.tickMs. */
  tick(): void {
    if (this.#role === 'leader') this.#tickLeader();
    else this.#tickElection();
  }

  /** Start an election now, as if the election timer had fired (pre-vote first when enabled). */
  campaign(): void {
    this.#hup(false);
  }

  /** Append data to the replicated log. Throws NotLeaderError or ProposalDroppedError. */
  propose(data: Uint8Array): Proposal {
    if (!(data instanceof Uint8Array) || data.length === 0) {
      throw new RangeError(`propose: data must be a non-empty Uint8Array (empty entries are a new leader's no-op), got ${data instanceof Uint8Array ? 'an empty array' : typeof data}`);
    }
    this.#mustLead();
    const e = this.#appendLocal('normal', data);
    this.#bcastAppend(false);
    return { index: e.index, term: e.term };
  }

  /**
   * Propose adding or removing one voter (thesis §4.1). Only one change may
   * be uncommitted at a time; it takes effect on each server as soon as it is
   * in that server's log.
   */
  proposeConfChange(cc: ConfChange): Proposal {
    this.#mustLead();
    if (this.#pendingConfIndex > this.#commit) throw new ProposalDroppedError('conf-change-pending');
    const voters = this.#voters();
    if (cc.type === 'add' && voters.includes(cc.id)) throw new RangeError(`proposeConfChange: ${cc.id} is already a voter`);
    if (cc.type === 'remove' && !voters.includes(cc.id)) throw new RangeError(`proposeConfChange: ${cc.id} is not a voter`);
    if (cc.type === 'remove' && voters.length === 1) throw new RangeError(`proposeConfChange: cannot remove ${cc.id}, the last voter`);
    const e = this.#appendLocal('conf', encodeConfChange(cc));
    this.#pendingConfIndex = e.index;
    if (this.#role === 'leader') this.#bcastAppend(false);
    return { index: e.index, term: e.term };
  }

  /**
   * Ask for a linearizable read (thesis §6.4). When leadership is confirmed,
   * a ReadState { index, ctx } appears in a Ready whose committed entries
   * cover index. ctx must be unique among pending reads. Reads pending when
   * leadership is lost are dropped silently: the host fails them when
   * softState shows the role change.
   */
  readIndex(ctx: string): void {
    if (this.#role !== 'leader') throw new NotLeaderError(this.#lead);
    if (this.#reads.has(ctx) || this.#readsAwaitingCommit.includes(ctx)) throw new RangeError(`readIndex: ctx ${JSON.stringify(ctx)} is already pending`);
    if (!this.#committedInTerm()) {
      this.#readsAwaitingCommit.push(ctx);
      return;
    }
    this.#startRead(ctx);
  }

  /**
   * Hand leadership to `to` (thesis §3.10): stop taking proposals, bring the
   * target's log up to date, then tell it to campaign at once. Gives up after
   * an election timeout.
   */
  transferLeadership(to: NodeId): void {
    if (this.#role !== 'leader') throw new NotLeaderError(this.#lead);
    if (!this.#voters().includes(to)) throw new RangeError(`transferLeadership: ${to} is not a voter`);
    if (to === this.id) {
      this.#leadTransferee = undefined;
      return;
    }
    if (this.#leadTransferee === to) return;
    this.#leadTransferee = to;
    this.#electionElapsed = 0; // the transfer deadline
    const pr = this.#progress.get(to)!;
    if (pr.match === this.#log.lastIndex()) this.#sendTimeoutNow(to);
    else this.#sendAppend(to, true);
  }

  /**
   * Replace the log up to `index` (at most the applied index) with a
   * snapshot of the state machine (paper §7). The host persists the returned
   * snapshot and may then drop stored entries <= index.
   */
  compact(index: number, data: Uint8Array): Snapshot {
    if (!Number.isSafeInteger(index) || index > this.#applied) throw new RangeError(`compact: index must be at most the applied index ${this.#applied}, got ${index}`);
    if (index <= this.#log.snapshot().index) throw new RangeError(`compact: index must be above the current snapshot index ${this.#log.snapshot().index}, got ${index}`);
    return this.#log.compact(index, data);
  }

  /** The transport could not reach `id`: stop streaming to it and probe again. */
  reportUnreachable(id: NodeId): void {
    const pr = this.#role === 'leader' ? this.#progress.get(id) : undefined;
    if (pr?.state === 'replicate') pr.becomeProbe();
  }

  /** The host's snapshot send to `id` finished; on failure the leader retries after the next heartbeat. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    const pr = this.#role === 'leader' ? this.#progress.get(id) : undefined;
    if (pr?.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    pr.probeSent = true; // wait for a heartbeat answer before probing
  }

  /** A message from a peer. Messages for another node are dropped. */
  step(m: RaftMessage): void {
    if (m.to !== this.id || m.from === this.id) return;
    if (m.term > this.#term) {
      if ((m.type === 'vote' || m.type === 'preVote') && !m.transfer && this.#inLease(m.type)) {
        // Thesis §4.2.3 / §9.6: we heard from a live leader within the minimum
        // election timeout, so this candidate is disruptive (a removed or a
        // partitioned server). Do not even adopt its term.
        return;
      }
      if (m.type === 'preVote') {
        // A pre-vote never changes anyone's term (thesis §9.6).
      } else if (m.type === 'preVoteResp' && !m.reject) {
        // Granted at the term we would campaign in; we adopt it only by campaigning.
      } else {
        const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
        this.#becomeFollower(m.term, fromLeader ? m.from : undefined);
      }
    } else if (m.term < this.#term) {
      if ((m.type === 'append' || m.type === 'heartbeat') && (this.#cfg.checkQuorum || this.#cfg.preVote)) {
        // A stale leader (for example one that was partitioned) may never
        // hear our higher term otherwise: with pre-vote and leases nobody
        // sends it a vote request. Answer so that it steps down (§5.1).
        this.#send<AppendResponse>({ type: 'appendResp', to: m.from, term: this.#term, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
      } else if (m.type === 'preVote') {
        this.#send<VoteResponse>({ type: 'preVoteResp', to: m.from, term: this.#term, reject: true });
      }
      return;
    }

    if (m.type === 'vote' || m.type === 'preVote') {
      this.#handleVoteRequest(m);
      return;
    }
    switch (this.#role) {
      case 'follower':
        this.#stepFollower(m);
        return;
      case 'preCandidate':
      case 'candidate':
        this.#stepCandidate(m);
        return;
      case 'leader':
        this.#stepLeader(m);
        return;
    }
  }

  // ---- output --------------------------------------------------------------

  hasReady(): boolean {
    if (this.#inflight) return false;
    if (!sameSoft(this.#softState(), this.#prevSoft)) return true;
    if (!sameHard(this.#hardState(), this.#prevHard)) return true;
    if (this.#log.pendingSnapshot() || this.#log.unstableEntries().length > 0 || this.#msgs.length > 0) return true;
    if (this.#commit > this.#applyFrom() - 1) return true;
    return this.#confirmedReads.some((r) => r.index <= this.#commit);
  }

  /** Take the next batch of work; see the contract at the top of this file. */
  ready(): Ready {
    if (this.#inflight) throw new Error('ready: the previous Ready was not advanced');
    const soft = this.#softState();
    const hard = this.#hardState();
    const snapshot = this.#log.pendingSnapshot();
    const entries = this.#log.unstableEntries();
    const from = this.#applyFrom();
    const committedEntries = this.#commit >= from ? this.#log.slice(from, this.#commit + 1) : [];
    const appliedTo = Math.max(from - 1, this.#commit);
    const readStates = this.#confirmedReads.filter((r) => r.index <= appliedTo);
    this.#confirmedReads = this.#confirmedReads.filter((r) => r.index > appliedTo);
    const messages = this.#msgs;
    this.#msgs = [];
    const last = entries.at(-1);
    this.#inflight = {
      hardState: hard,
      lastEntry: last && { index: last.index, term: last.term },
      snapshotIndex: snapshot?.index,
      appliedTo,
    };
    const rd: Ready = {
      softState: sameSoft(soft, this.#prevSoft) ? undefined : soft,
      hardState: sameHard(hard, this.#prevHard) ? undefined : hard,
      snapshot,
      entries,
      committedEntries,
      messages,
      readStates,
      shouldSnapshot: appliedTo - this.#log.snapshot().index >= this.#cfg.snapshotEveryEntries,
    };
    this.#prevSoft = soft;
    this.#prevHard = hard;
    return rd;
  }

  /** The host persisted, sent and applied the last Ready. */
  advance(): void {
    const f = this.#inflight;
    if (!f) throw new Error('advance: no Ready outstanding');
    if (f.snapshotIndex !== undefined) this.#log.stableSnapTo(f.snapshotIndex);
    if (f.lastEntry) this.#log.stableTo(f.lastEntry.index, f.lastEntry.term);
    this.#applied = Math.max(this.#applied, f.appliedTo);
    this.#inflight = undefined;
  }

  // ---- roles (paper §5.2, figure 4) ------------------------------------------

  #becomeFollower(term: number, lead: NodeId | undefined): void {
    this.#reset(term);
    this.#role = 'follower';
    this.#lead = lead;
  }

  #becomePreCandidate(): void {
    // Thesis §9.6: neither term nor vote change; only the role.
    this.#resetTimers();
    this.#votes = new Map();
    this.#abortTransfer();
    this.#role = 'preCandidate';
    this.#lead = undefined;
  }

  #becomeCandidate(): void {
    this.#reset(this.#term + 1);
    this.#vote = this.id;
    this.#role = 'candidate';
  }

  #becomeLeader(): void {
    this.#reset(this.#term);
    this.#role = 'leader';
    this.#lead = this.id;
    for (const id of this.#voters()) this.#progress.set(id, this.#newProgress(id));
    // Any uncommitted conf entry may still be in the log: no change until
    // our own no-op commits, which also fixes the bug noted in thesis §4.1
    // (a leader must commit an entry of its term before changing membership).
    this.#pendingConfIndex = this.#log.lastIndex() + 1;
    // §8 / thesis §6.4: commit a no-op of our term to learn the commit index.
    this.#appendLocal('normal', new Uint8Array(0));
    if (this.#role === 'leader') this.#bcastAppend(true);
  }

  #reset(term: number): void {
    if (term !== this.#term) {
      this.#term = term;
      this.#vote = undefined;
    }
    this.#lead = undefined;
    this.#resetTimers();
    this.#votes = new Map();
    this.#progress = new Map();
    this.#abortTransfer();
    this.#reads.clear();
    this.#readsAwaitingCommit = [];
  }

  #resetTimers(): void {
    this.#electionElapsed = 0;
    this.#heartbeatElapsed = 0;
    // Paper §5.2: randomized in [electionTicks, 2·electionTicks).
    this.#randomizedElectionTicks = this.#cfg.electionTicks + this.#rand.int(this.#cfg.electionTicks);
  }

  #newProgress(id: NodeId): Progress {
    const pr = new Progress(this.#log.lastIndex() + 1);
    pr.recentActive = true; // give every voter a full round before check-quorum counts it out
    if (id === this.id) pr.match = this.#log.lastIndex();
    return pr;
  }

  // ---- ticking -------------------------------------------------------------

  #tickElection(): void {
    this.#electionElapsed++;
    if (this.#promotable() && this.#electionElapsed >= this.#randomizedElectionTicks) {
      this.#electionElapsed = 0;
      this.#hup(false);
    }
  }

  #tickLeader(): void {
    this.#heartbeatElapsed++;
    this.#electionElapsed++;
    for (const pr of this.#progress.values()) {
      // A lost InstallSnapshot must not stall a follower forever.
      if (pr.state === 'snapshot' && ++pr.snapshotTicks >= this.#cfg.electionTicks) pr.becomeProbe();
    }
    if (this.#electionElapsed >= this.#cfg.electionTicks) {
      this.#electionElapsed = 0;
      if (this.#cfg.checkQuorum && !this.#quorumActive()) {
        // Thesis §6.2: a leader cut off from a majority steps down, so that
        // clients go looking for the real leader and leases stay sound.
        this.#becomeFollower(this.#term, undefined);
        return;
      }
      this.#abortTransfer(); // thesis §3.10: the transfer did not finish within an election timeout
    }
    if (this.#heartbeatElapsed >= this.#cfg.heartbeatTicks) {
      this.#heartbeatElapsed = 0;
      this.#bcastHeartbeat(this.#reads.lastCtx());
    }
  }

  /** Counts voters heard from since the last round (self included), and starts a new round. */
  #quorumActive(): boolean {
    const voters = this.#voters();
    let active = 0;
    for (const id of voters) {
      const pr = this.#progress.get(id);
      if (id === this.id || pr?.recentActive) active++;
      if (pr && id !== this.id) pr.recentActive = false;
    }
    return active >= quorumSize(voters);
  }

  // ---- elections (paper §5.2, §5.4.1; thesis §9.6) ----------------------------

  #hup(transfer: boolean): void {
    if (this.#role === 'leader' || !this.#promotable()) return;
    if (this.#cfg.preVote && !transfer) this.#startCampaign('preVote', false);
    else this.#startCampaign('vote', transfer);
  }

  #startCampaign(kind: 'vote' | 'preVote', transfer: boolean): void {
    let term: number;
    if (kind === 'preVote') {
      this.#becomePreCandidate();
      term = this.#term + 1;
    } else {
      this.#becomeCandidate();
      term = this.#term;
    }
    this.#votes.set(this.id, true);
    if (tallyVotes(this.#voters(), this.#votes) === 'won') {
      // A configuration of one: we are the majority.
      if (kind === 'preVote') this.#startCampaign('vote', false);
      else this.#becomeLeader();
      return;
    }
    for (const id of this.#voters()) {
      if (id === this.id) continue;
      this.#send<VoteRequest>({ type: kind, to: id, term, lastIndex: this.#log.lastIndex(), lastTerm: this.#log.lastTerm(), transfer });
    }
  }

  #handleVoteRequest(m: VoteRequest): void {
    const pre = m.type === 'preVote';
    // One vote per term (§5.2); a repeat request from our candidate gets the same answer.
    const canVote = this.#vote === m.from || (this.#vote === undefined && this.#lead === undefined) || (pre && m.term > this.#term);
    const respType = pre ? 'preVoteResp' : 'voteResp';
    if (canVote && this.#log.isUpToDate(m.lastIndex, m.lastTerm)) {
      // A granted pre-vote answers at the term asked for, so the asker does not take it for a newer term.
      this.#send<VoteResponse>({ type: respType, to: m.from, term: m.term, reject: false });
      if (!pre) {
        this.#vote = m.from;
        this.#electionElapsed = 0; // §5.2: granting a vote resets the election timer
      }
    } else {
      this.#send<VoteResponse>({ type: respType, to: m.from, term: this.#term, reject: true });
    }
  }

  #stepCandidate(m: RaftMessage): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // §5.2: a leader of our term exists; return to follower and take its message.
        this.#becomeFollower(this.#term, m.from);
        this.#stepFollower(m);
        return;
      case 'voteResp':
      case 'preVoteResp': {
        const mine = this.#role === 'candidate' ? 'voteResp' : 'preVoteResp';
        if (m.type !== mine) return;
        if (!this.#votes.has(m.from)) this.#votes.set(m.from, !m.reject);
        const result = tallyVotes(this.#voters(), this.#votes);
        if (result === 'won') {
          if (this.#role === 'preCandidate') this.#startCampaign('vote', false);
          else this.#becomeLeader();
        } else if (result === 'lost') {
          this.#becomeFollower(this.#term, undefined);
        }
        return;
      }
      default:
        return;
    }
  }

  // ---- follower (paper §5.3, §7) ---------------------------------------------

  #stepFollower(m: RaftMessage): void {
    switch (m.type) {
      case 'append':
        this.#electionElapsed = 0;
        this.#lead = m.from;
        this.#handleAppend(m);
        return;
      case 'heartbeat':
        this.#electionElapsed = 0;
        this.#lead = m.from;
        this.#handleHeartbeat(m);
        return;
      case 'snapshot':
        this.#electionElapsed = 0;
        this.#lead = m.from;
        this.#handleSnapshot(m);
        return;
      case 'timeoutNow':
        // Thesis §3.10: campaign at once, skipping pre-vote; voters must not
        // ignore us because of the (old) leader's lease.
        this.#hup(true);
        return;
      default:
        return;
    }
  }

  #handleAppend(m: AppendRequest): void {
    if (m.prevIndex < this.#commit) {
      // Everything up to our commit index already matches (Log Matching, §5.3).
      this.#respondAppend(m.from, this.#commit);
      return;
    }
    const confBefore = this.#log.confIndex();
    const last = this.#log.maybeAppend(m.prevIndex, m.prevTerm, m.entries, (from) => {
      if (from <= this.#commit) throw new Error(`raft: invariant violated: entry ${from} conflicts but is committed (commit ${this.#commit})`);
    });
    if (last === undefined) {
      const hint = this.#log.conflictHint(m.prevIndex, m.prevTerm);
      this.#send<AppendResponse>({ type: 'appendResp', to: m.from, term: this.#term, index: m.prevIndex, reject: true, hintIndex: hint.index, hintTerm: hint.term });
      return;
    }
    if (this.#log.confIndex() !== confBefore) this.#onConfChanged();
    // Figure 2: commit = min(leaderCommit, index of last new entry).
    this.#commitTo(Math.min(m.commit, last));
    this.#respondAppend(m.from, last);
  }

  #handleHeartbeat(m: Heartbeat): void {
    // The leader sends min(our match, its commit), which our log holds.
    this.#commitTo(Math.min(m.commit, this.#log.lastIndex()));
    this.#send<HeartbeatResponse>({ type: 'heartbeatResp', to: m.from, term: this.#term, ctx: m.ctx });
  }

  #handleSnapshot(m: InstallSnapshot): void {
    const s = m.snapshot;
    if (s.index <= this.#commit) {
      this.#respondAppend(m.from, this.#commit);
      return;
    }
    if (this.#log.matchTerm(s.index, s.term)) {
      // §7: we already hold the entries the snapshot covers; keep the log after it.
      this.#commitTo(s.index);
      this.#respondAppend(m.from, this.#commit);
      return;
    }
    // §7: discard the whole log; the snapshot replaces it.
    this.#log.restore(s);
    this.#commit = s.index;
    this.#onConfChanged();
    this.#respondAppend(m.from, s.index);
  }

  #respondAppend(to: NodeId, index: number): void {
    this.#send<AppendResponse>({ type: 'appendResp', to, term: this.#term, index, reject: false, hintIndex: 0, hintTerm: 0 });
  }

  #commitTo(index: number): void {
    if (index > this.#commit) this.#commit = index;
  }

  // ---- leader (paper §5.3, §5.4.2) ---------------------------------------------

  #stepLeader(m: RaftMessage): void {
    const pr = this.#progress.get(m.from);
    if (!pr) return; // not a voter (any more)
    switch (m.type) {
      case 'appendResp':
        pr.recentActive = true;
        this.#handleAppendResponse(m, pr);
        return;
      case 'heartbeatResp':
        pr.recentActive = true;
        this.#handleHeartbeatResponse(m, pr);
        return;
      default:
        return;
    }
  }

  #handleAppendResponse(m: AppendResponse, pr: Progress): void {
    if (m.reject) {
      // Skip back over every entry whose term is above the follower's hint:
      // none of them can match (§5.3, the optimisation at the end).
      let j = Math.min(m.hintIndex, this.#log.lastIndex());
      for (;;) {
        const t = this.#log.term(j);
        if (t === undefined || t <= m.hintTerm) break;
        j--;
      }
      if (pr.maybeDecrease(m.index, j + 1)) this.#sendAppend(m.from, true);
      return;
    }
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) pr.becomeReplicate();
    if (this.#maybeCommit()) {
      if (this.#role !== 'leader') return;
      this.#bcastAppend(true); // followers learn the new commit index (§5.3)
    }
    // More entries may be waiting (size-limited batches), or only the news
    // that they committed: the follower applies nothing until it hears it.
    this.#sendAppend(m.from, pr.sentCommit < this.#commit);
    if (m.from === this.#leadTransferee && pr.match === this.#log.lastIndex()) this.#sendTimeoutNow(m.from);
  }

  #handleHeartbeatResponse(m: HeartbeatResponse, pr: Progress): void {
    if (pr.state === 'probe') pr.probeSent = false;
    // Even an empty append helps: if earlier appends were lost, its rejection
    // sends us back to probing from the right place.
    if (pr.match < this.#log.lastIndex()) this.#sendAppend(m.from, true);
    if (m.ctx !== undefined) this.#confirmedReads.push(...this.#reads.ack(m.ctx, m.from, this.#voters()));
  }

  /**
   * Advance commit to the highest index stored on a majority, but only if
   * that entry is of our term (§5.4.2, figure 8): older entries commit
   * indirectly. Returns true when commit moved.
   */
  #maybeCommit(): boolean {
    const idx = majorityIndex(this.#voters(), (id) => this.#progress.get(id)?.match ?? 0);
    if (idx <= this.#commit || this.#log.term(idx) !== this.#term) return false;
    const firstInTerm = !this.#committedInTerm();
    this.#commit = idx;
    if (firstInTerm) {
      const waiting = this.#readsAwaitingCommit;
      this.#readsAwaitingCommit = [];
      for (const ctx of waiting) this.#startRead(ctx);
    }
    if (!this.#voters().includes(this.id) && this.#log.confIndex() <= this.#commit) {
      // Thesis §4.2.2: a leader removed from the configuration steps down once the change is committed.
      this.#becomeFollower(this.#term, undefined);
    }
    return true;
  }

  #appendLocal(type: EntryType, data: Uint8Array): Entry {
    const e: Entry = { term: this.#term, index: this.#log.lastIndex() + 1, type, data };
    this.#log.append([e]);
    this.#progress.get(this.id)?.maybeUpdate(e.index);
    if (type === 'conf') this.#onConfChanged();
    if (this.#role === 'leader') this.#maybeCommit(); // a configuration of one commits at once
    return e;
  }

  #bcastAppend(sendIfEmpty: boolean): void {
    for (const id of this.#progress.keys()) if (id !== this.id) this.#sendAppend(id, sendIfEmpty);
  }

  #bcastHeartbeat(ctx: string | undefined): void {
    for (const [id, pr] of this.#progress) {
      if (id === this.id) continue;
      const commit = Math.min(pr.match, this.#commit);
      this.#send<Heartbeat>({ type: 'heartbeat', to: id, term: this.#term, commit, ctx });
      pr.sentCommit = Math.max(pr.sentCommit, commit);
    }
  }

  #sendAppend(to: NodeId, sendIfEmpty: boolean): void {
    const pr = this.#progress.get(to);
    if (!pr || pr.paused()) return;
    if (pr.next > this.#log.lastIndex() + 1) pr.next = this.#log.lastIndex() + 1;
    const prevIndex = pr.next - 1;
    const prevTerm = this.#log.term(prevIndex);
    const entries = this.#log.entriesFrom(pr.next, this.#cfg.maxEntriesPerAppendBytes);
    if (prevTerm === undefined || entries === undefined) {
      // §7: what the follower needs was compacted away.
      const snapshot = this.#log.snapshot();
      this.#send<InstallSnapshot>({ type: 'snapshot', to, term: this.#term, snapshot });
      pr.becomeSnapshot(snapshot.index);
      return;
    }
    if (entries.length === 0 && !sendIfEmpty) return;
    this.#send<AppendRequest>({ type: 'append', to, term: this.#term, prevIndex, prevTerm, entries, commit: this.#commit });
    pr.sentCommit = Math.max(pr.sentCommit, Math.min(this.#commit, prevIndex + entries.length));
    if (pr.state === 'replicate') {
      const last = entries.at(-1);
      if (last) pr.next = last.index + 1;
    } else {
      pr.probeSent = true;
    }
  }

  #sendTimeoutNow(to: NodeId): void {
    this.#send<TimeoutNow>({ type: 'timeoutNow', to, term: this.#term });
  }

  #startRead(ctx: string): void {
    const voters = this.#voters();
    if (voters.length === 1 && voters[0] === this.id) {
      // A configuration of one: our leadership needs no confirmation.
      this.#confirmedReads.push({ index: this.#commit, ctx });
      return;
    }
    this.#reads.add(ctx, this.#commit, this.id);
    this.#bcastHeartbeat(ctx);
  }

  #mustLead(): void {
    if (this.#role !== 'leader') throw new NotLeaderError(this.#lead);
    if (this.#leadTransferee !== undefined) throw new ProposalDroppedError('transfer-in-progress');
  }

  #abortTransfer(): void {
    this.#leadTransferee = undefined;
  }

  // ---- membership (thesis §4.1) ------------------------------------------------

  #voters(): readonly NodeId[] {
    return this.#log.conf().voters;
  }

  #promotable(): boolean {
    return this.#voters().includes(this.id);
  }

  /** The configuration in the log changed (append, truncation or snapshot): a leader tracks the new voters. */
  #onConfChanged(): void {
    if (this.#role !== 'leader') return;
    const voters = this.#voters();
    for (const id of voters) if (!this.#progress.has(id)) this.#progress.set(id, this.#newProgress(id));
    for (const id of [...this.#progress.keys()]) if (!voters.includes(id)) this.#progress.delete(id);
    if (this.#leadTransferee !== undefined && !voters.includes(this.#leadTransferee)) this.#abortTransfer();
  }

  // ---- helpers -------------------------------------------------------------

  /** Thesis §4.2.3: a server that heard from a leader within the minimum election timeout ignores campaigns. */
  #inLease(type: 'vote' | 'preVote'): boolean {
    const leaseApplies = this.#cfg.checkQuorum || (type === 'preVote' && this.#cfg.preVote);
    return leaseApplies && this.#lead !== undefined && this.#electionElapsed < this.#cfg.electionTicks;
  }

  #committedInTerm(): boolean {
    return this.#log.term(this.#commit) === this.#term;
  }

  /** First index not yet handed to the host for applying. */
  #applyFrom(): number {
    return Math.max(this.#applied, this.#log.pendingSnapshot()?.index ?? 0) + 1;
  }

  #softState(): SoftState {
    return { role: this.#role, leaderId: this.#lead, term: this.#term };
  }

  #hardState(): HardState {
    return { term: this.#term, vote: this.#vote, commit: this.#commit };
  }

  #send<M extends RaftMessage>(m: Omit<M, 'from'>): void {
    this.#msgs.push({ ...m, from: this.id } as RaftMessage);
  }
}

function sameSoft(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leaderId === b.leaderId && a.term === b.term;
}

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
