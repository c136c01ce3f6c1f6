// The printed report of `npm run bench:discovery`: machine facts, the DNS
// rate table with the agent/baseline ratios, the convergence table with the
// discovery/orchestration ratios, then what went wrong or looked odd.
import { cpus, release } from 'node:os';
import type { StepResult } from './discovery-converge.js';
import { TARGETS, type RateResults, type Target } from './discovery-rate.js';

const f = (x: number | undefined, digits: number) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const ms = (x: number | undefined) => (x === undefined ? '-' : String(Math.round(x)));
const ratio = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined || !(y > 0) ? '-' : `${(x / y).toFixed(2)}x`);
const mean = (xs: readonly number[]) => (xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length);

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
}

export interface ReportInput {
  heartbeat: string;
  rate?: RateResults;
  rateError?: string;
  steps: StepResult[];
  convergeError?: string;
  setupError?: string;
  /** Lines about the daemons (warnings in their logs). */
  notes: string[];
  elapsedS: number;
  timeoutMs: number;
  pollMs: number;
}

function rateLines(r: RateResults, out: (s: string) => void): void {
  const o = r.o;
  out(`DNS over UDP from the client task on h0: ${o.window} queries outstanding, ${o.seconds} s counted after ${o.warmupMs} ms warm-up, ${o.timeoutMs} ms timeout; ${o.rounds} rounds, order alternating`);
  out(`  agent: its resolver at ${r.resolver} (h0's gwbridge gateway); baseline: discovery-responder (dns-packet, one static A) at ${r.baseline}, same netns, same veth and bridge`);
  const w = [18, 5, 10, 7, 7, 7, 8, 6, 8];
  out(row(['target', 'round', 'answers/s', 'p50 ms', 'p99 ms', 'max ms', 'timeouts', 'errors', 'answer'], w));
  for (const run of r.runs) {
    if (run.perf === undefined) {
      out(`${run.target} round ${run.round}: failed (${run.error ?? '?'})`);
      continue;
    }
    const p = run.perf;
    const errors = Object.values(p.rcodes).reduce((a, b) => a + b, 0) + p.short + p.sendErrors;
    const answer = p.first === undefined ? '-' : `${p.first.ancount} A${p.first.truncated ? ' TC' : ''}`;
    out(row([run.target, String(run.round), f(p.qps, 0), f(p.p50Ms, 2), f(p.p99Ms, 2), f(p.maxMs, 1), String(p.timeouts), String(errors), answer], w));
  }
  const by = (t: Target) => r.runs.filter((x) => x.target === t && x.perf !== undefined).map((x) => x.perf!);
  out('');
  out(row(['mean of rounds', '', 'answers/s', 'p50 ms', 'p99 ms'], w.slice(0, 5)));
  for (const t of TARGETS) {
    const ps = by(t);
    out(row([t, '', f(mean(ps.map((p) => p.qps)), 0), f(mean(ps.map((p) => p.p50Ms ?? NaN)), 2), f(mean(ps.map((p) => p.p99Ms ?? NaN)), 2)], w.slice(0, 5)));
  }
  out('');
  out('ratios, agent / baseline (answers/s: higher is faster; latency: higher is slower); per round in brackets');
  const base = by('baseline');
  for (const t of ['agent web', 'agent tasks.web'] as const) {
    const ps = by(t);
    const perRound = r.runs
      .filter((x) => x.target === t && x.perf !== undefined)
      .map((x) => ratio(x.perf!.qps, r.runs.find((y) => y.target === 'baseline' && y.round === x.round)?.perf?.qps));
    out(
      `  ${t.padEnd(16)} answers/s ${ratio(mean(ps.map((p) => p.qps)), mean(base.map((p) => p.qps)))} [${perRound.join(', ')}]` +
        `, p50 ${ratio(mean(ps.map((p) => p.p50Ms ?? NaN)), mean(base.map((p) => p.p50Ms ?? NaN)))}, p99 ${ratio(mean(ps.map((p) => p.p99Ms ?? NaN)), mean(base.map((p) => p.p99Ms ?? NaN)))}`,
    );
  }
  const qps = mean(by('agent web').map((p) => p.qps));
  if (qps !== undefined && qps > 0) out(`  per query in the agent, from the client's side (1/rate): ${(1e6 / qps).toFixed(0)} us (web); the baseline ${f(1e6 / (mean(base.map((p) => p.qps)) ?? NaN), 0)} us`);
  if (r.baselineCounters !== undefined) out(`  baseline responder at exit: ${JSON.stringify(r.baselineCounters)}`);
}

