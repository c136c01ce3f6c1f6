/**
 * Deterministic simulation runner (STYLE habit 4): many nodes on one MemNet,
 * one ManualClock, one seed, invariants checked after every step.
 *
 *   const spec: SimSpec<MyNode> = {
 *     name: 'raft', nodes: 5,
 *     build: (ctx) => ctx.hosts.map((ip, i) => new MyNode(ip, ctx.net, ctx.clock, ctx.nodeRand(i))),
 *     invariants: [(w) => (twoLeadersInOneTerm(w.nodes) ? 'two leaders in one term' : undefined)],
 *     final: [(w) => (allAgree(w.nodes) ? undefined : 'no agreement')],
 *     maxTimeMs: 30_000,
 *     nemesis: { probability: 0.01 },
 *   };
 *   await runSim({ ...spec, seed: 42 });             // one seed; throws SimFailure
 *   await runSeeds({ ...spec, from: 1, count: 200 }); // throws on the first failing seed
 *
 * A step fires the next clock timer (a packet delivery and a node timer are
 * alike), then lets the promise continuations it caused settle. Before a
 * step the seeded nemesis may partition, heal, start a loss burst, or crash
 * and restart a node through its hooks. An invariant fails by returning a
 * message or throwing. Everything random comes from seededRand(seed) forks,
 * so rerunning a seed replays the same steps: the SimFailure carries the
 * seed, the step, the last events and the command that reruns it. Register a
 * simulation in registry.ts to run it with `npm run sim -- <name> --seeds N`.
 */
import { ManualClock } from '../../shared/clock.js';
import { seededRand, type Rand } from '../../shared/rand.js';
import { MemNet, type LinkFaults } from '../../shared/transport/memnet.js';

export interface SimNode {
  readonly id: string;
  start(): void | Promise<void>;
  /** Clean shutdown at the end of a run. */
  stop(): void | Promise<void>;
  /** Die without a goodbye: drop sockets, timers and volatile state. Optional. */
  crash?(): void | Promise<void>;
  /** Come back after crash(), from whatever the node kept on "disk". */
  restart?(): void | Promise<void>;
}

export interface SimCtx {
  readonly seed: number;
  readonly clock: ManualClock;
  readonly net: MemNet;
  /** One virtual host IP per node: 10.0.0.1, 10.0.0.2, ... */
  readonly hosts: string[];
  /** Node i's own generator, forked from the seed, so nodes do not perturb each other. */
  nodeRand(i: number): Rand;
  /** Record a line in the trace (kept in the failure report and hashed). */
  trace(line: string): void;
}

export interface SimWorld<N extends SimNode> {
  readonly seed: number;
  readonly step: number;
  readonly clock: ManualClock;
  readonly net: MemNet;
  readonly nodes: N[];
  /** up[i] is false while node i is crashed. */
  readonly up: boolean[];
}

/** Returns a message (or throws) when violated; returns nothing when it holds. */
export type Invariant<N extends SimNode> = (w: SimWorld<N>) => string | void | undefined;

export type NemesisAction = 'partition' | 'heal' | 'loss-burst' | 'crash' | 'restart';

export interface NemesisOptions {
  /** Chance before each step that the nemesis acts (default 0.01). */
  probability?: number;
  /** What it may do (default: all). */
  actions?: NemesisAction[];
  /** Loss during a burst and how long it lasts (default 0.5 for 2000 ms). */
  burstLoss?: number;
  burstMs?: number;
  /** Most nodes down at once (default: a minority, floor((n - 1) / 2)). */
  maxDown?: number;
  /**
   * From this simulated time on the nemesis stops: it heals the network,
   * ends any loss burst and restarts every crashed node, once, so the run can
   * end with liveness checks ("every acknowledged write is readable").
   */
  quietAfterMs?: number;
}

export interface SimSpec<N extends SimNode> {
  /** The name sim.mjs knows it by; also in failure messages. */
  name: string;
  nodes: number;
  build(ctx: SimCtx): N[];
  /** Checked after start and after every step. */
  invariants: Invariant<N>[];
  /** Checked once when the run ends (liveness: "everyone converged"). */
  final?: Invariant<N>[];
  /** Stop after this many steps (default 10_000) ... */
  maxSteps?: number;
  /** ... or when the next timer is due after this simulated time (default: no limit). */
  maxTimeMs?: number;
  nemesis?: NemesisOptions | false;
  /** Baseline network faults and MemNet knobs. */
  net?: Partial<LinkFaults> & { streamStallTimeoutMs?: number; connectTimeoutMs?: number };
  /** How many trailing events a failure report carries (default 50). */
  traceLength?: number;
}

export interface SimResult {
  seed: number;
  steps: number;
  timeMs: number;
  /** Hash of the whole run's event trace: equal hashes mean the same run. */
  traceHash: string;
  trace: string[];
}

