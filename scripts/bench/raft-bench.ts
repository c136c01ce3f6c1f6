// Raft managers benchmark: three Replicas in one process, each with its own
// StreamPeers on real loopback TCP (127.0.0.1, ephemeral ports) and its own
// write-ahead log on the real disk (nodeDisk(), fsync on) in a temp dir,
// driven by the real clock. Measured:
//
//   - commit latency of sequential proposals (p50/p99);
//   - throughput with 1, 8 and 64 proposals in flight;
//   - failover: the leader is stopped abruptly (its peers transport and its
//     replica closed, no leadership transfer: what kill -9 looks like to the
//     others) and the time until a new leader is elected, and until the first
//     write commits, is taken; repeated, then a median.
//
// In the same run it measures the baselines the Raft numbers are made of:
// append 100 bytes + fsync in the same temp dir, and a loopback TCP round
// trip. On a shared VM absolute numbers are noise; read the ratios.
//
//   node scripts/bench/raft.mjs [--sequential N] [--seconds S] [--failovers N] [--slow-failovers N]
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realClock } from '../../shared/clock.js';
import { cryptoRand } from '../../shared/rand.js';
import { tcpTransport } from '../../shared/transport/tcp.js';
import type { Addr } from '../../shared/transport/types.js';
import { Replica, type StateMachine } from '../../agent/cluster/replica.js';
import { StreamPeers } from '../../agent/cluster/stream-peers.js';
import { defaultRaftConfig, type NodeId, type RaftConfig } from '../../agent/cluster/raft/index.js';
import { nodeDisk, type Disk } from '../../agent/cluster/wal/disk.js';

const HOST = '127.0.0.1';
const PAYLOAD_BYTES = 100;
const IDS = ['m1', 'm2', 'm3'];

interface Options {
  sequential: number;
  seconds: number;
  failovers: number;
  slowFailovers: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { sequential: 2_000, seconds: 3, failovers: 5, slowFailovers: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!;
    const v = Number(argv[i + 1]);
    const names: Record<string, keyof Options> = { '--sequential': 'sequential', '--seconds': 'seconds', '--failovers': 'failovers', '--slow-failovers': 'slowFailovers' };
    const name = names[key];
    if (!name) throw new Error(`unknown argument ${key}; expected one of ${Object.keys(names).join(', ')}`);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${key}: expected a non-negative number, got ${argv[i + 1]}`);
    o[name] = v;
  }
  return o;
}

// ---- statistics ------------------------------------------------------------

function pct(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (x: number) => (Number.isNaN(x) ? '-' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Reject when p does not settle within limitMs, so no phase can hang the run. */
function within<T>(p: Promise<T>, limitMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  p.catch(() => {}); // a late rejection after the guard fired is not news
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${limitMs} ms`)), limitMs);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

async function waitFor(cond: () => boolean, limitMs: number, what: string): Promise<void> {
  const end = performance.now() + limitMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

// ---- baselines -------------------------------------------------------------

function fsyncBaseline(dir: string, n: number): number[] {
  const fd = openSync(join(dir, 'fsync-probe'), 'a');
  const buf = new Uint8Array(PAYLOAD_BYTES).fill(7);
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      writeSync(fd, buf);
      fsyncSync(fd);
      out.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

async function rttBaseline(n: number): Promise<number[]> {
  const tcp = tcpTransport();
  const l = await tcp.listen({ host: HOST, port: 0 }, (s) => s.onData((d) => s.write(d)));
  const c = await tcp.connect(l.local, { timeoutMs: 2_000 });
  let waiting: (() => void) | undefined;
  let got = 0;
  c.onData((d) => {
    got += d.length;
    if (got >= 16) {
      got -= 16;
      waiting?.();
    }
  });
  const out: number[] = [];
  const ping = new Uint8Array(16);
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await within(new Promise<void>((r) => ((waiting = r), c.write(ping))), 2_000, 'tcp echo');
      out.push(performance.now() - t0);
    }
  } finally {
    c.destroy();
    await l.close();
  }
  return out;
}

// ---- the cluster -----------------------------------------------------------

