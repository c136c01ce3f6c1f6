// A manager's replica: the thin shell that binds the pure Raft core to a
// clock (ticks), the durable log (Wal), the peers (RaftPeers) and a state
// machine, following the host contract at the top of raft/raft-node.ts.
// Proposals resolve with the state machine's result once their entry is
// applied; reads resolve once the state machine has caught up with a
// read-index the leader confirmed (thesis §6.4). With forceNewCluster, open()
// first turns the stored log into a configuration of one (docs/raft.md,
// "Forcing a new cluster").
import type { Clock, Timer } from '../../shared/clock.js';
import type { Rand } from '../../shared/rand.js';
import { Encoder } from 'cbor-x';
import { NotLeaderError, ProposalDroppedError, RaftNode, type ConfChange, type Entry, type HardState, type NodeId, type Proposal, type RaftConfig, type RaftMessage, type Ready, type Snapshot } from './raft/index.js';
import { Wal } from './wal/wal.js';
import type { Disk } from './wal/disk.js';

/** The replicated, deterministic state machine (the store in the daemon, a key-value map in simulations). */
export interface StateMachine<R> {
  apply(index: number, data: Uint8Array): R;
  /** An entry that is not a command (a leader's no-op, a conf change). */
  skip(index: number): void;
  snapshot(): Uint8Array;
  /** Replace the whole state with a snapshot taken at index. */
  restore(data: Uint8Array, index: number): void;
}

/** How replicas reach each other; messages may be lost, Raft copes. */
export interface RaftPeers {
  send(m: RaftMessage): void;
  onMessage(cb: (m: RaftMessage) => void): void;
  close(): Promise<void>;
}

export interface ReplicaOptions<R> {
  id: NodeId;
  config: RaftConfig;
  clock: Clock;
  rand: Rand;
  disk: Disk;
  dir: string;
  peers: RaftPeers;
  sm: StateMachine<R>;
  /** Initial voters when creating a new cluster (every bootstrapping replica gets the same list). */
  bootstrap?: NodeId[];
  /**
   * Recover after losing a majority for good (docker's `swarm init
   * --force-new-cluster`): on open, this replica becomes the only voter of a
   * configuration of one, keeping every entry of its log as committed. Needs
   * a dir that holds a Raft log; not with bootstrap. See docs/raft.md.
   */
  forceNewCluster?: boolean;
  /** A proposal or read not done by then fails with an unknown outcome. */
  requestTimeoutMs?: number;
  /** Told of role and leader changes. */
  onRoleChange?: (role: string, leader: NodeId | undefined, term: number) => void;
}

/** The request timed out: it may or may not have taken effect. */
export class OutcomeUnknownError extends Error {
  readonly code = 'EOUTCOME';
  override name = 'OutcomeUnknownError';
}

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: Error): void;
  timer: Timer;
}

// The snapshot file holds the voters beside the state machine bytes.
const cbor = new Encoder({ useRecords: false, tagUint8Array: false });

function snapshotBytes(s: Snapshot): Uint8Array {
  return cbor.encode([s.conf.voters, s.data]);
}

/** What the durable log holds, as the core takes it on restart. */
interface Stored {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

export class Replica<R> {
  readonly id: NodeId;
  readonly #o: ReplicaOptions<R>;
  readonly #node: RaftNode;
  readonly #wal: Wal;
  #tick: Timer | undefined;
  #pumping: Promise<void> | undefined;
  #again = false;
  #applied: number;
  #closed = false;
  #failed: Error | undefined;
  #proposals = new Map<number, Waiter<R> & { term: number }>();
  #reads = new Map<string, Waiter<void>>();
  #readyReads: { index: number; ctx: string }[] = [];
  #readSeq = 0;

  private constructor(o: ReplicaOptions<R>, node: RaftNode, wal: Wal, applied: number) {
    this.id = o.id;
    this.#o = o;
    this.#node = node;
    this.#wal = wal;
    this.#applied = applied;
  }

