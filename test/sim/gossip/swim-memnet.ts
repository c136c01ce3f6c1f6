// SWIM nodes behind real transport seams: each SimNode is a thin host for
// the sans-IO core, the way the daemon will be (STYLE habit 1), on MemNet:
// a UDP socket on 7946 carrying encodePacket() bytes, a TCP listener on 7946
// for push-pull (one length-prefixed frame each way, shared/wire/frame.ts),
// and one clock timer armed at nextDueMs(). The runner's seeded nemesis
// partitions, starts loss bursts, crashes and restarts nodes (a restart is a
// fresh SwimNode at incarnation 0 that joins its seeds again).
//
// Checked after every step:
//   - every running node sees itself alive;
//   - for each observer, the incarnations in the events it reports about a
//     member never go down (SWIM §4.2: incarnations order statements);
//   - nothing a node received failed to decode (every sender is a SwimNode).
// Checked at the end, after the nemesis has healed, ended loss and restarted
// everyone: every node sees all of them alive.
//
// `npm run sim -- swim --seeds N` runs it over many seeds.
import { decodePushPull, encodePacket, encodePushPull, SwimNode, testConfig, type MemberEvent, type PushPullState, type SwimConfig } from '../../../agent/gossip/swim/index.js';
import type { Timer } from '../../../shared/clock.js';
import type { Rand } from '../../../shared/rand.js';
import type { DatagramSocket, Stream, StreamListener } from '../../../shared/transport/types.js';
import { encodeFrame, FrameReader } from '../../../shared/wire/frame.js';
import type { Invariant, SimCtx, SimNode, SimSpec } from '../runner.js';

export const SWIM_PORT = 7946;

export interface SwimTruth {
  violations: string[];
  malformed: number;
}

function hostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
}

export class SwimHost implements SimNode {
  node: SwimNode | undefined;
  #sock: DatagramSocket | undefined;
  #listener: StreamListener | undefined;
  #timer: Timer | undefined;
  #timerAt = Infinity;
  #streams = new Set<Stream>();
  /** Highest incarnation this node's events reported per member, since it last started. */
  #seenInc = new Map<string, number>();

  constructor(
    readonly id: string,
    readonly ip: string,
    readonly seeds: string[],
    readonly ctx: SimCtx,
    readonly rand: Rand,
    readonly config: SwimConfig,
    readonly truth: SwimTruth,
  ) {}

  get addr(): string {
    return `${this.ip}:${SWIM_PORT}`;
  }