/** fsync(2) calls and the time spent in them, over every replica of the run (all share one thread). */
const fsyncs = { n: 0, ms: 0 };

/** nodeDisk() with its syncs counted and timed. */
function countingDisk(): Disk {
  const d = nodeDisk();
  const timed = (fn: () => void) => {
    const t0 = performance.now();
    fn();
    fsyncs.ms += performance.now() - t0;
    fsyncs.n++;
  };
  return {
    ...d,
    openAppend(path) {
      const f = d.openAppend(path);
      return { append: (b) => f.append(b), sync: () => timed(() => f.sync()), close: () => f.close() };
    },
    syncDir: (dir) => timed(() => d.syncDir(dir)),
  };
}

/** Counts and remembers nothing: the point is the log, not the state. */
class Counter implements StateMachine<number> {
  n = 0;
  apply(): number {
    return ++this.n;
  }
  skip(): void {}
  snapshot(): Uint8Array {
    return new TextEncoder().encode(String(this.n));
  }
  restore(data: Uint8Array): void {
    this.n = Number(new TextDecoder().decode(data));
  }
}

interface Member {
  id: NodeId;
  dir: string;
  peers?: StreamPeers;
  replica?: Replica<number>;
}

class Cluster {
  readonly addrs = new Map<NodeId, Addr>();
  readonly members: Member[];
  /** Every leader report: who, in which term, when (performance.now()). */
  readonly leaderReports: { id: NodeId; term: number; atMs: number }[] = [];

  constructor(
    root: string,
    readonly config: RaftConfig,
  ) {
    this.members = IDS.map((id) => ({ id, dir: join(root, id) }));
  }

  async listen(m: Member): Promise<void> {
    m.peers = await StreamPeers.start({ id: m.id, transport: tcpTransport(), listen: { host: HOST, port: 0 }, addrOf: (id) => this.addrs.get(id), clock: realClock() });
    this.addrs.set(m.id, m.peers.local);
  }

  async open(m: Member): Promise<void> {
    m.replica = await Replica.open({
      id: m.id,
      config: this.config,
      clock: realClock(),
      rand: cryptoRand(),
      disk: countingDisk(),
      dir: m.dir,
      peers: m.peers!,
      sm: new Counter(),
      bootstrap: IDS,
      requestTimeoutMs: 30_000,
      onRoleChange: (role, _leader, term) => {
        if (role === 'leader') this.leaderReports.push({ id: m.id, term, atMs: performance.now() });
      },
    });
  }

  async start(): Promise<void> {
    // Every address must be known before the first vote goes out.
    for (const m of this.members) await this.listen(m);
    for (const m of this.members) await this.open(m);
  }

  /** What kill -9 looks like from outside: sockets reset, nothing handed over. */
  async kill(m: Member): Promise<void> {
    await m.peers?.close();
    await m.replica?.close();
    m.peers = undefined;
    m.replica = undefined;
  }

  async restart(m: Member): Promise<void> {
    await this.listen(m);
    await this.open(m);
  }

  leader(): Member | undefined {
    const ls = this.members.filter((m) => m.replica?.role === 'leader');
    if (ls.length !== 1) return undefined;
    const l = ls[0]!;
    return this.members.every((m) => !m.replica || m.replica.leaderId === l.id) ? l : undefined;
  }

  async stable(limitMs: number): Promise<Member> {
    await waitFor(() => this.leader() !== undefined, limitMs, 'a leader every replica follows');
    return this.leader()!;
  }

  async close(): Promise<void> {
    for (const m of this.members) await this.kill(m);
  }
}

// ---- measurements ------------------------------------------------------------

async function sequential(c: Cluster, n: number): Promise<number[]> {
  const l = (await c.stable(30_000)).replica!;
  const data = new Uint8Array(PAYLOAD_BYTES).fill(1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await within(l.propose(data), 30_000, 'sequential proposal');
    out.push(performance.now() - t0);
  }
  return out;
}

