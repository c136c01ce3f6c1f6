// Fleet-scale SWIM scenarios on the discrete-event simulator (swim-des.ts),
// shared by the sim tests. Each returns the figures it measured; the tests
// print them and assert their bounds. Bounds are computed from the config
// (see the comments at each) so that changing a constant moves them.
import { encodedSize, retransmitLimit, suspicionMinMs, type SwimConfig } from '../../../agent/gossip/swim/index.js';
import { COMPOUND_HEADER_BYTES, COMPOUND_PART_OVERHEAD_BYTES } from '../../../agent/gossip/swim/packet-wire.js';
import { addrOf, type SwimDes } from './swim-des.js';

export const SEED_NODES = [0, 1, 2];

/** Tracks how many live nodes currently see exactly `expected` members alive, in O(1) per step. */
export class FullView {
  count = 0;
  readonly #mark: Uint8Array;
  constructor(
    readonly des: SwimDes,
    public expected: number,
  ) {
    this.#mark = new Uint8Array(des.nodes.length);
    des.afterStep = (i) => this.update(i);
    this.recount();
  }
  update(i: number): void {
    const full = this.des.up[i]! && this.des.nodes[i]!.aliveCount() === this.expected ? 1 : 0;
    this.count += full - this.#mark[i]!;
    this.#mark[i] = full;
  }
  recount(): void {
    for (let i = 0; i < this.des.nodes.length; i++) this.update(i);
  }
  /** Every live node sees every live node alive (and, with `expected` = live count, nothing else). */
  done(): boolean {
    return this.count === this.des.up.filter(Boolean).length;
  }
}

/**
 * A generous bound on join convergence, from queue capacity: every node must
 * send each of the N alive messages retransmitLimit times. Gossip alone
 * (gossipNodes datagrams per gossipIntervalMs, each filled with alive
 * messages of the largest size in this fleet) drains such a queue in
 * N·L / (gossipNodes · perDatagram) rounds. News goes first (fewest
 * transmissions first), so everyone has heard of everyone well before the
 * last queue drains; piggybacking on probes only helps.
 */
export function joinDrainBoundMs(cfg: SwimConfig, n: number): number {
  const alive = encodedSize({ type: 'alive', incarnation: 0, node: `node-${n - 1}`, addr: addrOf(n - 1) });
  const perDatagram = Math.floor((cfg.udpPacketBytes - cfg.hostOverheadBytes - COMPOUND_HEADER_BYTES) / (COMPOUND_PART_OVERHEAD_BYTES + alive));
  const rounds = Math.ceil((n * retransmitLimit(cfg.retransmitMult, n)) / (cfg.gossipNodes * perDatagram));
  return rounds * cfg.gossipIntervalMs;
}

export interface JoinResult {
  lastJoinMs: number;
  convergedMs: number;
  boundMs: number;
}

/** n nodes join through SEED_NODES, spread evenly over spreadMs; run until every node sees all n alive. */
export function joinFleet(des: SwimDes, cfg: SwimConfig, spreadMs: number, limitMs = 600_000): JoinResult {
  const n = des.nodes.length;
  let last = 0;
  for (let i = 0; i < n; i++) {
    const at = i < SEED_NODES.length ? 0 : Math.floor((i * spreadMs) / n);
    last = Math.max(last, at);
    des.at(at, () => des.join(i, SEED_NODES));
  }
  const view = new FullView(des, n);
  des.run(limitMs, () => view.done());
  des.afterStep = undefined;
  return { lastJoinMs: last, convergedMs: view.done() ? des.now : Infinity, boundMs: last + joinDrainBoundMs(cfg, n) };
}

export interface SuspicionBound {
  minMs: number;
  maxMs: number;
  boundMs: number;
}

/**
 * How long after a crash every live node has declared it dead, at most:
 *   firstProbeMs   someone probes it: N - 1 members each probe one member per
 *                  round in shuffled order, so it escapes a round with
 *                  probability ~1/e; ten rounds leave e^-10 (~5e-5).
 *   + 1 round      that probe fails (health 0: one probe interval).
 *   + maxMs        the suspicion of a lone accuser: suspicionMaxTimeoutMult ×
 *                  suspicionMult·log10(N)·probeInterval.
 *   + 1 round      a bystander whose own timer ran out on hearsay probes
 *                  the suspect first.
 *   + spreadMs     the dead message's epidemic: ~log(N)/log(1 + fanout)
 *                  gossip rounds; allowed ten times that.
 */