  /** Open the durable log in dir, restore the state machine, and start ticking. */
  static async open<R>(o: ReplicaOptions<R>): Promise<Replica<R>> {
    if (o.forceNewCluster && o.bootstrap) {
      throw new RangeError('Replica.open: pass bootstrap (to create a cluster) or forceNewCluster (to recover one), not both');
    }
    const opened = await Wal.open(o.disk, o.dir);
    let node: RaftNode;
    let applied: number;
    try {
      let snapshot: Snapshot | undefined;
      const stored = await opened.wal.loadSnapshot();
      if (stored) {
        const [voters, data] = cbor.decode(stored.data) as [NodeId[], Uint8Array];
        snapshot = { index: stored.index, term: stored.term, conf: { voters }, data: new Uint8Array(data) };
        o.sm.restore(snapshot.data, snapshot.index);
      }
      const fresh = opened.hardState.term === 0 && opened.entries.length === 0 && !snapshot;
      // A snapshot only ever covers committed entries, so its index is a lower
      // bound of commit. A crash between saving a leader's snapshot and saving
      // the hard state that goes with it leaves an older commit on disk.
      const hardState = snapshot && opened.hardState.commit < snapshot.index ? { ...opened.hardState, commit: snapshot.index } : opened.hardState;
      let persisted: Stored = { hardState, snapshot, entries: opened.entries };
      if (o.forceNewCluster) {
        if (!snapshot && opened.entries.length === 0) {
          throw new Error(`no state to recover: ${o.dir} has no Raft log (forceNewCluster needs the state dir of a manager that was in a cluster)`);
        }
        persisted = await Replica.#forceNewCluster(o, opened.wal, persisted, opened.hardState);
      }
      node = new RaftNode({
        id: o.id,
        config: o.config,
        rand: o.rand,
        ...(fresh ? (o.bootstrap ? { bootstrap: o.bootstrap } : {}) : { persisted }),
      });
      applied = persisted.snapshot?.index ?? 0;
    } catch (e) {
      opened.wal.close();
      throw e;
    }
    // A configuration of one (a forced new cluster, a new cluster's first
    // manager, a lone manager restarting) needs nobody's vote: lead now
    // rather than after an election timeout.
    const voters = node.status().voters;
    if (voters.length === 1 && voters[0] === o.id) node.campaign();
    const r = new Replica(o, node, opened.wal, applied);
    o.peers.onMessage((m) => {
      if (r.#closed || m.to !== r.id) return;
      r.#node.step(m);
      r.#kick();
    });
    r.#scheduleTick();
    r.#kick();
    return r;
  }

  get role(): string {
    return this.#node.role;
  }
  get leaderId(): NodeId | undefined {
    return this.#node.leaderId;
  }
  get term(): number {
    return this.#node.term;
  }
  get applied(): number {
    return this.#applied;
  }
  /** Set once the durable log failed: the replica stops (it must not answer from a state it cannot persist). */
  get failure(): Error | undefined {
    return this.#failed;
  }
  status() {
    return this.#node.status();
  }
  /** The voters in force: the newest configuration in this replica's log, committed or not (thesis §4.1). */
  voters(): readonly NodeId[] {
    return this.#node.status().voters;
  }

  /** Replicate a command; resolves with the state machine's result once applied. Throws NotLeaderError on a follower. */
  propose(data: Uint8Array): Promise<R> {
    this.#usable();
    return this.#untilApplied(this.#node.propose(data), 'proposal');
  }

  /**
   * Add or remove one voter (thesis §4.1); resolves once the change is
   * committed and applied here. Unlike propose() it never throws: every
   * failure is a rejection, the ones known at once included (NotLeaderError,
   * ProposalDroppedError 'conf-change-pending' while an earlier change is not
   * committed, RangeError for adding a voter or removing a non-voter), so
   * that `.catch()` on a change nobody awaits catches them all.
   */
  proposeConfChange(change: ConfChange): Promise<void> {
    let p: Proposal;
    try {
      this.#usable();
      p = this.#node.proposeConfChange(change);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return this.#untilApplied(p, 'conf change').then(() => undefined);
  }

  /** Resolves when a read of the state machine now is linearizable (read-index). Throws NotLeaderError on a follower. */
  readBarrier(): Promise<void> {
    this.#usable();
    const ctx = `${this.id}/${++this.#readSeq}`;
    this.#node.readIndex(ctx);
    return new Promise<void>((resolve, reject) => {
      const timer = this.#o.clock.after(this.#o.requestTimeoutMs ?? 10_000, () => {
        this.#reads.delete(ctx);
        reject(new OutcomeUnknownError(`read not confirmed by a quorum within ${this.#o.requestTimeoutMs ?? 10_000} ms`));
      });
      this.#reads.set(ctx, { resolve, reject, timer });
      this.#kick();
    });
  }

