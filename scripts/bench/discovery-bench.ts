// Service discovery benchmark (issue 9): DNS queries per second answered by
// one agent, and the time from `service scale` to every node's DNS and VIP
// agreeing, for 1, 10 and 50 tasks. One three-host test bed, one swarm
// (discovery-swarm.ts), two parts in the same run:
//
//   rate:     a dnsperf-like loop in a task on h0 against the agent's
//             resolver (`web`, `tasks.web`) and against a minimal dns-packet
//             responder on the same address and hops (discovery-rate.ts):
//             agent / baseline;
//   converge: scale web 0 -> N -> 0 for each N, a probe per node timing its
//             resolver and its netns's VIP rule, against the time the swarm
//             itself takes to report the tasks running or over
//             (discovery-converge.ts): discovery / orchestration.
//
// A benchmark, not a test: it passes nothing and fails nothing, it prints
// numbers. On a shared VM absolute numbers are noise; read the ratios.
//
//   node scripts/bench/discovery.mjs [--only rate|converge] [--seconds 3] [--window 32] [--rounds 2]
//        [--counts 1,10,50] [--timeout-s 90] [--poll-ms 20]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../agent/host/run.js';
import { TestBed } from '../../agent/testbed/index.js';
import { converge, type StepResult } from './discovery-converge.js';
import { dnsRate, type RateResults } from './discovery-rate.js';
import { report } from './discovery-report.js';
import { HEARTBEAT, START_REPLICAS, buildSwarm, type Swarm } from './discovery-swarm.js';

export interface MainDeps {
  /** The bundled programs the bench starts inside the bed (scripts/bench/discovery.mjs makes them). */
  scripts: { dnsperf: string; responder: string; probe: string };
}

interface Options {
  only: Set<'rate' | 'converge'>;
  seconds: number;
  window: number;
  rounds: number;
  counts: number[];
  timeoutS: number;
  pollMs: number;
}

// A full run takes a few minutes; past this something hangs: exiting runs the test bed's exit-time cleanup.
const WATCHDOG_MS = 600_000;
const BUILD_TIMEOUT_MS = 120_000;
const WARMUP_MS = 500;
const QUERY_TIMEOUT_MS = 1_000;
// The bed's address pool gives an overlay a /24: web's tasks, the client, the probes and the VIP must fit.
const MAX_COUNT = 200;
const DAEMON_NOTE_LINES = 3;

const log = (line: string) => process.stderr.write(`${line}\n`);

