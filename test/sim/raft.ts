// Raft managers in simulation: real Replicas (core + WAL on a MemDisk + peers
// over MemNet streams) under a seeded nemesis that partitions, drops, crashes
// and restarts, with a key-value workload whose history must be linearizable.
//
// Checked after every step:
//   - election safety: at most one leader per term (paper §5.2, figure 3);
//   - state machine safety: no two replicas apply different entries at one
//     index, and an applied entry never changes (paper §5.4.3, figure 3).
// Checked at the end, after the nemesis has healed everything:
//   - liveness: a final read of every key succeeds;
//   - every acknowledged write is in the final state and the whole history
//     is linearizable (test/sim/linearizability.ts).
import { Encoder } from 'cbor-x';
import type { Rand } from '../../shared/rand.js';
import { Replica, type StateMachine } from '../../agent/cluster/replica.js';
import { StreamPeers } from '../../agent/cluster/stream-peers.js';
import { testRaftConfig, type RaftConfig } from '../../agent/cluster/raft/index.js';
import { MemDisk } from '../../agent/cluster/wal/mem-disk.js';
import { checkLinearizable, type Op } from './linearizability.js';
import type { SimCtx, SimNode, SimSpec, SimWorld } from './runner.js';

const PORT = 2377;
const cbor = new Encoder({ useRecords: false, tagUint8Array: false });

/** What the whole run shares: ground truth for the invariants. */
export interface RaftTruth {
  /** index -> what was applied there (first applier wins; others must agree). */
  applied: Map<number, string>;
  violations: string[];
  history: Op[];
  finalReads: Map<string, boolean>;
}

class KvMachine implements StateMachine<void> {
  map = new Map<string, string>();
  constructor(
    readonly who: string,
    readonly truth: RaftTruth,
  ) {}

  #record(index: number, what: string): void {
    const had = this.truth.applied.get(index);
    if (had === undefined) this.truth.applied.set(index, what);
    else if (had !== what) this.truth.violations.push(`${this.who} applied ${what} at index ${index}, another replica applied ${had}`);
  }

  apply(index: number, data: Uint8Array): void {
    const [k, v] = cbor.decode(data) as [string, string];
    this.map.set(k, v);
    this.#record(index, `put(${k},${v})`);
  }
  skip(index: number): void {
    this.#record(index, 'no-op/conf');
  }
  snapshot(): Uint8Array {
    return cbor.encode([...this.map].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  restore(data: Uint8Array): void {
    this.map = new Map(cbor.decode(data) as [string, string][]);
  }
}

export class Manager implements SimNode {
  readonly disk: MemDisk;
  replica: Replica<void> | undefined;
  kv: KvMachine | undefined;
  #peers: StreamPeers | undefined;

  constructor(
    readonly id: string,
    readonly ip: string,
    readonly all: { id: string; ip: string }[],
    readonly ctx: SimCtx,
    readonly rand: Rand,
    readonly config: RaftConfig,
    readonly truth: RaftTruth,
  ) {
    this.disk = new MemDisk({ rand: rand.fork() });
  }

  async start(): Promise<void> {
    this.#peers = await StreamPeers.start({
      id: this.id,
      transport: this.ctx.net.stream(this.ip),
      listen: { host: this.ip, port: PORT },
      addrOf: (id) => {
        const m = this.all.find((x) => x.id === id);
        return m && { host: m.ip, port: PORT };
      },
      clock: this.ctx.clock,
      connectTimeoutMs: 200,
    });
    this.kv = new KvMachine(this.id, this.truth);
    this.replica = await Replica.open({
      id: this.id,
      config: this.config,
      clock: this.ctx.clock,
      rand: this.rand,
      disk: this.disk,
      dir: '/raft',
      peers: this.#peers,
      sm: this.kv,
      bootstrap: this.all.map((m) => m.id),
      requestTimeoutMs: 1_000,
      onRoleChange: (role, leader, term) => this.ctx.trace(`${this.id} ${role} term=${term} leader=${leader ?? '-'}`),
    });
  }

  async stop(): Promise<void> {
    await this.replica?.close();
    await this.#peers?.close();
    this.replica = undefined;
  }

  async crash(): Promise<void> {
    await this.stop();
    const loseUnsynced = this.rand.float() < 0.5;
    this.disk.crash({ loseUnsynced, torn: loseUnsynced });
  }

  async restart(): Promise<void> {
    await this.start();
  }
}

interface WorkloadOptions {
  clients: number;
  keys: string[];
  /** Clients stop issuing new operations at this time; final reads start later. */
  stopAtMs: number;
  finalReadsAtMs: number;
}

/** Clients that put and get keys through whichever manager they think leads. */
class Workload {
  #seq = 0;
  constructor(
    readonly ctx: SimCtx,
    readonly rand: Rand,
    readonly managers: Manager[],
    readonly truth: RaftTruth,
    readonly o: WorkloadOptions,
    readonly bug: RaftSimOptions['bug'],
  ) {}

  start(): void {
    for (let c = 0; c < this.o.clients; c++) this.#next(`c${c}`);
    this.ctx.clock.after(this.o.finalReadsAtMs, () => {
      for (const k of this.o.keys) void this.#finalRead(k);
    });
  }