  transferLeadership(to: NodeId): void {
    this.#usable();
    this.#node.transferLeadership(to);
    this.#kick();
  }

  /** Stop ticking and processing; pending requests fail. The peers transport is the caller's to close. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#tick?.cancel();
    await this.#pumping?.catch(() => {});
    this.#failAll(new Error('the replica is shutting down'));
    this.#wal.close();
  }

  /**
   * Turn the stored log into a configuration of one with this replica as the
   * only voter. The state machine was restored from p.snapshot; every entry
   * after it is applied as if committed (a follower's commit index lags the
   * leader's, so an acknowledged write may sit above it), and a snapshot at
   * the last entry, with voters [id], replaces them. Written snapshot first,
   * hard state second: a crash in between reopens with the new configuration
   * and commit raised to the snapshot (open() above).
   */
  static async #forceNewCluster<R>(o: ReplicaOptions<R>, wal: Wal, p: Stored, onDisk: HardState): Promise<Stored> {
    const last = p.entries.at(-1);
    const base = p.snapshot;
    const index = last?.index ?? base!.index;
    const term = last?.term ?? base!.term;
    for (const e of p.entries) {
      if (e.type === 'normal' && e.data.length > 0) o.sm.apply(e.index, e.data);
      else o.sm.skip(e.index);
    }
    // With nothing after the snapshot, only its configuration changes.
    const snapshot: Snapshot = { index, term, conf: { voters: [o.id] }, data: last ? o.sm.snapshot() : base!.data };
    if (last) await wal.saveSnapshot(snapshotBytes(snapshot), snapshot);
    else if (base!.conf.voters.length !== 1 || base!.conf.voters[0] !== o.id) await wal.rewriteSnapshot(snapshotBytes(snapshot), snapshot);
    // The term never goes back. It is at least the last entry's, unless a torn
    // write kept a batch's entries without the hard state after them; moving
    // it forward then clears a vote cast in the older term.
    const hs = p.hardState;
    const hardState: HardState = term > hs.term ? { term, vote: undefined, commit: index } : { ...hs, commit: index };
    if (onDisk.term !== hardState.term || onDisk.vote !== hardState.vote || onDisk.commit !== hardState.commit) await wal.save({ hardState });
    return { hardState, snapshot, entries: [] };
  }

