// A lightweight discrete-event simulator for the SWIM core at fleet scale
// (1,000 nodes). MemNet and runner.ts model sockets, streams and promise
// turns, which is right for tens of nodes and too slow for a thousand; here
// a node is just a SwimNode and the network a priority queue of deliveries
// and ticks, ordered by (time, insertion), so a seed replays the same run.
//
// - UDP: every packet is delayed by a seeded latency in [latencyMinMs,
//   latencyMaxMs] and lost with probability `loss`; messages travel as
//   objects (the core's encodedSize() sized them, the codec is skipped).
// - TCP push-pull: reliable, one latency each way; it fails (nothing comes
//   back) when the peer is down or on the other side of a partition.
// - partition(groupOf) drops everything between groups until heal();
//   kill(i) silences node i for good (a crash, no goodbye).
// - Everything random comes from seededRand(seed) forks: one for the
//   network, one per node.
import { DeadlineHeap } from '../../../shared/deadline-heap.js';
import { SwimNode, type MemberEvent, type PushPullState, type SwimConfig, type SwimMessage } from '../../../agent/gossip/swim/index.js';
import { seededRand, type Rand } from '../../../shared/rand.js';

const enum Kind {
  Tick,
  Packet,
  PushPullRequest,
  PushPullReply,
  Call,
}

interface Ev {
  t: number;
  kind: Kind;
  node: number;
  gen: number;
  from: string;
  msg: SwimMessage | undefined;
  state: PushPullState | undefined;
  peer: number;
  fn: (() => void) | undefined;
}

export interface DesOptions {
  n: number;
  seed: number;
  config: SwimConfig;
  loss?: number;
  latencyMinMs?: number;
  latencyMaxMs?: number;
}

export const addrOf = (i: number): string => `10.${(i + 1) >> 16}.${((i + 1) >> 8) & 0xff}.${(i + 1) & 0xff}:7946`;

export class SwimDes {
  readonly nodes: SwimNode[];
  readonly up: boolean[];
  readonly seed: number;
  now = 0;
  events = 0;
  packets = 0;
  /** Called for every membership event any node drains: (observer, event, now). */
  onEvent: ((observer: number, ev: MemberEvent, now: number) => void) | undefined;
  /** Called for every user payload a node drains: (receiver, payload, now). */
  onUser: ((receiver: number, payload: Uint8Array, now: number) => void) | undefined;
  /** Called after every event that touched node i. */
  afterStep: ((i: number) => void) | undefined;
  loss: number;
  readonly #latMin: number;
  readonly #latSpan: number;
  readonly #net: Rand;
  readonly #index = new Map<string, number>();
  readonly #tickAt: number[];
  readonly #tickGen: number[];
  #group: Int32Array | undefined;
  readonly #heap = new DeadlineHeap<Ev>();

  constructor(o: DesOptions) {
    this.seed = o.seed;
    const root = seededRand(o.seed);
    this.#net = root.fork();
    this.loss = o.loss ?? 0;
    this.#latMin = o.latencyMinMs ?? 1;
    this.#latSpan = (o.latencyMaxMs ?? 10) - this.#latMin;
    this.nodes = [];
    for (let i = 0; i < o.n; i++) {
      const addr = addrOf(i);
      this.#index.set(addr, i);
      this.nodes.push(new SwimNode({ id: `node-${i}`, addr, config: o.config, rand: root.fork() }));
    }
    this.up = this.nodes.map(() => true);
    this.#tickAt = this.nodes.map(() => Infinity);
    this.#tickGen = this.nodes.map(() => 0);
  }

  /** Run fn at simulated time t. */
  at(t: number, fn: () => void): void {
    this.#push({ t, kind: Kind.Call, node: -1, gen: 0, from: '', msg: undefined, state: undefined, peer: -1, fn });
  }

  join(i: number, seedIdx: readonly number[]): void {
    this.nodes[i]!.join(seedIdx.filter((s) => s !== i).map(addrOf), this.now);
    this.#after(i);
  }

