// A toy protocol for testing the simulation runner: nodes gossip the highest
// counter value they have seen over MemNet datagrams. Now and then a node
// increments its value; every tick it pushes its value to one random peer,
// and a receiver keeps the larger value. A crash forgets the value.
//
// The true invariant: no node ever holds a value above the number of
// increments made so far (each value v was made by an increment from v - 1).
import type { Timer } from '../../shared/clock.js';
import type { Rand } from '../../shared/rand.js';
import type { DatagramSocket } from '../../shared/transport/types.js';
import type { Invariant, SimCtx, SimNode, SimSpec } from './runner.js';

export const TOY_PORT = 7946;
const TICK_MS = 50; // plus up to TICK_MS of jitter, so nodes drift apart
const INCREMENT_P = 0.1;

/** What the whole run shares: the ground truth the invariants compare against. */
export interface ToyTruth {
  increments: number;
}

export class ToyNode implements SimNode {
  value = 0;
  #sock: DatagramSocket | undefined;
  #timer: Timer | undefined;

  constructor(
    readonly id: string,
    readonly ip: string,
    readonly peers: string[],
    readonly ctx: SimCtx,
    readonly rand: Rand,
    readonly truth: ToyTruth,
  ) {}

  async start(): Promise<void> {
    const sock = await this.ctx.net.datagram(this.ip).bind({ host: this.ip, port: TOY_PORT });
    this.#sock = sock;
    sock.onMessage((d) => {
      if (d.length !== 4) return; // the data path drops what it cannot parse
      const v = new DataView(d.buffer, d.byteOffset, 4).getUint32(0);
      if (v > this.value) this.value = v;
    });
    this.#schedule();
  }

  #schedule(): void {
    this.#timer = this.ctx.clock.after(TICK_MS + this.rand.int(TICK_MS), () => this.#tick());
  }

  #tick(): void {
    if (this.rand.float() < INCREMENT_P) {
      this.value++;
      this.truth.increments++;
      this.ctx.trace(`${this.id} inc -> ${this.value}`);
    }
    const peer = this.peers[this.rand.int(this.peers.length)]!;
    const msg = new Uint8Array(4);
    new DataView(msg.buffer).setUint32(0, this.value);
    this.#sock?.send(msg, { host: peer, port: TOY_PORT });
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#timer?.cancel();
    await this.#sock?.close();
    this.#sock = undefined;
  }

  async crash(): Promise<void> {
    await this.stop();
    this.value = 0;
  }

  restart(): Promise<void> {
    return this.start();
  }
}

export const toyBounded: Invariant<ToyNode> = (w) => {
  const truth = w.nodes[0]!.truth;
  for (const n of w.nodes) if (n.value > truth.increments) return `${n.id} holds ${n.value} > ${truth.increments} increments`;
};

/** Deliberately wrong: claims no node ever reaches k. Whether it fails depends on the seed. */
export const toyNeverReaches =
  (k: number): Invariant<ToyNode> =>
  (w) => {
    for (const n of w.nodes) if (n.value >= k) return `${n.id} reached ${n.value} (>= ${k})`;
  };

export function toySpec(over: Partial<SimSpec<ToyNode>> = {}): SimSpec<ToyNode> {
  return {
    name: 'toy',
    nodes: 5,
    build: (ctx) => {
      const truth: ToyTruth = { increments: 0 };
      return ctx.hosts.map(
        (ip, i) => new ToyNode(`n${i + 1}`, ip, ctx.hosts.filter((h) => h !== ip), ctx, ctx.nodeRand(i), truth),
      );
    },
    invariants: [toyBounded],
    maxTimeMs: 5_000,
    net: { latencyMs: 1, jitterMs: 10, loss: 0.05, dup: 0.02 },
    nemesis: { probability: 0.01 },
    ...over,
  };
}