export class SimFailure extends Error {
  constructor(
    readonly sim: string,
    readonly seed: number,
    readonly step: number,
    readonly timeMs: number,
    readonly violation: string,
    readonly trace: string[],
    readonly traceHash: string,
  ) {
    super(
      `sim ${sim}: seed=${seed} step=${step} t=${timeMs.toFixed(3)}ms: ${violation}\n` +
        `rerun: ${rerunCommand(sim, seed)}\n` +
        `last ${trace.length} events:\n${trace.map((l) => `  ${l}`).join('\n')}`,
    );
    this.name = 'SimFailure';
  }
}

export function rerunCommand(sim: string, seed: number): string {
  return `npm run sim -- ${sim} --seed ${seed}   (or SIM_SEED=${seed} npm run test:sim)`;
}

/** The seed SIM_SEED pins, if any: the one place the runner reads the environment. */
export function pinnedSeed(): number | undefined {
  const s = globalThis.process?.env?.SIM_SEED;
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new RangeError(`SIM_SEED must be an integer, got ${JSON.stringify(s)}`);
  return n;
}

// FNV-1a over the trace, in two lanes so a 64-bit hex string comes out.
class TraceHash {
  #a = 0x811c9dc5;
  #b = 0x01000193 ^ 0x5bd1e995;
  add(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      this.#a = Math.imul(this.#a ^ c, 0x01000193) >>> 0;
      this.#b = Math.imul(this.#b ^ c, 0x0100019d) >>> 0;
    }
    this.#a = Math.imul(this.#a ^ 10, 0x01000193) >>> 0;
    this.#b = Math.imul(this.#b ^ 10, 0x0100019d) >>> 0;
  }
  hex(): string {
    return this.#a.toString(16).padStart(8, '0') + this.#b.toString(16).padStart(8, '0');
  }
}

// Let every promise continuation a step caused run before the next step. A
// macrotask turn drains the whole microtask queue, in a deterministic order.
const settle = () => new Promise<void>((r) => setImmediate(r));

const hostIp = (i: number) => `10.${(i + 1) >> 16}.${((i + 1) >> 8) & 0xff}.${(i + 1) & 0xff}`;

export async function runSim<N extends SimNode>(spec: SimSpec<N> & { seed: number }): Promise<SimResult> {
  const { seed, name } = spec;
  const root = seededRand(seed);
  const netRand = root.fork(), nemRand = root.fork(), nodeRoot = root.fork();
  const clock = new ManualClock();
  const keep = spec.traceLength ?? 50;
  const ring: string[] = [];
  const hash = new TraceHash();
  let step = 0;
  const trace = (line: string) => {
    const l = `#${step} ${line}`;
    hash.add(l);
    ring.push(l);
    if (ring.length > keep) ring.shift();
  };
  const netCfg = spec.net ?? {};
  const net = new MemNet({ clock, rand: netRand, ...netCfg, trace: (l) => trace(l) });
  const hosts = Array.from({ length: spec.nodes }, (_, i) => hostIp(i));
  const nodeRands = hosts.map(() => nodeRoot.fork());
  const ctx: SimCtx = {
    seed,
    clock,
    net,
    hosts,
    nodeRand: (i) => {
      const r = nodeRands[i];
      if (r === undefined) throw new RangeError(`nodeRand: node index must be in 0..${spec.nodes - 1}, got ${i}`);
      return r;
    },
    trace: (l) => trace(`t=${clock.nowMs().toFixed(3)} ${l}`),
  };
  const nodes = spec.build(ctx);
  const up = nodes.map(() => true);
  const world = (): SimWorld<N> => ({ seed, step, clock, net, nodes, up });

  const check = (invs: Invariant<N>[]) => {
    for (const inv of invs) {
      let v: string | void | undefined;
      try {
        v = inv(world());
      } catch (e) {
        v = e instanceof Error ? e.message : String(e);
      }
      if (typeof v === 'string') throw new SimFailure(name, seed, step, clock.nowMs(), v, [...ring], hash.hex());
    }
  };

  const nemesis = spec.nemesis ? new Nemesis(spec.nemesis, nemRand, nodes, up, hosts, net, clock, netCfg.loss ?? 0, ctx.trace) : undefined;
  const maxSteps = spec.maxSteps ?? 10_000;
  const maxTimeMs = spec.maxTimeMs ?? Infinity;
  try {
    for (const n of nodes) await n.start();
    await settle();
    check(spec.invariants);
    while (step < maxSteps) {
      const due = clock.nextDueMs();
      if (due === undefined || due > maxTimeMs) break;
      step++;
      if (nemesis) await nemesis.maybeAct();
      clock.runNext();
      hash.add(`${step}@${clock.nowMs()}`);
      await settle();
      check(spec.invariants);
    }
    check(spec.final ?? []);
    return { seed, steps: step, timeMs: clock.nowMs(), traceHash: hash.hex(), trace: [...ring] };
  } finally {
    for (const [i, n] of nodes.entries()) {
      if (!up[i]) continue;
      try {
        await n.stop();
      } catch {
        // A node that cannot stop cleanly must not hide the run's real outcome.
      }
    }
  }
}

