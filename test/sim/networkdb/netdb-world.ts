// A lightweight discrete-event world for NetworkDB at fleet scale (issue 5):
// many NetworkDb cores, one simulated clock, one seed. It plays the host of
// network-db.ts's contract: datagrams (table gossip) get a seeded latency and
// loss; streams (bulk sync) get a latency and never lose; broadcasts (network
// events, which SWIM would piggyback) reach every node once, with latency.
// Membership is assumed known (every node alive): the SWIM layer is tested
// on its own. Nodes tick exactly when nextDueMs() says.
//
// It is lighter than test/sim/runner.ts (no MemNet sockets, no promises), so
// a thousand nodes run in seconds; every choice still comes from the seed.
import { seededRand, type Rand } from '../../../shared/rand.js';
import { NetworkDb, type NetworkDbConfig, type Send, type TableEvent } from '../../../agent/gossip/networkdb/index.js';

interface Ev {
  t: number;
  seq: number;
  fn: () => void;
}

/** A binary min-heap on (t, seq): ties fire in scheduling order. */
class EventHeap {
  readonly #a: Ev[] = [];
  get size(): number {
    return this.#a.length;
  }
  peek(): Ev | undefined {
    return this.#a[0];
  }
  push(e: Ev): void {
    const a = this.#a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Ev | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

const less = (x: Ev, y: Ev) => x.t < y.t || (x.t === y.t && x.seq < y.seq);

export interface WorldOptions {
  nodes: number;
  seed: number;
  config: NetworkDbConfig;
  /** Chance a datagram is lost (streams never lose). */
  lossRate?: number;
  /** Chance a broadcast misses a given node (SWIM piggybacking is not perfect); default 0. */
  broadcastLossRate?: number;
  latencyMinMs?: number;
  latencyMaxMs?: number;
}

export interface Delivery {
  to: number;
  send: Send;
}

export class NetDbWorld {
  readonly nodes: NetworkDb[] = [];
  readonly ids: string[] = [];
  readonly #index = new Map<string, number>();
  readonly #heap = new EventHeap();
  readonly #wakeAt: number[] = [];
  readonly #rand: Rand;
  readonly #root: Rand;
  readonly #config: NetworkDbConfig;
  readonly #loss: number;
  readonly #broadcastLoss: number;
  /** Restarts per node: a restarted node's events are new even if it reuses a Lamport time. */
  readonly #epoch: number[] = [];
  readonly #latMin: number;
  readonly #latSpan: number;
  #seq = 0;
  nowMs = 0;
  /** Broadcasts already flooded (SWIM delivers each once per node; rebroadcasts add nothing here). */
  readonly #flooded = new Set<string>();
  /** Called for every table event any node emits. */
  onEvent: (node: number, ev: TableEvent) => void = () => {};
  /** Called for every message delivered to a node (after loss), before it is received. */
  onDeliver: (d: Delivery) => void = () => {};
  datagramsSent = 0;
  datagramsLost = 0;
  streamsSent = 0;
  steps = 0;

  constructor(o: WorldOptions) {
    const root = seededRand(o.seed);
    this.#root = root;
    this.#config = o.config;
    this.#rand = root.fork();
    this.#loss = o.lossRate ?? 0;
    this.#broadcastLoss = o.broadcastLossRate ?? 0;
    this.#latMin = o.latencyMinMs ?? 1;
    this.#latSpan = (o.latencyMaxMs ?? 10) - this.#latMin;
    for (let i = 0; i < o.nodes; i++) {
      const id = `node-${String(i).padStart(4, '0')}`;
      this.ids.push(id);
      this.#index.set(id, i);
      this.nodes.push(new NetworkDb({ nodeId: id, config: o.config, rand: root.fork(), nowMs: 0 }));
      this.#wakeAt.push(Infinity);
      this.#epoch.push(0);
    }
    for (let i = 0; i < o.nodes; i++) this.#reschedule(i);
  }

  #latency(): number {
    return this.#latMin + this.#rand.float() * this.#latSpan;
  }

  #at(t: number, fn: () => void): void {
    this.#heap.push({ t, seq: this.#seq++, fn });
  }