async function concurrent(c: Cluster, inFlight: number, seconds: number): Promise<{ writesPerS: number; lat: number[] }> {
  const l = (await c.stable(30_000)).replica!;
  const data = new Uint8Array(PAYLOAD_BYTES).fill(2);
  const lat: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await within(l.propose(data), 30_000, 'concurrent proposal');
        lat.push(performance.now() - s);
      }
    }),
  );
  return { writesPerS: lat.length / ((performance.now() - t0) / 1000), lat };
}

interface Failover {
  electMs: number;
  writeMs: number;
  term: number;
}

/** Kill the leader; time the election and the first commit after it; bring the old leader back as a follower. */
async function failover(c: Cluster, limitMs: number): Promise<Failover> {
  const old = await c.stable(limitMs);
  const oldTerm = old.replica!.term;
  const reports = c.leaderReports.length;
  const t0 = performance.now();
  await c.kill(old);
  await waitFor(() => c.leaderReports.slice(reports).some((r) => r.id !== old.id && r.term > oldTerm), limitMs, 'a new leader');
  const won = c.leaderReports.slice(reports).find((r) => r.id !== old.id && r.term > oldTerm)!;
  const electMs = won.atMs - t0;
  const nl = c.members.find((m) => m.id === won.id)!.replica!;
  await within(nl.propose(new Uint8Array(PAYLOAD_BYTES).fill(3)), limitMs, 'first write after failover');
  const writeMs = performance.now() - t0;
  await c.restart(old);
  // Back to three before the next round: the restarted one must follow the new leader and hold its log.
  await waitFor(() => old.replica?.leaderId === won.id && old.replica.applied >= nl.status().commit, limitMs, 'the old leader to rejoin');
  return { electMs, writeMs, term: won.term };
}

