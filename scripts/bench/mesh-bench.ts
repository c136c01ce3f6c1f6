// Routing mesh benchmark (issue 10): requests per second and p99 latency of
// a small HTTP service through the mesh, from a host that runs none of its
// tasks, against the same tasks reached directly over the overlay, in the
// same run. One three-host test bed, one swarm (mesh-swarm.ts); the client
// is on h2, the service's two tasks on h0 and h1. Paths:
//
//   mesh:   h2's own address, port 8080, from h2's host netns: the host DNAT,
//           the ingress sandbox (per-connection DNAT, masquerade), the
//           ingress overlay;
//   direct: the two tasks' meshnet addresses, port 80, round-robin, from an
//           endpoint on meshnet on h2: the overlay alone, no NAT;
//   vip:    web's VIP on meshnet, from a second endpoint on h2 (its own
//           address, so no 4-tuple at a task is shared with the direct
//           path): the per-connection DNAT in the endpoint's netns, no
//           sandbox, no masquerade.
//
// Around every run the kernel's counters are read (mesh-counters.ts): TCP
// in the client's and the tasks' netns, UDP drops in the hosts'.
//
// mesh-load.ts makes every request a new connection (the mesh balances per
// connection), a fixed number in flight. Rounds alternate the order of the
// paths, so a drift in the VM's load falls on all of them. A benchmark, not a
// test: it passes nothing and fails nothing, it prints numbers; on a shared
// VM absolute numbers are noise, read the ratios.
//
//   node scripts/bench/mesh.mjs [--requests 3000] [--concurrency 8] [--rounds 5]
//        [--warmup 200] [--max-seconds 30] [--paths mesh,direct,vip]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { run as runProgram } from '../../agent/host/run.js';
import { TestBed } from '../../agent/testbed/index.js';
import { buildAgent, daemonNotes } from './discovery-bench.js';
import { delta, sum } from './mesh-counters.js';
import { report, type Run } from './mesh-report.js';
import type { Node } from './discovery-swarm.js';
import { PATHS, buildMesh, type LoadOptions, type Mesh, type PathName } from './mesh-swarm.js';

export interface MainDeps {
  /** The bundled load generator (scripts/bench/mesh.mjs makes it). */
  scripts: { load: string };
}

interface Options extends LoadOptions {
  rounds: number;
  paths: PathName[];
}

// Building the agent, the bed, three daemons, the swarm, the service and the first answers through every path.
const SETUP_MS = 180_000;
// Per load run on top of --max-seconds: the request timeout, agent exec's start and end.
const RUN_SLACK_MS = 20_000;
const REQUEST_TIMEOUT_MS = 5_000;
const WARMUP_PASS_REQUESTS = 1_000;

const log = (line: string) => process.stderr.write(`${line}\n`);

/** /proc/stat's first line: the machine's busy and total jiffies so far (all CPUs). */
function cpuTimes(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: idle and iowait are the idle ones.
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

/** Network namespaces on the machine that are not this bed's: another bench or e2e test sharing the two CPUs. */
async function neighbours(prefix: string): Promise<number> {
  const r = await runProgram(['ip', 'netns', 'list'], { timeoutMs: 5_000, allowFail: true });
  return r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(`${prefix}-`)).length;
}

