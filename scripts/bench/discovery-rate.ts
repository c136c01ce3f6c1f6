// The first half of `npm run bench:discovery`: DNS queries per second one
// agent answers. discovery-dnsperf.ts runs inside the client task on h0 and
// keeps a fixed window of UDP queries outstanding against
//
//   baseline:        discovery-responder.ts (dns-packet, one static A
//                    record), started in h0's netns on the gwbridge gateway,
//                    the agent's resolver's own address, at another port;
//   agent web:       the agent's resolver, `web` (its VIP: one A record);
//   agent tasks.web: the same, `tasks.web` (every task: 3 A records, shuffled).
//
// Same socket type, same address, same hops (the task's veth, the gwbridge,
// local delivery in h0's netns), same client: what differs is the server.
// Rounds alternate the order (baseline first, then last) so a drift in the
// VM's load falls on both sides.
import type { BedProcess, TestBed } from '../../agent/testbed/index.js';
import { SERVICE, jsonLines, lastJson, until, waitForLine, type Swarm } from './discovery-swarm.js';

export type Target = 'baseline' | 'agent web' | 'agent tasks.web';
export const TARGETS: readonly Target[] = ['baseline', 'agent web', 'agent tasks.web'];

/** discovery-dnsperf.ts's line. */
export interface Perf {
  sent: number;
  answered: number;
  qps: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  timeouts: number;
  rcodes: Record<string, number>;
  late: number;
  short: number;
  sendErrors: number;
  socketErrors: number;
  leftOutstanding: number;
  first?: { ancount: number; truncated: boolean; rcode: number; bytes: number };
}

export interface RateRun {
  target: Target;
  round: number;
  perf?: Perf;
  error?: string;
}

export interface RateOptions {
  seconds: number;
  warmupMs: number;
  window: number;
  timeoutMs: number;
  rounds: number;
}

export interface RateResults {
  o: RateOptions;
  resolver: string;
  baseline: string;
  runs: RateRun[];
  /** The responder's counters at its exit. */
  baselineCounters?: Record<string, unknown>;
}

/** The baseline's port, next to the agent's 53 on the same address; nothing else in the bed's host netns binds it. */
const BASELINE_PORT = 5300;
const RESPONDER_READY_MS = 10_000;
const RESOLVES_MS = 30_000;
// agent exec's own start (a Node CLI) and teardown, on top of the program's run.
const EXEC_SLACK_MS = 30_000;

export async function dnsRate(bed: TestBed, swarm: Swarm, o: RateOptions, scripts: { dnsperf: string; responder: string }, say: (s: string) => void): Promise<RateResults> {
  const { node, task } = swarm.client;
  const res: RateResults = { o, resolver: `${swarm.resolver}:53`, baseline: `${swarm.resolver}:${BASELINE_PORT}`, runs: [] };
  const perf = async (server: string | undefined, port: number, name: string, seconds: number, warmupMs: number, window: number): Promise<Perf> => {
    const args = ['--name', name, '--port', String(port), '--seconds', String(seconds), '--warmup-ms', String(warmupMs), '--window', String(window), '--timeout-ms', String(o.timeoutMs)];
    if (server !== undefined) args.push('--server', server);
    const timeoutMs = warmupMs + seconds * 1000 + 2 * o.timeoutMs + EXEC_SLACK_MS;
    return lastJson(await node.cli(['exec', task, '--', process.execPath, scripts.dnsperf, ...args], timeoutMs)) as unknown as Perf;
  };

  const lifeS = Math.ceil((o.rounds * TARGETS.length * (o.warmupMs / 1000 + o.seconds + 10)) + 120);
  const responder: BedProcess = bed.spawn(node.host, [process.execPath, scripts.responder, '--address', swarm.resolver, '--port', String(BASELINE_PORT), '--max-seconds', String(lifeS)]);
  try {
    await waitForLine(responder, (l) => l['ready'] === true, RESPONDER_READY_MS, 'the baseline responder');
    say(`  waiting until ${SERVICE} resolves from ${task}`);
    await until(`${SERVICE} to resolve to one address from ${task}`, RESOLVES_MS, async () => {
      const p = await perf(undefined, 53, SERVICE, 1, 0, 1);
      return p.answered > 0 && p.first?.ancount === 1 ? true : undefined;
    });
    for (let round = 1; round <= o.rounds; round++) {
      const order = round % 2 === 1 ? TARGETS : [...TARGETS].reverse();
      for (const target of order) {
        say(`  round ${round}: ${target}, window ${o.window}, ${o.seconds} s`);
        const run: RateRun = { target, round };
        try {
          run.perf =
            target === 'baseline'
              ? await perf(swarm.resolver, BASELINE_PORT, SERVICE, o.seconds, o.warmupMs, o.window)
              : await perf(undefined, 53, target === 'agent web' ? SERVICE : `tasks.${SERVICE}`, o.seconds, o.warmupMs, o.window);
        } catch (e) {
          run.error = (e as Error).message;
          say(`    failed: ${run.error}`);
        }
        res.runs.push(run);
      }
    }
  } finally {
    await responder.stop(2_000);
    const exit = jsonLines(responder.logPath).find((l) => typeof l['exit'] === 'string');
    if (exit !== undefined) res.baselineCounters = exit;
  }
  return res;
}