  /** Do something on node i now (a local write, a join), then ship what it produced. */
  act(i: number, fn: (db: NetworkDb, nowMs: number) => void): void {
    fn(this.nodes[i]!, this.nowMs);
    this.#flush(i);
  }

  /** Schedule act(i, fn) at time t. */
  actAt(t: number, i: number, fn: (db: NetworkDb, nowMs: number) => void): void {
    this.#at(t, () => this.act(i, fn));
  }

  /** Node i crashes and restarts with no state (in no network, clocks at 0). */
  restart(i: number): void {
    this.nodes[i] = new NetworkDb({ nodeId: this.ids[i]!, config: this.#config, rand: this.#root.fork(), nowMs: this.nowMs });
    this.#epoch[i]!++;
    this.#wakeAt[i] = Infinity;
    this.#reschedule(i);
  }

  /** A SWIM push-pull between i and j: each merges the other's network state. */
  pushPull(i: number, j: number): void {
    const a = this.nodes[i]!.localState();
    const b = this.nodes[j]!.localState();
    this.nodes[j]!.receive(this.ids[i]!, a, this.nowMs);
    this.#flush(j);
    this.nodes[i]!.receive(this.ids[j]!, b, this.nowMs);
    this.#flush(i);
  }

  /** Every intervalMs (random phase per node), each node push-pulls with a random other node, as SWIM does. */
  startPushPull(intervalMs: number): void {
    for (let i = 0; i < this.nodes.length; i++) {
      const loop = (t: number) =>
        this.#at(t, () => {
          const j = (i + 1 + this.#rand.int(this.nodes.length - 1)) % this.nodes.length;
          this.pushPull(i, j);
          loop(t + intervalMs);
        });
      loop(this.#rand.float() * intervalMs);
    }
  }

  #reschedule(i: number): void {
    const due = Math.max(this.nodes[i]!.nextDueMs(), this.nowMs);
    if (due >= this.#wakeAt[i]!) return;
    this.#wakeAt[i] = due;
    this.#at(due, () => {
      if (this.#wakeAt[i] !== due) return; // superseded by an earlier wake-up
      this.#wakeAt[i] = Infinity;
      this.nodes[i]!.tick(this.nowMs);
      this.#flush(i);
    });
  }

  #flush(i: number): void {
    const out = this.nodes[i]!.takeOutput();
    for (const ev of out.events) this.onEvent(i, ev);
    for (const s of out.sends) {
      const to = this.#index.get(s.to);
      if (to === undefined) continue;
      if (s.reliable) this.streamsSent++;
      else {
        this.datagramsSent++;
        if (this.#rand.float() < this.#loss) {
          this.datagramsLost++;
          continue;
        }
      }
      const from = this.ids[i]!;
      this.#at(this.nowMs + this.#latency(), () => this.#deliver(from, to, s));
    }
    for (const b of out.broadcasts) {
      const about = this.#index.get(b.msg.node);
      const id = `${b.key}\u0000${b.msg.ltime}\u0000${b.msg.leaving}\u0000${about === undefined ? 0 : this.#epoch[about]}`;
      if (this.#flooded.has(id)) continue;
      this.#flooded.add(id);
      const from = this.ids[i]!;
      for (let j = 0; j < this.nodes.length; j++) {
        if (j === i) continue;
        if (this.#broadcastLoss > 0 && this.#rand.float() < this.#broadcastLoss) continue;
        this.#at(this.nowMs + this.#latency(), () => {
          this.nodes[j]!.receive(from, b.bytes, this.nowMs);
          this.#flush(j);
        });
      }
    }
    this.#reschedule(i);
  }

  #deliver(from: string, to: number, s: Send): void {
    this.onDeliver({ to, send: s });
    this.nodes[to]!.receive(from, s.bytes, this.nowMs);
    this.#flush(to);
  }

  /** Runs every event due at or before t, then sets the clock to t. */
  runUntil(t: number): void {
    for (;;) {
      const e = this.#heap.peek();
      if (!e || e.t > t) break;
      this.#heap.pop();
      this.nowMs = e.t;
      this.steps++;
      e.fn();
    }
    this.nowMs = t;
  }
}

/** Percentile (nearest rank) of a non-empty list. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
