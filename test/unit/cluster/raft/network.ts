// A pure in-memory network of RaftNodes for tests: a message queue the test
// delivers, drops or reorders by hand; per-node "disks" that survive crashes;
// a toy state machine (the list of applied strings); and invariants checked
// as it goes (election safety, paper §5.2; state machine safety, §5.4.3).
// No timers, no sockets: everything moves only when the test says so.

import { RaftNode } from '../../../../agent/cluster/raft/raft-node.js';
import { testRaftConfig, type RaftConfig } from '../../../../agent/cluster/raft/config.js';
import type { RaftMessage } from '../../../../agent/cluster/raft/messages.js';
import type { Entry, NodeId, PersistedState, ReadState, Snapshot } from '../../../../agent/cluster/raft/types.js';
import { seededRand, type Rand } from '../../../../shared/rand.js';

const utf8 = new TextEncoder();
const text = new TextDecoder();

export const bytes = (s: string): Uint8Array => utf8.encode(s);

export interface NetworkOptions {
  seed: number;
  config?: Partial<RaftConfig>;
  /** Bootstrap every initial node with the full list of ids (default true). */
  bootstrap?: boolean;
}

interface Disk {
  hardState: PersistedState['hardState'];
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

export class RaftNetwork {
  readonly seed: number;
  readonly config: RaftConfig;
  readonly rand: Rand;
  readonly nodes = new Map<NodeId, RaftNode>();
  readonly disks = new Map<NodeId, Disk>();
  /** The toy state machine of each node: data of applied non-empty normal entries. */
  readonly applied = new Map<NodeId, string[]>();
  readonly reads = new Map<NodeId, ReadState[]>();
  queue: RaftMessage[] = [];
  /** Return true to drop a message (in addition to partitions). */
  dropIf: ((m: RaftMessage) => boolean) | undefined;
  /** Compact each node's log when the core asks (Ready.shouldSnapshot). */
  autoCompact = false;
  readonly #groups = new Map<NodeId, number>();
  readonly #leaderOfTerm = new Map<number, NodeId>();
  readonly #appliedTermAt = new Map<number, number>();

  constructor(ids: NodeId[], opts: NetworkOptions) {
    this.seed = opts.seed;
    this.config = { ...testRaftConfig(), ...opts.config };
    this.rand = seededRand(opts.seed);
    for (const id of ids) this.start(id, opts.bootstrap === false ? undefined : ids);
  }

  /** Context for assertion messages, so a failure names the seed to replay. */
  get why(): string {
    return `seed ${this.seed}`;
  }