function intFlag(key: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { only: new Set(['rate', 'converge']), seconds: 3, window: 32, rounds: 2, counts: [1, 10, 50], timeoutS: 90, pollMs: 20 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!;
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${key}: expected a value`);
    if (key === '--only') {
      if (v !== 'rate' && v !== 'converge') throw new Error(`--only: expected rate or converge, got ${JSON.stringify(v)}`);
      o.only = new Set([v]);
    } else if (key === '--seconds') o.seconds = intFlag(key, v, 1, 30);
    else if (key === '--window') o.window = intFlag(key, v, 1, 1024);
    else if (key === '--rounds') o.rounds = intFlag(key, v, 1, 10);
    else if (key === '--timeout-s') o.timeoutS = intFlag(key, v, 5, 300);
    else if (key === '--poll-ms') o.pollMs = intFlag(key, v, 5, 1000);
    else if (key === '--counts') {
      const ns = v.split(',').map((s) => intFlag('--counts', s.trim(), 1, MAX_COUNT));
      if (ns.length === 0 || ns.length > 6) throw new Error(`--counts: expected 1 to 6 comma-separated counts, got ${JSON.stringify(v)}`);
      o.counts = ns;
    } else {
      throw new Error(`unknown argument ${key}; expected --only, --seconds, --window, --rounds, --counts, --timeout-s or --poll-ms`);
    }
  }
  return o;
}

/** `node scripts/build.mjs --no-sea`, so the bench runs the agent of this tree (also bench:mesh's). */
export async function buildAgent(root: string): Promise<readonly string[]> {
  const script = join(root, 'scripts/build.mjs');
  if (!existsSync(script)) throw new Error(`no ${script}: run from the repository root (npm run bench:...)`);
  log('building dist/agent.mjs (node scripts/build.mjs --no-sea)');
  const r = await run([process.execPath, script, '--no-sea'], { timeoutMs: BUILD_TIMEOUT_MS, allowFail: true });
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.code}`}`);
  return [process.execPath, join(root, 'dist/agent.mjs')];
}

/** Per daemon: how many WARN and ERROR lines its log has, and the first few (also bench:mesh's). */
export function daemonNotes(swarm: Pick<Swarm, 'nodes'> | undefined): string[] {
  const out: string[] = [];
  for (const n of swarm?.nodes ?? []) {
    let text = '';
    try {
      text = readFileSync(n.proc.logPath, 'utf8');
    } catch {
      continue;
    }
    const bad = text.split('\n').filter((l) => /^\S+ (WARN|ERROR) /.test(l));
    if (bad.length === 0) continue;
    out.push(`daemon ${n.name}: ${bad.length} WARN/ERROR log lines, the first: ${bad.slice(0, DAEMON_NOTE_LINES).map((l) => JSON.stringify(l.slice(0, 200))).join(', ')}`);
  }
  return out;
}

export async function main(argv: string[], deps: MainDeps): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`bench:discovery: ${(e as Error).message}\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench:discovery: needs root (network namespaces): run as root\n');
    return 2;
  }
  const t0 = performance.now();
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench:discovery: still running after ${WATCHDOG_MS / 1000} s; giving up (the test bed is removed at exit)\n`);
    process.exit(1);
  }, WATCHDOG_MS);
  let setupError: string | undefined;
  let rate: RateResults | undefined;
  let rateError: string | undefined;
  let steps: StepResult[] = [];
  let convergeError: string | undefined;
  let notes: string[] = [];
  try {
    let bed: TestBed | undefined;
    let swarm: Swarm | undefined;
    try {
      const agentCmd = await buildAgent(process.cwd());
      log('test bed: 3 hosts');
      bed = await TestBed.create({ hosts: 3 });
      // Every task outlives the run; the bed ends them anyway.
      swarm = await buildSwarm(bed, agentCmd, Math.ceil(WATCHDOG_MS / 1000) + 60, log);
      if (o.only.has('rate')) {
        log('DNS rate');
        try {
          rate = await dnsRate(bed, swarm, { seconds: o.seconds, warmupMs: WARMUP_MS, window: o.window, timeoutMs: QUERY_TIMEOUT_MS, rounds: o.rounds }, deps.scripts, log);
        } catch (e) {
          rateError = (e as Error).message;
          log(`  failed: ${rateError}`);
        }
      }
      if (o.only.has('converge')) {
        log('convergence');
        try {
          steps = await converge(swarm, START_REPLICAS, { counts: o.counts, timeoutMs: o.timeoutS * 1000, pollMs: o.pollMs }, deps.scripts.probe, log);
        } catch (e) {
          convergeError = (e as Error).message;
          log(`  failed: ${convergeError}`);
        }
      }
    } catch (e) {
      setupError = (e as Error).message;
      log(`setup failed: ${setupError}`);
    } finally {
      notes = daemonNotes(swarm);
      log('removing the test bed');
      await bed?.destroy();
    }
    const lines = report({ heartbeat: HEARTBEAT, rate, rateError, steps, convergeError, setupError, notes, elapsedS: (performance.now() - t0) / 1000, timeoutMs: o.timeoutS * 1000, pollMs: o.pollMs });
    process.stdout.write(`${lines.join('\n')}\n`);
    const failed = setupError !== undefined || rateError !== undefined || convergeError !== undefined || steps.some((s) => s.error !== undefined);
    return failed ? 1 : 0;
  } finally {
    clearTimeout(watchdog);
  }
}