  #usable(): void {
    if (this.#closed) throw new Error('the replica is closed');
    if (this.#failed) throw this.#failed;
  }

  #scheduleTick(): void {
    this.#tick = this.#o.clock.after(this.#o.config.tickMs, () => {
      if (this.#closed) return;
      this.#node.tick();
      this.#scheduleTick();
      this.#kick();
    });
  }

  /** Process Ready batches one at a time; a batch never overlaps the next. */
  #kick(): void {
    if (this.#closed || this.#failed) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = (async () => {
      do {
        this.#again = false;
        while (!this.#closed && this.#node.hasReady()) await this.#handle(this.#node.ready());
      } while (this.#again && !this.#closed);
    })()
      .catch((e: unknown) => {
        // A storage failure: stop taking part rather than answer from state we cannot persist.
        this.#failed = e instanceof Error ? e : new Error(String(e));
        this.#tick?.cancel();
        this.#failAll(this.#failed);
      })
      .finally(() => {
        this.#pumping = undefined;
      });
  }

  async #handle(rd: Ready): Promise<void> {
    // Host contract steps 2-7 (raft/raft-node.ts).
    if (rd.snapshot) await this.#wal.saveSnapshot(snapshotBytes(rd.snapshot), rd.snapshot);
    if (rd.hardState || rd.entries.length > 0) {
      await this.#wal.save({ ...(rd.hardState ? { hardState: rd.hardState } : {}), ...(rd.entries.length > 0 ? { entries: rd.entries } : {}) });
    }
    if (this.#closed) return;
    for (const m of rd.messages) this.#o.peers.send(m);
    if (rd.snapshot) {
      this.#o.sm.restore(rd.snapshot.data, rd.snapshot.index);
      this.#applied = rd.snapshot.index;
      // Proposals at or below the snapshot were decided elsewhere: their result here is unknown.
      for (const [index, w] of this.#proposals) {
        if (index <= rd.snapshot.index) this.#settle(this.#proposals, index, w, new OutcomeUnknownError(`proposal at index ${index} was covered by a snapshot from the leader`));
      }
    }
    for (const e of rd.committedEntries) {
      let result: R | undefined;
      if (e.type === 'normal' && e.data.length > 0) result = this.#o.sm.apply(e.index, e.data);
      else this.#o.sm.skip(e.index);
      this.#applied = e.index;
      const w = this.#proposals.get(e.index);
      if (w) {
        this.#proposals.delete(e.index);
        w.timer.cancel();
        if (w.term === e.term) w.resolve(result as R);
        else w.reject(new ProposalDroppedError('overwritten'));
      }
    }
    this.#readyReads.push(...rd.readStates);
    this.#readyReads = this.#readyReads.filter((rs) => {
      if (rs.index > this.#applied) return true;
      const w = this.#reads.get(rs.ctx);
      if (w) this.#settle(this.#reads, rs.ctx, w, undefined);
      return false;
    });
    if (rd.softState) {
      this.#o.onRoleChange?.(rd.softState.role, rd.softState.leaderId, rd.softState.term);
      if (rd.softState.role !== 'leader') {
        // Reads are served by leaders only; a deposed one drops them (raft-node.ts).
        for (const [ctx, w] of this.#reads) this.#settle(this.#reads, ctx, w, new NotLeaderError(rd.softState.leaderId));
      }
    }
    this.#node.advance();
    if (rd.shouldSnapshot) {
      const snap = this.#node.compact(this.#applied, this.#o.sm.snapshot());
      await this.#wal.saveSnapshot(snapshotBytes(snap), snap);
    }
  }

  /** Wait for the entry of a proposal to be applied; it took effect iff the entry applied at its index has its term. */
  #untilApplied(p: Proposal, what: string): Promise<R> {
    const ms = this.#o.requestTimeoutMs ?? 10_000;
    return new Promise<R>((resolve, reject) => {
      const earlier = this.#proposals.get(p.index);
      if (earlier) {
        // We lost the earlier entry at this index (a conflicting append or
        // snapshot cut it from our log) and now lead with a new one there.
        // Another server may still hold it and win a later election, so its
        // fate is unknown; the map can track only one entry per index.
        this.#settle(this.#proposals, p.index, earlier, new OutcomeUnknownError(`entry at index ${p.index} was replaced in this replica's log; it may or may not take effect`));
      }
      const w = {
        term: p.term,
        resolve,
        reject,
        timer: this.#o.clock.after(ms, () => {
          if (this.#proposals.get(p.index) === w) this.#proposals.delete(p.index);
          reject(new OutcomeUnknownError(`${what} at index ${p.index} not applied within ${ms} ms; it may or may not take effect`));
        }),
      };
      this.#proposals.set(p.index, w);
      this.#kick();
    });
  }

  #settle<K, T>(map: Map<K, Waiter<T>>, key: K, w: Waiter<T>, err: Error | undefined, value?: T): void {
    map.delete(key);
    w.timer.cancel();
    if (err) w.reject(err);
    else w.resolve(value as T);
  }

  #failAll(e: Error): void {
    for (const [k, w] of this.#proposals) this.#settle(this.#proposals, k, w, e);
    for (const [k, w] of this.#reads) this.#settle(this.#reads, k, w, e);
  }
}