function stepLines(steps: readonly StepResult[], out: (s: string) => void): void {
  const w = [14, 7, 6, 9, 7, 7, 8, 8, 17, 17];
  out(row(['step', 'request', 'orch', 'DNS first', 'DNS all', 'VIP all', 'DNS/orch', 'VIP/orch', 'DNS h0/h1/h2', 'VIP h0/h1/h2'], w));
  out(row(['', 'ms', 'ms', 'ms', 'ms', 'ms', '', '', 'ms', 'ms'], w));
  const notes: string[] = [];
  for (const s of steps) {
    const name = `${s.from} -> ${s.to}${s.via === 'cli' ? ' (CLI)' : ''}`;
    if (s.t0 === 0) {
      out(`${name}: failed before the scale (${s.error ?? '?'})`);
      continue;
    }
    const since = (t: number | undefined) => (t === undefined ? undefined : t - s.t0);
    const dns = s.probes.map((p) => since(p.line?.dns.agreedAt));
    const vip = s.probes.map((p) => since(p.line?.vip.agreedAt));
    const all = (xs: (number | undefined)[]) => (xs.some((x) => x === undefined) ? undefined : Math.max(...(xs as number[])));
    const firsts = s.probes.map((p) => since(p.line?.dns.firstChangeAt)).filter((x): x is number => x !== undefined);
    const orch = since(s.orchAt);
    const dnsAll = all(dns);
    const vipAll = all(vip);
    const per = (xs: (number | undefined)[]) => xs.map((x) => (x === undefined ? 'T/O' : ms(x))).join('/');
    out(row([name, ms(s.requestMs), orch === undefined ? 'T/O' : ms(orch), ms(firsts.length === 0 ? undefined : Math.min(...firsts)), dnsAll === undefined ? 'T/O' : ms(dnsAll), vipAll === undefined ? 'T/O' : ms(vipAll), ratio(dnsAll, orch), ratio(vipAll, orch), per(dns), per(vip)], w));
    if (s.error !== undefined) notes.push(`${name}: ${s.error}`);
    for (const p of s.probes) {
      const l = p.line;
      if (l === undefined) {
        notes.push(`${name}, ${p.node}: ${p.error ?? 'no result'}`);
        continue;
      }
      const odd = [
        l.result !== 'agreed' ? `result ${l.result} (DNS at ${l.dns.count ?? '?'}, VIP at ${l.vip.count ?? '?'})` : '',
        l.dns.regressions + l.vip.regressions > 0 ? `regressions DNS ${l.dns.regressions}, VIP ${l.vip.regressions}` : '',
        l.dns.errors > 0 ? `${l.dns.errors} DNS queries unanswered in 500 ms` : '',
        l.dns.truncated > 0 ? `${l.dns.truncated} truncated DNS replies` : '',
        l.vip.errors > 0 ? `${l.vip.errors} failed nft lists` : '',
      ].filter((x) => x !== '');
      if (odd.length > 0) notes.push(`${name}, ${p.node}: ${odd.join('; ')}`);
    }
  }
  const polls = steps.flatMap((s) => s.probes.map((p) => p.line)).filter((l) => l !== undefined);
  if (polls.length > 0) {
    out(`probe work per step and node (mean): ${f(mean(polls.map((l) => l!.dns.samples)), 0)} DNS answers, ${f(mean(polls.map((l) => l!.vip.samples)), 0)} nft lists, ${f(mean(polls.map((l) => l!.vip.monitorEvents)), 0)} nft monitor notifications`);
  }
  for (const n of notes) out(`  note: ${n}`);
}

export function report(r: ReportInput): string[] {
  const lines: string[] = [];
  const out = (s: string): void => void lines.push(s);
  out(`discovery bench: 3 test-bed hosts, one swarm (h0 manager, h1 h2 workers; dispatcher heartbeat ${r.heartbeat}, AGENT_RAFT_TICK_MS=100), overlay benchnet; ${cpus().length} CPUs, Linux ${release()}, node ${process.version}`);
  out('absolute numbers on a shared VM are noise: read the ratios');
  if (r.setupError !== undefined) out(`setup failed: ${r.setupError}`);
  out('');
  if (r.rate !== undefined) rateLines(r.rate, out);
  else if (r.rateError !== undefined) out(`DNS rate: failed (${r.rateError})`);
  out('');
  if (r.steps.length > 0) {
    out(`convergence: from the scale request (t0) until every node's resolver answers tasks.web with N addresses (DNS) and the VIP rule in its probe's netns has N backends (VIP); probes poll DNS every ${r.pollMs} ms and list nft on every nft monitor notification; timeout ${r.timeoutMs / 1000} s`);
    out('  orch: until the leader reports the tasks running (up) or all over (down), GET /tasks polled every 25 ms: the orchestration baseline; DNS/orch, VIP/orch: the slowest node over it');
    out('  DNS first: the first node to see any change; request: the scale request itself (the CLI run for the CLI step)');
    stepLines(r.steps, out);
  }
  if (r.convergeError !== undefined) out(`convergence: failed (${r.convergeError})`);
  for (const n of r.notes) out(n);
  out(`run took ${r.elapsedS.toFixed(0)} s`);
  return lines;
}
