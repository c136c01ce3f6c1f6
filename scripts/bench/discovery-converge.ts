// The second half of `npm run bench:discovery`: from `service scale web=N` to
// every node's DNS and VIP agreeing. One step is one scale, from a state every
// node agrees on (`from` tasks) to `to`:
//
//   1. on every node, discovery-probe.ts starts in that node's probe task and
//      reports ready once its resolver answers tasks.web with `from`
//      addresses and its netns's VIP rule for web has `from` backends;
//   2. t0; the scale request; from t0, the leader's GET /tasks?service=web
//      is polled every ORCH_POLL_MS until the swarm reports the tasks running
//      (up) or all over (down): the orchestration baseline;
//   3. each probe exits once its DNS and its VIP show `to` (or at the
//      timeout), with the epoch ms of each.
//
// The scale request is what `agent service scale -d web=N` sends (POST
// /services/web/update {"Replicas": N}), made straight on the leader's
// socket so t0 is when the request leaves rather than when a Node CLI has
// started; the first step (3 -> 0, the way to the start state) runs the CLI
// itself, with t0 before it starts.
import type { BedProcess } from '../../agent/testbed/index.js';
import { SERVICE, allRunning, allStopped, jsonLines, tasksOf, waitForLine, type Node, type Swarm } from './discovery-swarm.js';

export interface Track {
  count?: number;
  firstChangeAt?: number;
  agreedAt?: number;
  regressions: number;
  samples: number;
  errors: number;
}

/** discovery-probe.ts's last line. */
export interface ProbeLine {
  node: string;
  result: 'agreed' | 'timeout' | 'not-ready';
  readyAt: number;
  endAt: number;
  dns: Track & { truncated: number };
  vip: Track & { monitorEvents: number };
}

export interface StepResult {
  from: number;
  to: number;
  via: 'cli' | 'api';
  t0: number;
  /** The scale request's own time (the CLI's whole run, or the API call). */
  requestMs?: number;
  /** When the leader first reported the tasks running (up) or all over (down). */
  orchAt?: number;
  /** Nodes' order. */
  probes: { node: string; line?: ProbeLine; error?: string }[];
  error?: string;
}

export interface ConvergeOptions {
  counts: readonly number[];
  timeoutMs: number;
  pollMs: number;
}

const ORCH_POLL_MS = 25;
// Every probe must see the start state within this (the previous step's stragglers included).
const ARM_MS = 60_000;
// After a probe's own timeout: its exit and agent exec's.
const EXIT_SLACK_MS = 15_000;
// Between steps: the last nft applies in the web tasks' own netns (which no probe watches) and task teardown end.
const QUIET_MS = 1_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** p, or undefined after ms; the timer never outlives the race (it would hold the process open). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Epoch ms when the leader first reports the scale done; undefined at the deadline. */
async function orchestrated(leader: Node, to: number, deadline: number): Promise<number | undefined> {
  while (Date.now() < deadline) {
    try {
      const ts = await tasksOf(leader.proc, SERVICE);
      if (to === 0 ? allStopped(ts) : allRunning(ts, to)) return Date.now();
    } catch {
      // the leader is busy: ask again
    }
    await sleep(ORCH_POLL_MS);
  }
  return undefined;
}

async function step(swarm: Swarm, from: number, to: number, via: 'cli' | 'api', o: ConvergeOptions, probeScript: string): Promise<StepResult> {
  const procs: BedProcess[] = swarm.probes.map(({ node, task }) =>
    node.spawnExec(task, [
      process.execPath, probeScript,
      '--node', node.name, '--name', `tasks.${SERVICE}`, '--vip', swarm.vip,
      '--from', String(from), '--to', String(to),
      '--timeout-ms', String(o.timeoutMs), '--arm-timeout-ms', String(ARM_MS), '--poll-ms', String(o.pollMs),
    ]),
  );
  const res: StepResult = { from, to, via, t0: 0, probes: swarm.probes.map(({ node }) => ({ node: node.name })) };
  try {
    await Promise.all(procs.map((p, i) => waitForLine(p, (l) => l['ready'] === true, ARM_MS + EXIT_SLACK_MS, `the probe on ${swarm.probes[i]!.node.name}`)));
    res.t0 = Date.now();
    const orch = orchestrated(swarm.leader, to, res.t0 + o.timeoutMs);
    if (via === 'cli') {
      await swarm.leader.cli(['service', 'scale', '-d', `${SERVICE}=${to}`]);
    } else {
      const r = await swarm.leader.proc.api('POST', `/services/${SERVICE}/update`, { Replicas: to });
      if (r.status !== 200) throw new Error(`POST /services/${SERVICE}/update {Replicas: ${to}}: ${r.status} ${r.body.trim()}`);
    }
    res.requestMs = Date.now() - res.t0;
    const [orchAt] = await Promise.all([orch, ...procs.map((p) => within(p.exited, o.timeoutMs + EXIT_SLACK_MS))]);
    res.orchAt = orchAt;
  } catch (e) {
    res.error = (e as Error).message;
  } finally {
    await Promise.all(procs.map((p) => p.stop(2_000)));
  }
  procs.forEach((p, i) => {
    const last = jsonLines(p.logPath).find((l) => typeof l['result'] === 'string');
    if (last !== undefined) res.probes[i]!.line = last as unknown as ProbeLine;
    else res.probes[i]!.error = 'no result line';
  });
  return res;
}

/** 3 -> 0 (the start state, via the CLI), then for each N: 0 -> N and N -> 0. */
export async function converge(swarm: Swarm, from: number, o: ConvergeOptions, probeScript: string, say: (s: string) => void): Promise<StepResult[]> {
  const plan: [number, number, 'cli' | 'api'][] = [[from, 0, 'cli']];
  for (const n of o.counts) plan.push([0, n, 'api'], [n, 0, 'api']);
  const out: StepResult[] = [];
  for (const [a, b, via] of plan) {
    say(`  scale ${SERVICE} ${a} -> ${b}${via === 'cli' ? ' (agent service scale)' : ''}`);
    const r = await step(swarm, a, b, via, o, probeScript);
    out.push(r);
    if (r.error !== undefined) say(`    failed: ${r.error}`);
    await sleep(QUIET_MS);
  }
  return out;
}