function intFlag(key: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { requests: 3000, concurrency: 8, rounds: 5, warmup: 200, maxSeconds: 30, timeoutMs: REQUEST_TIMEOUT_MS, paths: [...PATHS] };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!;
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${key}: expected a value`);
    if (key === '--requests') o.requests = intFlag(key, v, 100, 20_000);
    else if (key === '--concurrency') o.concurrency = intFlag(key, v, 1, 64);
    else if (key === '--rounds') o.rounds = intFlag(key, v, 1, 10);
    else if (key === '--warmup') o.warmup = intFlag(key, v, 0, 5_000);
    else if (key === '--max-seconds') o.maxSeconds = intFlag(key, v, 1, 60);
    else if (key === '--paths') {
      const ps = v.split(',').map((s) => s.trim());
      const bad = ps.find((p) => !(PATHS as readonly string[]).includes(p));
      if (bad !== undefined || new Set(ps).size !== ps.length || !ps.includes('mesh') || !ps.includes('direct')) {
        throw new Error(`--paths: expected mesh,direct and optionally vip, comma-separated, each once, got ${JSON.stringify(v)}`);
      }
      o.paths = PATHS.filter((p) => ps.includes(p));
    } else {
      throw new Error(`unknown argument ${key}; expected --requests, --concurrency, --rounds, --warmup, --max-seconds or --paths`);
    }
  }
  return o;
}

export async function main(argv: string[], deps: MainDeps): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`bench:mesh: ${(e as Error).message}\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench:mesh: needs root (network namespaces): run as root\n');
    return 2;
  }
  // Every run is bounded by --max-seconds and its slack; past this total something hangs.
  const watchdogMs = SETUP_MS + (o.rounds + 1) * o.paths.length * (o.maxSeconds * 1000 + RUN_SLACK_MS);
  const t0 = performance.now();
  const loadAtStart = loadavg()[0]!;
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench:mesh: still running after ${Math.round(watchdogMs / 1000)} s; giving up (the test bed is removed at exit)\n`);
    process.exit(1);
  }, watchdogMs);
  let setupError: string | undefined;
  const runs: Run[] = [];
  let notes: string[] = [];
  const warmupNotes: string[] = [];
  let mesh: Mesh | undefined;
  const started: { nodes?: Node[] } = {};
  try {
    let bed: TestBed | undefined;
    try {
      const agentCmd = await buildAgent(process.cwd());
      log('test bed: 3 hosts');
      bed = await TestBed.create({ hosts: 3 });
      // The tasks outlive the run (the bed ends them anyway).
      mesh = await buildMesh(bed, agentCmd, Math.ceil(watchdogMs / 1000) + 60, deps.scripts.load, started, log);
      // The first load after setup runs slower whichever path it is (JIT in the servers and the agents): one pass over every path first, not counted.
      for (const path of o.paths) {
        log(`  warm-up: ${path}, ${WARMUP_PASS_REQUESTS} requests`);
        const l = await mesh.load(path, { ...o, requests: WARMUP_PASS_REQUESTS, warmup: 0 });
        if (l.errors > 0) warmupNotes.push(`warm-up pass, ${path}: ${l.errors} failed requests: ${JSON.stringify(l.errorKinds)}`);
      }
      for (let round = 1; round <= o.rounds; round++) {
        const order = round % 2 === 1 ? o.paths : [...o.paths].reverse();
        for (const path of order) {
          log(`  round ${round}: ${path}, ${o.requests} requests, ${o.concurrency} in flight`);
          const run: Run = { path, round };
          try {
            const before = await mesh.counters();
            const n0 = await neighbours(bed.prefix);
            const c0 = cpuTimes();
            run.load = await mesh.load(path, o);
            const c1 = cpuTimes();
            run.cpuBusy = (c1.busy - c0.busy) / Math.max(1, c1.total - c0.total);
            run.neighbours = Math.max(n0, await neighbours(bed.prefix));
            const after = await mesh.counters();
            run.client = delta(before.client[path], after.client[path]);
            run.server = sum(after.tasks.map((c, i) => delta(before.tasks[i]!, c)));
            run.hosts = after.hosts.map((c, i) => delta(before.hosts[i]!, c));
          } catch (e) {
            run.error = (e as Error).message;
            log(`    failed: ${run.error}`);
          }
          runs.push(run);
        }
      }
    } catch (e) {
      setupError = (e as Error).message;
      log(`setup failed: ${setupError}`);
    } finally {
      notes = [...warmupNotes, ...(started.nodes === undefined ? [] : daemonNotes({ nodes: started.nodes }))];
      log('removing the test bed');
      await bed?.destroy();
    }
    const lines = report({ o, mesh, runs, setupError, notes, elapsedS: (performance.now() - t0) / 1000, loadAtStart });
    process.stdout.write(`${lines.join('\n')}\n`);
    return setupError !== undefined || runs.some((r) => r.error !== undefined) ? 1 : 0;
  } finally {
    clearTimeout(watchdog);
  }
}