  kill(i: number): void {
    this.up[i] = false;
  }

  /** Split the nodes into groups (groupOf(i) for each node); traffic between groups is dropped. */
  partition(groupOf: (i: number) => number): void {
    this.#group = Int32Array.from(this.nodes, (_, i) => groupOf(i));
  }

  heal(): void {
    this.#group = undefined;
  }

  /** Process events until simulated time passes endMs or stop() turns true (checked after each event). */
  run(endMs: number, stop?: () => boolean): void {
    const h = this.#heap;
    while (h.peekMs() <= endMs) {
      const e = h.pop()!;
      this.now = e.t;
      this.events++;
      this.#dispatch(e);
      if (stop !== undefined && stop()) return;
    }
    if (endMs > this.now && endMs !== Infinity) this.now = endMs;
  }

  #cut(a: number, b: number): boolean {
    const g = this.#group;
    return g !== undefined && g[a] !== g[b];
  }

  #latency(): number {
    return this.#latMin + this.#net.float() * this.#latSpan;
  }

  #dispatch(e: Ev): void {
    switch (e.kind) {
      case Kind.Call:
        e.fn!();
        return;
      case Kind.Tick:
        if (!this.up[e.node] || e.gen !== this.#tickGen[e.node]) return;
        this.#tickAt[e.node] = Infinity;
        this.nodes[e.node]!.tick(this.now);
        this.#after(e.node);
        return;
      case Kind.Packet:
        if (!this.up[e.node]) return;
        this.nodes[e.node]!.receivePacket(e.from, e.msg!, this.now);
        this.#after(e.node);
        return;
      case Kind.PushPullRequest: {
        if (!this.up[e.node] || this.#cut(e.node, e.peer)) return;
        const reply = this.nodes[e.node]!.receivePushPull(addrOf(e.peer), e.state!, this.now);
        this.#after(e.node);
        this.#push({ t: this.now + this.#latency(), kind: Kind.PushPullReply, node: e.peer, gen: 0, from: addrOf(e.node), msg: undefined, state: reply, peer: e.node, fn: undefined });
        return;
      }
      case Kind.PushPullReply:
        if (!this.up[e.node] || !this.up[e.peer] || this.#cut(e.node, e.peer)) return;
        this.nodes[e.node]!.receivePushPullReply(e.from, e.state!, this.now);
        this.#after(e.node);
        return;
    }
  }

  /** Drain node i's output into the network, then (re)schedule its tick. */
  #after(i: number): void {
    const node = this.nodes[i]!;
    const out = node.drain();
    const from = node.addr;
    for (const p of out.packets) {
      const j = this.#index.get(p.to);
      this.packets++;
      if (j === undefined || this.#cut(i, j)) continue;
      if (this.loss > 0 && this.#net.float() < this.loss) continue;
      this.#push({ t: this.now + this.#latency(), kind: Kind.Packet, node: j, gen: 0, from, msg: p.msg, state: undefined, peer: i, fn: undefined });
    }
    for (const x of out.pushPulls) {
      const j = this.#index.get(x.to);
      if (j === undefined || this.#cut(i, j)) continue;
      this.#push({ t: this.now + this.#latency(), kind: Kind.PushPullRequest, node: j, gen: 0, from, msg: undefined, state: x.state, peer: i, fn: undefined });
    }
    if (this.onEvent !== undefined) for (const ev of out.events) this.onEvent(i, ev, this.now);
    if (this.onUser !== undefined) for (const u of out.userMessages) this.onUser(i, u.payload, this.now);
    const due = node.nextDueMs();
    if (due < this.#tickAt[i]!) {
      this.#tickAt[i] = due;
      const gen = ++this.#tickGen[i]!;
      this.#push({ t: Math.max(due, this.now), kind: Kind.Tick, node: i, gen, from: '', msg: undefined, state: undefined, peer: -1, fn: undefined });
    }
    this.afterStep?.(i);
  }

  #push(e: Ev): void {
    this.#heap.push(e.t, e);
  }
}