export function suspicionBound(cfg: SwimConfig, n: number): SuspicionBound {
  const minMs = suspicionMinMs(cfg.suspicionMult, n, cfg.probeIntervalMs);
  const maxMs = cfg.suspicionMaxTimeoutMult * minMs;
  const spreadMs = 10 * Math.ceil(Math.log(n) / Math.log(1 + cfg.gossipNodes)) * cfg.gossipIntervalMs;
  return { minMs, maxMs, boundMs: 10 * cfg.probeIntervalMs + cfg.probeIntervalMs + maxMs + cfg.probeIntervalMs + spreadMs };
}

export interface KillResult {
  firstSuspectMs: number;
  firstDeadMs: number;
  allDeadMs: number;
  declaredBy: number;
  falseDeaths: string[];
}

/** Kill node `victim` at the current time + 1 s and run until every live node declared it dead (or limitMs passed). */
export function killOne(des: SwimDes, victim: number, limitMs: number): KillResult {
  const id = `node-${victim}`;
  const killAt = des.now + 1_000;
  const r: KillResult = { firstSuspectMs: Infinity, firstDeadMs: Infinity, allDeadMs: Infinity, declaredBy: 0, falseDeaths: [] };
  const declared = new Uint8Array(des.nodes.length);
  des.onEvent = (o, ev, now) => {
    if (ev.member.id === id) {
      if (ev.type === 'suspect') r.firstSuspectMs = Math.min(r.firstSuspectMs, now - killAt);
      if (ev.type === 'dead' && !declared[o]) {
        declared[o] = 1;
        r.declaredBy++;
        r.firstDeadMs = Math.min(r.firstDeadMs, now - killAt);
        r.allDeadMs = now - killAt;
      }
    } else if (ev.type === 'dead' && des.up[Number(ev.member.id.slice(5))]) {
      r.falseDeaths.push(`${ev.member.id} by node-${o} at ${now.toFixed(0)} ms`);
    }
  };
  des.at(killAt, () => des.kill(victim));
  const live = des.nodes.length - des.up.filter((u) => !u).length - 1;
  des.run(killAt + limitMs, () => r.declaredBy === live);
  des.onEvent = undefined;
  if (r.declaredBy < live) r.allDeadMs = Infinity;
  return r;
}

export interface PartitionResult {
  /** When the last node saw the whole other half dead, ms after the split. */
  splitSeenMs: number;
  aliveAtHeal: [number, number];
  /** From the heal until every live node sees every live node alive. */
  healedMs: number;
  /** Live nodes declared dead by a node of their own half (which the network never stopped). */
  sameSideDeaths: number;
}

/** Split the live nodes into halves for durationMs, heal, and run until everyone sees everyone live alive again. */
export function partitionHalves(des: SwimDes, durationMs: number, limitMs: number): PartitionResult {
  const n = des.nodes.length;
  const side = (i: number) => (i < n / 2 ? 0 : 1);
  const splitAt = des.now + 1_000;
  const healAt = splitAt + durationMs;
  const liveIn = [0, 0];
  for (let i = 0; i < n; i++) if (des.up[i]) liveIn[side(i)]!++;
  const live = liveIn[0]! + liveIn[1]!;
  let sameSideDeaths = 0;
  des.onEvent = (o, ev) => {
    if (ev.type !== 'dead') return;
    const j = Number(ev.member.id.slice(5));
    if (des.up[j] && side(j) === side(o) && des.now < healAt) sameSideDeaths++;
  };
  // While split: how many live nodes see exactly the live nodes of their own half.
  const mark = new Uint8Array(n);
  let seen = 0;
  let splitSeenMs = Infinity;
  des.afterStep = (i) => {
    if (!des.up[i] || des.now < splitAt) return;
    const ok = des.nodes[i]!.aliveCount() === liveIn[side(i)]! ? 1 : 0;
    seen += ok - mark[i]!;
    mark[i] = ok;
    if (splitSeenMs === Infinity && seen === live) splitSeenMs = des.now - splitAt;
  };
  des.at(splitAt, () => des.partition(side));
  des.at(healAt, () => des.heal());
  des.run(healAt);
  let lo = Infinity;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    if (!des.up[i]) continue;
    const c = des.nodes[i]!.aliveCount();
    lo = Math.min(lo, c);
    hi = Math.max(hi, c);
  }
  const all = new FullView(des, live);
  des.run(healAt + limitMs, () => all.done());
  des.afterStep = undefined;
  des.onEvent = undefined;
  return { splitSeenMs, aliveAtHeal: [lo, hi], healedMs: all.done() ? des.now - healAt : Infinity, sameSideDeaths };
}