  node(id: NodeId): RaftNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no running node ${id} (${this.why})`);
    return n;
  }

  /** Start a node: bootstrap a new cluster, restart from its disk, or (neither) join empty. */
  start(id: NodeId, bootstrap?: NodeId[]): RaftNode {
    const disk = this.disks.get(id);
    const rand = this.rand.fork();
    let n: RaftNode;
    if (disk) {
      n = new RaftNode({ id, config: this.config, rand, persisted: { hardState: { ...disk.hardState }, snapshot: disk.snapshot, entries: [...disk.entries] } });
      this.applied.set(id, disk.snapshot ? decodeState(disk.snapshot.data) : []);
    } else {
      n = new RaftNode(bootstrap ? { id, config: this.config, rand, bootstrap } : { id, config: this.config, rand });
      this.disks.set(id, { hardState: { term: 0, vote: undefined, commit: 0 }, snapshot: undefined, entries: [] });
      this.applied.set(id, []);
    }
    this.nodes.set(id, n);
    this.reads.set(id, []);
    return n;
  }

  /** Lose everything not on disk, including messages in flight to the node. */
  crash(id: NodeId): void {
    this.nodes.delete(id);
    this.queue = this.queue.filter((m) => m.to !== id);
  }

  /** Split the nodes into groups that cannot talk to each other; unnamed nodes form one more group. */
  partition(...groups: NodeId[][]): void {
    this.#groups.clear();
    groups.forEach((g, k) => g.forEach((id) => this.#groups.set(id, k + 1)));
  }

  isolate(id: NodeId): void {
    this.partition([id]);
  }

  heal(): void {
    this.#groups.clear();
  }

  canTalk(a: NodeId, b: NodeId): boolean {
    return (this.#groups.get(a) ?? 0) === (this.#groups.get(b) ?? 0);
  }

  /** Handle one Ready of a node the way a host must (raft-node.ts, top comment). */
  flush(id: NodeId): boolean {
    const n = this.nodes.get(id);
    if (!n || !n.hasReady()) return false;
    const rd = n.ready();
    const disk = this.disks.get(id)!;
    if (rd.hardState) disk.hardState = { ...rd.hardState };
    if (rd.snapshot) {
      disk.snapshot = rd.snapshot;
      disk.entries = [];
    }
    const first = rd.entries[0];
    if (first) disk.entries = disk.entries.filter((e) => e.index < first.index).concat(rd.entries);
    this.queue.push(...rd.messages);
    if (rd.snapshot) this.applied.set(id, decodeState(rd.snapshot.data));
    const sm = this.applied.get(id)!;
    for (const e of rd.committedEntries) {
      const seen = this.#appliedTermAt.get(e.index);
      if (seen !== undefined && seen !== e.term) {
        throw new Error(`state machine safety (§5.4.3): ${id} applied index ${e.index} term ${e.term}, another node applied term ${seen} (${this.why})`);
      }
      this.#appliedTermAt.set(e.index, e.term);
      if (e.type === 'normal' && e.data.length > 0) sm.push(text.decode(e.data));
    }
    this.reads.get(id)!.push(...rd.readStates);
    n.advance();
    if (rd.shouldSnapshot && this.autoCompact) this.compact(id);
    this.checkElectionSafety();
    return true;
  }

  /** Snapshot the toy state machine at the applied index and compact the log (paper §7). */
  compact(id: NodeId): Snapshot {
    const n = this.node(id);
    const snap = n.compact(n.status().applied, encodeState(this.applied.get(id)!));
    const disk = this.disks.get(id)!;
    disk.snapshot = snap;
    disk.entries = disk.entries.filter((e) => e.index > snap.index);
    return snap;
  }

  flushAll(): boolean {
    let any = false;
    for (const id of this.nodes.keys()) any = this.flush(id) || any;
    return any;
  }

  /** Deliver (or drop) the message at position k of the queue. */
  deliverAt(k: number): void {
    const [m] = this.queue.splice(k, 1);
    if (!m) return;
    const to = this.nodes.get(m.to);
    if (!to || !this.canTalk(m.from, m.to) || this.dropIf?.(m)) return;
    to.step(m);
  }

  /** Flush and deliver until nothing moves (bounded, in case of a livelock bug). */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      const flushed = this.flushAll();
      if (!flushed && this.queue.length === 0) return;
      while (this.queue.length > 0) this.deliverAt(0);
    }
    throw new Error(`network did not stabilize in ${maxRounds} rounds (${this.why})`);
  }

  /** n rounds of: tick every running node once, then stabilize. */
  tick(n = 1, only?: NodeId[]): void {
    for (let i = 0; i < n; i++) {
      for (const [id, node] of this.nodes) if (!only || only.includes(id)) node.tick();
      this.stabilize();
    }
  }

  /** Tick until some node leads (among those given), returning it; throws after maxTicks. */
  elect(maxTicks = 200, among?: NodeId[]): NodeId {
    for (let i = 0; i < maxTicks; i++) {
      const l = this.leader(among);
      if (l !== undefined) return l;
      this.tick();
    }
    throw new Error(`no leader after ${maxTicks} ticks (${this.why})`);
  }

  /** The leader with the highest term among running nodes (optionally among some). */
  leader(among?: NodeId[]): NodeId | undefined {
    let best: RaftNode | undefined;
    for (const [id, n] of this.nodes) {
      if (among && !among.includes(id)) continue;
      if (n.role === 'leader' && (!best || n.term > best.term)) best = n;
    }
    return best?.id;
  }

  /** Paper §5.2: at most one leader per term, over the whole history of the run. */
  checkElectionSafety(): void {
    for (const [id, n] of this.nodes) {
      if (n.role !== 'leader') continue;
      const prior = this.#leaderOfTerm.get(n.term);
      if (prior !== undefined && prior !== id) throw new Error(`election safety (§5.2): ${prior} and ${id} both led term ${n.term} (${this.why})`);
      this.#leaderOfTerm.set(n.term, id);
    }
  }

  /**
   * One random step of a hostile network: tick one node, or deliver, drop or
   * reorder one queued message, or propose on a leader. Invariants are checked
   * on every flush.
   */
  chaosStep(rand: Rand, dropRate: number): void {
    const ids = [...this.nodes.keys()];
    const r = rand.float();
    if (r < 0.08 || this.queue.length === 0) {
      const id = ids[rand.int(ids.length)];
      if (id !== undefined) this.node(id).tick();
    } else if (r < 0.11) {
      const l = this.leader();
      if (l !== undefined) {
        try {
          this.node(l).propose(bytes(`v${rand.u32()}`));
        } catch {
          // a transfer may be under way; the chaos does not care
        }
      }
    } else {
      const k = rand.int(this.queue.length);
      if (rand.float() < dropRate) this.queue.splice(k, 1);
      else this.deliverAt(k);
    }
    this.flushAll();
  }

  /** Propose on the current leader and let the network settle. */
  propose(value: string): NodeId {
    const l = this.leader();
    if (l === undefined) throw new Error(`no leader to propose ${value} to (${this.why})`);
    this.node(l).propose(bytes(value));
    this.stabilize();
    return l;
  }
}

// The toy state machine's snapshot format: its list of strings as JSON.
export function encodeState(values: string[]): Uint8Array {
  return utf8.encode(JSON.stringify(values));
}

export function decodeState(data: Uint8Array): string[] {
  return data.length === 0 ? [] : (JSON.parse(text.decode(data)) as string[]);
}