  #target(): Manager | undefined {
    const live = this.managers.filter((m) => m.replica && !m.replica.failure);
    const leaders = live.filter((m) => m.replica!.role === 'leader');
    const pool = leaders.length > 0 ? leaders : live;
    return pool.length > 0 ? pool[this.rand.int(pool.length)] : undefined;
  }

  #next(client: string): void {
    this.ctx.clock.after(20 + this.rand.int(80), async () => {
      if (this.ctx.clock.nowMs() >= this.o.stopAtMs) return;
      await this.#op(client);
      this.#next(client);
    });
  }

  async #op(client: string): Promise<void> {
    const m = this.#target();
    if (!m?.replica) return;
    const key = this.o.keys[this.rand.int(this.o.keys.length)]!;
    const invokeMs = this.ctx.clock.nowMs();
    if (this.rand.float() < 0.5) {
      const value = `${client}-${++this.#seq}`;
      const op: Op = { client, kind: 'put', key, value, invokeMs };
      try {
        await m.replica.propose(cbor.encode([key, value]));
        op.completeMs = this.ctx.clock.nowMs();
      } catch (e) {
        // Refused before it was appended, or overwritten: it never took effect.
        const code = (e as { code?: string }).code;
        if (code === 'RAFT_NOT_LEADER' || code === 'RAFT_PROPOSAL_DROPPED') return;
        // Anything else (timeout, crash): unknown outcome, stays without completion.
      }
      this.truth.history.push(op);
    } else {
      const result = await this.#read(m, key);
      if (result.ok) this.truth.history.push({ client, kind: 'get', key, result: result.value, invokeMs, completeMs: this.ctx.clock.nowMs() });
    }
  }

  async #read(m: Manager, key: string): Promise<{ ok: true; value: string | undefined } | { ok: false }> {
    try {
      if (this.bug === 'stale-reads') {
        const any = this.managers.filter((x) => x.kv && x.replica);
        const r = any[this.rand.int(any.length)] ?? m;
        return { ok: true, value: r.kv!.map.get(key) };
      }
      await m.replica!.readBarrier();
      return { ok: true, value: m.kv!.map.get(key) };
    } catch {
      return { ok: false };
    }
  }

  async #finalRead(key: string): Promise<void> {
    const m = this.#target();
    const invokeMs = this.ctx.clock.nowMs();
    const r = m?.replica ? await this.#read(m, key) : { ok: false as const };
    if (r.ok) {
      this.truth.history.push({ client: 'final', kind: 'get', key, result: r.value, invokeMs, completeMs: this.ctx.clock.nowMs() });
      this.truth.finalReads.set(key, true);
      return;
    }
    this.ctx.clock.after(50, () => void this.#finalRead(key));
  }
}

export interface RaftSimOptions {
  managers: number;
  /** Simulated time under the nemesis, then quiet. */
  chaosMs?: number;
  config?: RaftConfig;
  /** A deliberate bug, to prove the checks catch it: reads skip the read-index barrier and read any replica. */
  bug?: 'stale-reads';
  /** Called at the end of each run with what the run did (for tests that the workload is not idle). */
  observe?: (s: RaftRunStats) => void;
}

export interface RaftRunStats {
  ackedPuts: number;
  unknownPuts: number;
  reads: number;
  leaderTerms: number;
  appliedIndexes: number;
}

export function raftSpec(o: RaftSimOptions): SimSpec<Manager> {
  const chaosMs = o.chaosMs ?? 6_000;
  const config = o.config ?? { ...testRaftConfig(), snapshotEveryEntries: 40 };
  let truth: RaftTruth;
  const leaders = new Map<number, string>();
  return {
    name: `raft${o.managers}${o.bug ? `-${o.bug}` : ''}`,
    nodes: o.managers,
    build(ctx) {
      truth = { applied: new Map(), violations: [], history: [], finalReads: new Map() };
      leaders.clear();
      const all = ctx.hosts.map((ip, i) => ({ id: `m${i}`, ip }));
      const managers = all.map((m, i) => new Manager(m.id, m.ip, all, ctx, ctx.nodeRand(i), config, truth));
      const keys = ['a', 'b', 'c'];
      const w = new Workload(ctx, ctx.nodeRand(0).fork(), managers, truth, { clients: 3, keys, stopAtMs: chaosMs, finalReadsAtMs: chaosMs + 1_000 }, o.bug);
      ctx.clock.after(0, () => w.start());
      return managers;
    },
    invariants: [
      (w: SimWorld<Manager>) => {
        for (const m of w.nodes) {
          const r = m.replica;
          if (!r || r.role !== 'leader') continue;
          const had = leaders.get(r.term);
          if (had === undefined) leaders.set(r.term, m.id);
          else if (had !== m.id) return `two leaders in term ${r.term}: ${had} and ${m.id}`;
        }
      },
      () => truth.violations[0],
    ],
    final: [
      () => {
        const missing = ['a', 'b', 'c'].filter((k) => !truth.finalReads.get(k));
        if (missing.length > 0) return `no final read succeeded for ${missing.join(', ')}: no leader after the network healed`;
      },
      () => {
        const v = checkLinearizable(truth.history);
        if (!v.ok) return v.message;
      },
      () => {
        const puts = truth.history.filter((op) => op.kind === 'put');
        o.observe?.({
          ackedPuts: puts.filter((op) => op.completeMs !== undefined).length,
          unknownPuts: puts.filter((op) => op.completeMs === undefined).length,
          reads: truth.history.length - puts.length,
          leaderTerms: leaders.size,
          appliedIndexes: truth.applied.size,
        });
      },
    ],
    maxSteps: 400_000,
    maxTimeMs: chaosMs + 4_000,
    nemesis: { probability: 0.004, quietAfterMs: chaosMs, burstMs: 500 },
    net: { latencyMs: 1, jitterMs: 3, streamStallTimeoutMs: 2_000, connectTimeoutMs: 200 },
  };
}