  #now(): number {
    return this.ctx.clock.nowMs();
  }

  async start(): Promise<void> {
    const node = new SwimNode({ id: this.id, addr: this.addr, config: this.config, rand: this.rand });
    this.node = node;
    this.#seenInc.clear();
    this.#sock = await this.ctx.net.datagram(this.ip).bind({ host: this.ip, port: SWIM_PORT });
    this.#sock.onMessage((data, from) => {
      if (this.node !== node) return;
      const before = node.stats().malformed;
      node.receivePacket(`${from.host}:${from.port}`, data, this.#now());
      this.truth.malformed += node.stats().malformed - before;
      this.#pump();
    });
    this.#listener = await this.ctx.net.stream(this.ip).listen({ host: this.ip, port: SWIM_PORT }, (s) => this.#serve(s, node));
    node.join(this.seeds.filter((s) => s !== this.addr), this.#now());
    this.#pump();
  }

  /** Carry out everything the core asked for, and arm the timer for its next due time. */
  #pump(): void {
    const node = this.node;
    if (node === undefined) return;
    const out = node.drain();
    for (const p of out.packets) this.#sock?.send(encodePacket(p.msg), hostPort(p.to));
    for (const x of out.pushPulls) void this.#pushPull(node, x.to, x.state);
    for (const ev of out.events) this.#check(ev);
    const due = node.nextDueMs();
    if (due === this.#timerAt) return;
    this.#timer?.cancel();
    this.#timerAt = due;
    this.#timer = undefined;
    if (due === Infinity) return;
    this.#timer = this.ctx.clock.after(due - this.#now(), () => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      if (this.node !== node) return;
      node.tick(this.#now());
      this.#pump();
    });
  }

  #check(ev: MemberEvent): void {
    const m = ev.member;
    const last = this.#seenInc.get(m.id) ?? -1;
    if (m.incarnation < last) this.truth.violations.push(`${this.id} reported ${ev.type} of ${m.id} at incarnation ${m.incarnation} after ${last}`);
    this.#seenInc.set(m.id, Math.max(last, m.incarnation));
  }

  /** One frame out, one frame back, over a fresh TCP connection; any failure just means no merge. */
  async #pushPull(node: SwimNode, to: string, state: PushPullState): Promise<void> {
    let s: Stream;
    try {
      s = await this.ctx.net.stream(this.ip).connect(hostPort(to), { timeoutMs: this.config.tcpTimeoutMs });
    } catch {
      return;
    }
    if (this.node !== node) {
      s.destroy();
      return;
    }
    this.#streams.add(s);
    const giveUp = this.ctx.clock.after(this.config.tcpTimeoutMs, () => s.destroy());
    const reader = new FrameReader(1 << 20);
    s.onData((chunk) => {
      try {
        for (const body of reader.push(chunk)) {
          const { state: reply } = decodePushPull(body);
          if (this.node === node) {
            node.receivePushPullReply(to, reply, this.#now());
            this.#pump();
          }
          s.end();
        }
      } catch {
        this.truth.malformed++;
        s.destroy();
      }
    });
    s.onClose(() => {
      giveUp.cancel();
      this.#streams.delete(s);
    });
    s.write(encodeFrame(encodePushPull(state)));
  }

  #serve(s: Stream, node: SwimNode): void {
    this.#streams.add(s);
    const giveUp = this.ctx.clock.after(this.config.tcpTimeoutMs, () => s.destroy());
    const reader = new FrameReader(1 << 20);
    s.onData((chunk) => {
      try {
        for (const body of reader.push(chunk)) {
          const { state } = decodePushPull(body);
          if (this.node !== node) {
            s.destroy();
            return;
          }
          const reply = node.receivePushPull(`${s.remote.host}:${s.remote.port}`, state, this.#now());
          s.write(encodeFrame(encodePushPull(reply)));
          s.end();
          this.#pump();
        }
      } catch {
        this.truth.malformed++;
        s.destroy();
      }
    });
    s.onClose(() => {
      giveUp.cancel();
      this.#streams.delete(s);
    });
  }

  async stop(): Promise<void> {
    this.node = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Infinity;
    for (const s of this.#streams) s.destroy();
    this.#streams.clear();
    await this.#sock?.close();
    await this.#listener?.close();
    this.#sock = undefined;
    this.#listener = undefined;
  }

  /** Die without a goodbye: everything the core knew is gone. */
  crash(): Promise<void> {
    return this.stop();
  }

  restart(): Promise<void> {
    return this.start();
  }
}

const selfAlive: Invariant<SwimHost> = (w) => {
  for (const [i, h] of w.nodes.entries()) {
    if (!w.up[i] || h.node === undefined) continue;
    const me = h.node.member(h.id);
    if (me?.state !== 'alive') return `${h.id} sees itself ${me?.state ?? 'missing'}`;
  }
};

export interface SwimSimOptions {
  nodes?: number;
  /** Simulated time under the nemesis, then quiet until the end. */
  chaosMs?: number;
  quietMs?: number;
}

export function swimSpec(o: SwimSimOptions = {}): SimSpec<SwimHost> {
  const n = o.nodes ?? 16;
  const chaosMs = o.chaosMs ?? 20_000;
  const quietMs = o.quietMs ?? 20_000;
  const config = testConfig();
  const truth: SwimTruth = { violations: [], malformed: 0 };
  return {
    name: 'swim',
    nodes: n,
    build: (ctx) => {
      truth.violations = [];
      truth.malformed = 0;
      const seeds = ctx.hosts.slice(0, 3).map((ip) => `${ip}:${SWIM_PORT}`);
      return ctx.hosts.map((ip, i) => new SwimHost(`node-${i}`, ip, seeds, ctx, ctx.nodeRand(i), config, truth));
    },
    invariants: [
      selfAlive,
      () => (truth.violations.length > 0 ? truth.violations[0] : undefined),
      () => (truth.malformed > 0 ? `${truth.malformed} datagrams or push-pull frames failed to decode` : undefined),
    ],
    final: [
      (w) => {
        const behind = w.nodes.filter((h) => h.node === undefined || h.node.aliveCount() !== n);
        if (behind.length > 0) {
          return `${quietMs} ms after the nemesis stopped, ${behind.length} nodes do not see all ${n} alive: ` +
            behind.slice(0, 4).map((h) => `${h.id} sees ${h.node?.aliveCount() ?? 0}`).join(', ');
        }
      },
    ],
    maxSteps: 2_000_000,
    maxTimeMs: chaosMs + quietMs,
    nemesis: { probability: 0.0005, quietAfterMs: chaosMs, burstMs: 1_000, burstLoss: 0.3 },
    net: { latencyMs: 1, jitterMs: 4, loss: 0.01, streamStallTimeoutMs: 2_000, connectTimeoutMs: 500 },
  };
}