export interface SeedsSummary {
  name: string;
  seeds: number[];
  steps: number;
}

/**
 * Run seeds from..from+count-1 (or only SIM_SEED when set); throws the
 * SimFailure of the first failing seed.
 */
export async function runSeeds<N extends SimNode>(
  spec: SimSpec<N> & { from?: number; count?: number; onResult?: (r: SimResult) => void },
): Promise<SeedsSummary> {
  const pinned = pinnedSeed();
  const from = pinned ?? spec.from ?? 1;
  const count = pinned !== undefined ? 1 : spec.count ?? 100;
  const summary: SeedsSummary = { name: spec.name, seeds: [], steps: 0 };
  for (let seed = from; seed < from + count; seed++) {
    const r = await runSim({ ...spec, seed });
    summary.seeds.push(seed);
    summary.steps += r.steps;
    spec.onResult?.(r);
  }
  return summary;
}

/** The seeded fault injector: before each step, with some probability, one action. */
class Nemesis<N extends SimNode> {
  readonly #p: number;
  readonly #actions: NemesisAction[];
  readonly #burstLoss: number;
  readonly #burstMs: number;
  readonly #maxDown: number;
  readonly #quietAfterMs: number;
  #quiet = false;
  #burstTimer: { cancel(): void } | undefined;

  constructor(
    opts: NemesisOptions,
    readonly rand: Rand,
    readonly nodes: N[],
    readonly up: boolean[],
    readonly hosts: string[],
    readonly net: MemNet,
    readonly clock: ManualClock,
    readonly baseLoss: number,
    readonly trace: (line: string) => void,
  ) {
    this.#p = opts.probability ?? 0.01;
    this.#actions = opts.actions ?? ['partition', 'heal', 'loss-burst', 'crash', 'restart'];
    this.#burstLoss = opts.burstLoss ?? 0.5;
    this.#burstMs = opts.burstMs ?? 2_000;
    this.#maxDown = opts.maxDown ?? Math.floor((nodes.length - 1) / 2);
    this.#quietAfterMs = opts.quietAfterMs ?? Infinity;
  }

  async maybeAct(): Promise<void> {
    if (this.#quiet) return;
    if (this.clock.nowMs() >= this.#quietAfterMs) return this.#makePeace();
    if (this.rand.float() >= this.#p) return;
    const down = this.up.filter((u) => !u).length;
    const crashable = this.nodes.filter((n, i) => this.up[i] && n.crash !== undefined && n.restart !== undefined);
    const restartable = this.nodes.filter((n, i) => !this.up[i]);
    const possible = this.#actions.filter(
      (a) =>
        (a !== 'partition' || this.hosts.length > 1) &&
        (a !== 'crash' || (crashable.length > 0 && down < this.#maxDown)) &&
        (a !== 'restart' || restartable.length > 0),
    );
    if (possible.length === 0) return;
    const action = possible[this.rand.int(possible.length)]!;
    switch (action) {
      case 'partition': {
        const hosts = [...this.hosts];
        for (let i = hosts.length - 1; i > 0; i--) {
          const j = this.rand.int(i + 1);
          [hosts[i], hosts[j]] = [hosts[j]!, hosts[i]!];
        }
        const cut = 1 + this.rand.int(hosts.length - 1);
        this.trace('nemesis: partition');
        this.net.heal();
        this.net.partition(hosts.slice(0, cut), hosts.slice(cut));
        return;
      }
      case 'heal':
        this.trace('nemesis: heal');
        this.net.heal();
        return;
      case 'loss-burst':
        this.trace(`nemesis: loss burst ${this.#burstLoss} for ${this.#burstMs} ms`);
        this.net.setFaults({ loss: this.#burstLoss });
        this.#burstTimer?.cancel();
        this.#burstTimer = this.clock.after(this.#burstMs, () => {
          this.trace('nemesis: loss burst over');
          this.net.setFaults({ loss: this.baseLoss });
        });
        return;
      case 'crash': {
        const n = crashable[this.rand.int(crashable.length)]!;
        this.trace(`nemesis: crash ${n.id}`);
        this.up[this.nodes.indexOf(n)] = false;
        await n.crash!();
        return;
      }
      case 'restart': {
        const n = restartable[this.rand.int(restartable.length)]!;
        this.trace(`nemesis: restart ${n.id}`);
        this.up[this.nodes.indexOf(n)] = true;
        await n.restart!();
        return;
      }
    }
  }

  async #makePeace(): Promise<void> {
    this.#quiet = true;
    this.trace('nemesis: quiet from now on: heal, end loss, restart every crashed node');
    this.net.heal();
    this.#burstTimer?.cancel();
    this.net.setFaults({ loss: this.baseLoss });
    for (const [i, n] of this.nodes.entries()) {
      if (this.up[i]) continue;
      this.up[i] = true;
      await n.restart!();
    }
  }
}