async function withCluster<T>(config: RaftConfig, fn: (c: Cluster, root: string) => Promise<T>): Promise<T> {
  const root = mkdtempSync(join(tmpdir(), 'agent-bench-raft-'));
  const c = new Cluster(root, config);
  try {
    await c.start();
    return await fn(c, root);
  } finally {
    await c.close();
    rmSync(root, { recursive: true, force: true });
  }
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

export async function main(argv: string[]): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`bench:raft: ${(e as Error).message}\n`);
    return 2;
  }
  const fast: RaftConfig = { ...defaultRaftConfig(), tickMs: 100, electionTicks: 10 };
  const slow: RaftConfig = defaultRaftConfig();
  const lines: string[] = [];
  const out = (s = '') => lines.push(s);
  try {
    const base = await withCluster(fast, async (c, root) => {
      log('baselines: fsync, tcp round trip');
      const fsync = fsyncBaseline(root, 500);
      const rtt = await rttBaseline(2_000);
      log(`sequential: ${o.sequential} proposals`);
      const before = { ...fsyncs };
      const seq = await sequential(c, o.sequential);
      const seqFsync = { perCommit: (fsyncs.n - before.n) / seq.length, msPerCommit: (fsyncs.ms - before.ms) / seq.length };
      const conc: { n: number; writesPerS: number; lat: number[]; fsyncsPerWrite: number }[] = [];
      for (const n of [1, 8, 64]) {
        log(`concurrent: ${n} in flight for ${o.seconds} s`);
        const b = fsyncs.n;
        const r = await concurrent(c, n, o.seconds);
        conc.push({ n, ...r, fsyncsPerWrite: (fsyncs.n - b) / r.lat.length });
      }
      const fo: Failover[] = [];
      for (let i = 0; i < o.failovers; i++) {
        log(`failover ${i + 1}/${o.failovers} (tick ${fast.tickMs} ms)`);
        fo.push(await failover(c, 30_000));
      }
      return { fsync, rtt, seq, seqFsync, conc, fo };
    });
    const slowFo: Failover[] = [];
    if (o.slowFailovers > 0) {
      await withCluster(slow, async (c) => {
        for (let i = 0; i < o.slowFailovers; i++) {
          log(`failover ${i + 1}/${o.slowFailovers} (tick ${slow.tickMs} ms, takes 10-25 s)`);
          slowFo.push(await failover(c, 90_000));
        }
      });
    }

    const f50 = pct(base.fsync, 50);
    const r50 = pct(base.rtt, 50);
    const c50 = pct(base.seq, 50);
    out(`raft bench: 3 replicas in one process, loopback TCP, WAL on ${tmpdir()} with fsync, ${PAYLOAD_BYTES}-byte commands`);
    out(`config: tickMs ${fast.tickMs}, heartbeatTicks ${fast.heartbeatTicks}, electionTicks ${fast.electionTicks} (election timeout ${fast.tickMs * fast.electionTicks}-${2 * fast.tickMs * fast.electionTicks} ms), preVote, checkQuorum`);
    out();
    const w = [34, 9, 9, 9];
    out(row(['measure', 'p50 ms', 'p99 ms', 'n'], w));
    out(row(['baseline: append 100 B + fsync', ms(f50), ms(pct(base.fsync, 99)), String(base.fsync.length)], w));
    out(row(['baseline: tcp round trip (16 B)', ms(r50), ms(pct(base.rtt, 99)), String(base.rtt.length)], w));
    out(row(['commit, sequential', ms(c50), ms(pct(base.seq, 99)), String(base.seq.length)], w));
    for (const x of base.conc) out(row([`commit, ${x.n} in flight`, ms(pct(x.lat, 50)), ms(pct(x.lat, 99)), String(x.lat.length)], w));
    out();
    out(row(['throughput', 'writes/s', '', ''], w));
    for (const x of base.conc) out(row([`${x.n} in flight, ${o.seconds} s`, x.writesPerS.toFixed(0), '', ''], w));
    out();
    const fw = [34, 11, 13];
    out(row(['failover (leader killed)', 'elected ms', 'first write ms'], fw));
    base.fo.forEach((f, i) => out(row([`tick ${fast.tickMs} ms, run ${i + 1} (term ${f.term})`, ms(f.electMs), ms(f.writeMs)], fw)));
    if (base.fo.length > 0) out(row([`tick ${fast.tickMs} ms, median of ${base.fo.length}`, ms(pct(base.fo.map((f) => f.electMs), 50)), ms(pct(base.fo.map((f) => f.writeMs), 50))], fw));
    slowFo.forEach((f, i) => out(row([`tick ${slow.tickMs} ms (default), run ${i + 1}`, ms(f.electMs), ms(f.writeMs)], fw)));
    out();
    out('ratios:');
    out(`  commit p50 = ${(c50 / f50).toFixed(1)}x fsync p50; (commit p50 - 1 RTT) / fsync p50 = ${((c50 - r50) / f50).toFixed(1)} fsyncs`);
    out(`  sequential: ${base.seqFsync.perCommit.toFixed(1)} fsyncs per commit over the 3 replicas, ${ms(base.seqFsync.msPerCommit)} ms of fsync per commit = ${((100 * base.seqFsync.msPerCommit) / mean(base.seq)).toFixed(0)}% of mean commit latency (${ms(mean(base.seq))} ms)`);
    out(`  (one thread runs all 3 replicas and fsync blocks it, so their fsyncs serialize; on the critical path: leader entries, follower entries, leader commit index)`);
    const best = base.conc.reduce((a, b) => (b.writesPerS > a.writesPerS ? b : a));
    out(`  throughput ${best.n} in flight = ${(best.writesPerS / (1000 / c50)).toFixed(1)}x sequential (${(1000 / c50).toFixed(0)} writes/s at p50 latency)`);
    out(`  batching: fsyncs per write (all replicas) ${base.conc.map((x) => `${x.n} in flight ${x.fsyncsPerWrite.toFixed(2)}`).join(', ')}`);
    if (base.fo.length > 0) {
      const e50 = pct(base.fo.map((f) => f.electMs), 50);
      out(`  failover median = ${(e50 / (fast.tickMs * fast.electionTicks)).toFixed(2)}x electionTicks*tickMs (${fast.tickMs * fast.electionTicks} ms; the timeout is drawn from [1x, 2x))`);
    }
    if (slowFo.length > 0) out(`  tick ${slow.tickMs} ms: elected after ${(slowFo[0]!.electMs / (slow.tickMs * slow.electionTicks)).toFixed(2)}x electionTicks*tickMs`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`bench:raft: ${(e as Error).message}\n`);
    return 1;
  }
}
