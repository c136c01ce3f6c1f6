// The printed report of `npm run bench:mesh`: what was built and why the
// client is where it is, one row per load run, the medians of the rounds per
// path, the ratios to the direct path (median and per round), then what went
// wrong or looked odd (errors, slow requests, uneven balance, daemon
// warnings).
import { cpus, release } from 'node:os';
import { CLIENT_HOST, NETWORK, PUBLISHED, REPLICAS, SERVICE, TARGET, type Load, type Mesh, type PathName } from './mesh-swarm.js';
import type { LoadOptions } from './mesh-swarm.js';
import { show, type Counters } from './mesh-counters.js';

export interface Run {
  path: PathName;
  round: number;
  load?: Load;
  /** TCP counters that moved during the run in the client's netns, and in the tasks' (summed). */
  client?: Counters;
  server?: Counters;
  /** The machine's CPUs busy during the load (0..1, all CPUs, whoever used them). */
  cpuBusy?: number;
  /** Network namespaces of other test beds seen just before or after the run: another program loading the same two CPUs. */
  neighbours?: number;
  /** TCP and UDP counters that moved in each host's netns (the agents' own sockets; h2's is also the mesh client's). */
  hosts?: Counters[];
  error?: string;
}

export interface ReportInput {
  o: LoadOptions & { rounds: number; paths: readonly PathName[] };
  mesh?: Mesh;
  runs: readonly Run[];
  setupError?: string;
  /** Lines about the daemons (warnings in their logs). */
  notes: readonly string[];
  elapsedS: number;
  /** os.loadavg()[0] when the bench started: another program busy on the VM shows here. */
  loadAtStart: number;
}

// A backend with less than this share of a run's answers is said: the mesh and the VIP pick per connection at random (nft numgen).
const UNEVEN_SHARE = 0.4;

const f = (x: number | undefined, digits: number) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const ratio = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined || !(y > 0) ? '-' : `${(x / y).toFixed(2)}x`);

function median(xs: readonly (number | undefined)[]): number | undefined {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m] : (v[m - 1]! + v[m]!) / 2;
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
}

function runLines(r: ReportInput, out: (s: string) => void, notes: string[]): void {
  const nodeOf = new Map((r.mesh?.tasks ?? []).map((t) => [t.name, t.node]));
  const w = [8, 5, 7, 7, 7, 7, 7, 7, 6, 6, 6, 7, 5, 13];
  out(row(['path', 'round', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p999 ms', 'max ms', '>200ms', '>1s', 'errors', 'SYN rtx', 'cpu%', 'answered by'], w));
  for (const run of r.runs) {
    const l = run.load;
    if (l === undefined) {
      out(`${run.path} round ${run.round}: failed (${run.error ?? '?'})`);
      continue;
    }
    const by = Object.entries(l.backends)
      .map(([name, n]) => [nodeOf.get(name) ?? name, n] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    out(row([run.path, `${run.round}${(run.neighbours ?? 0) > 0 ? '*' : ''}`, f(l.rps, 0), f(l.p50Ms, 2), f(l.p90Ms, 2), f(l.p99Ms, 2), f(l.p999Ms, 2), f(l.maxMs, 1), String(l.slow['over200Ms'] ?? 0), String(l.slow['over1000Ms'] ?? 0), String(l.errors), run.client === undefined ? '-' : String(run.client['TCPSynRetrans'] ?? 0), run.cpuBusy === undefined ? '-' : f(run.cpuBusy * 100, 0), by.map(([, n]) => n).join('/')], w));
    const name = `${run.path} round ${run.round}`;
    if ((run.neighbours ?? 0) > 0) notes.push(`${name}: ${run.neighbours} network namespaces of another test bed on the machine: a neighbour shared the CPUs, this run's numbers are suspect`);
    if (l.errors > 0) notes.push(`${name}: ${l.errors} failed requests: ${JSON.stringify(l.errorKinds)}`);
    if (l.warmup !== undefined && Object.keys(l.warmup.errorKinds).length > 0) notes.push(`${name}: warm-up errors ${JSON.stringify(l.warmup.errorKinds)}`);
    if (run.client !== undefined && Object.keys(run.client).length > 0) notes.push(`${name}: client's TCP counters moved: ${show(run.client)}`);
    if (run.server !== undefined && Object.keys(run.server).length > 0) notes.push(`${name}: tasks' TCP counters moved: ${show(run.server)}`);
    const hosts = (run.hosts ?? []).map((c, i) => (Object.keys(c).length === 0 ? '' : `h${i} ${show(c)}`)).filter((x) => x !== '');
    if (hosts.length > 0) notes.push(`${name}: counters moved in the hosts' netns (the agents' sockets${run.path === 'mesh' ? `, and h${CLIENT_HOST}'s client` : ''}): ${hosts.join('; ')}`);
    if (l.stoppedBy === 'time') notes.push(`${name}: stopped by --max-seconds after ${l.requests} of ${r.o.requests} requests`);
    if (by.length !== REPLICAS) notes.push(`${name}: answered by ${by.length} backends, expected ${REPLICAS}: ${JSON.stringify(l.backends)}`);
    else if (l.ok > 0 && by.some(([, n]) => n / l.ok < UNEVEN_SHARE)) notes.push(`${name}: uneven balance ${by.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  if (r.runs.some((x) => (x.neighbours ?? 0) > 0)) out('  * another test bed was on the machine during the run');
  if (r.runs.some((x) => x.load !== undefined)) out(`  answered by: ${[...new Set(r.mesh?.tasks.map((t) => t.node))].sort().join('/')}`);
}

function summaryLines(r: ReportInput, out: (s: string) => void): void {
  const of = (p: PathName) => r.runs.filter((x) => x.path === p && x.load !== undefined).map((x) => x.load!);
  const med = (p: PathName, k: 'rps' | 'p50Ms' | 'p99Ms' | 'maxMs') => median(of(p).map((l) => l[k]));
  const w = [8, 7, 7, 7, 7, 9];
  out(row(['median', 'req/s', 'p50 ms', 'p99 ms', 'max ms', '1/rate us'], w));
  for (const p of r.o.paths) {
    const rps = med(p, 'rps');
    out(row([p, f(rps, 0), f(med(p, 'p50Ms'), 2), f(med(p, 'p99Ms'), 2), f(med(p, 'maxMs'), 1), f(rps === undefined ? undefined : 1e6 / rps, 0)], w));
  }
  out('');
  out('ratios, median of rounds [per round] (req/s: below 1 is slower; latency: above 1 is slower)');
  const perRound = (p: PathName, q: PathName, k: 'rps' | 'p50Ms' | 'p99Ms') =>
    r.runs
      .filter((x) => x.path === p && x.load !== undefined)
      .map((x) => ratio(x.load![k], r.runs.find((y) => y.path === q && y.round === x.round)?.load?.[k]))
      .join(', ');
  const pairs: [PathName, PathName][] = [['mesh', 'direct']];
  if (r.o.paths.includes('vip')) pairs.push(['vip', 'direct'], ['mesh', 'vip']);
  for (const [p, q] of pairs) {
    const cells = (['rps', 'p50Ms', 'p99Ms'] as const).map((k) => `${k === 'rps' ? 'req/s' : k === 'p50Ms' ? 'p50' : 'p99'} ${ratio(med(p, k), med(q, k))} [${perRound(p, q, k)}]`);
    out(`  ${`${p} / ${q}`.padEnd(14)} ${cells.join(', ')}`);
  }
  const m = med('mesh', 'rps');
  const d = med('direct', 'rps');
  if (m !== undefined && d !== undefined && m > 0 && d > 0) {
    out(`  1/rate, medians: mesh ${f(1e6 / m, 0)} us, direct ${f(1e6 / d, 0)} us per request: the mesh adds ${f(1e6 / m - 1e6 / d, 0)} us (machine time when cpu% is ~100)`);
  }
}

export function report(r: ReportInput): string[] {
  const lines: string[] = [];
  const out = (s: string): void => void lines.push(s);
  const c = `h${CLIENT_HOST}`;
  out(`mesh bench: 3 test-bed hosts, one swarm (h0 manager, h1 h2 workers, AGENT_RAFT_TICK_MS=100), attachable overlay ${NETWORK}, service ${SERVICE}: ${REPLICAS} replicas of http-name.mjs off ${c}, on ${NETWORK} and -p ${PUBLISHED}:${TARGET}; ${cpus().length} CPUs, Linux ${release()}, node ${process.version}`);
  out(`the client is on ${c}, a node of the swarm with no task of ${SERVICE}: the mesh client (${c}'s host netns) and the direct client (an endpoint on ${NETWORK} on ${c}) run the same program on the same host, and both reach the same two tasks through ${c}'s agent and the overlay, so the ratio is the mesh's own cost; a client on a fourth host without an agent would add an underlay hop to the mesh side only, and could not reach the overlay at all`);
  out(`absolute numbers on a shared VM are noise: read the ratios (1-minute load average at the start: ${r.loadAtStart.toFixed(2)})`);
  if (r.mesh !== undefined) for (const p of r.o.paths) out(`  ${`${p}:`.padEnd(8)} ${r.mesh.targets[p]}`);
  out(`cpu%: the machine's CPUs busy during the run (all of them, whoever used them: at 100 the two CPUs are the bottleneck and 1/rate is machine time per request)`);
  out(`SYN rtx: SYNs the client's kernel sent again (a lost SYN or SYN-ACK costs 1 s, a SYN that met a TIME_WAIT at the task a reset and ~0 s); the notes list every counter of mesh-counters.ts that moved in the client's, the tasks' and the hosts' netns`);
  out(`each run: ${r.o.requests} HTTP GETs, each on a new TCP connection (the server closes it), ${r.o.concurrency} in flight, after ${r.o.warmup} not counted (and one uncounted pass of every path before round 1); at most ${r.o.maxSeconds} s, ${r.o.timeoutMs} ms per request; ${r.o.rounds} rounds, the order of the paths alternating`);
  if (r.setupError !== undefined) out(`setup failed: ${r.setupError}`);
  out('');
  const notes: string[] = [];
  if (r.runs.length > 0) {
    runLines(r, out, notes);
    out('');
    summaryLines(r, out);
    // On a shared VM another session's test bed often overlaps part of a run: the rounds it did not touch, alone.
    const dirty = new Set(r.runs.filter((x) => (x.neighbours ?? 0) > 0).map((x) => x.round));
    const clean = r.runs.filter((x) => !dirty.has(x.round));
    if (dirty.size > 0 && clean.length > 0) {
      out('');
      out(`the same over the ${new Set(clean.map((x) => x.round)).size} rounds with no other test bed on the machine (${[...new Set(clean.map((x) => x.round))].join(', ')}):`);
      summaryLines({ ...r, runs: clean }, out);
    }
  }
  for (const n of notes) out(`  note: ${n}`);
  const resets = (c: Counters | undefined) => (c?.['EstabResets'] ?? 0) + (c?.['TCPAbortOnData'] ?? 0) > 0;
  if (r.runs.some((x) => (x.path === 'mesh' && resets(x.client)) || (x.hosts ?? []).some(resets))) {
    out(`  (EstabResets, OutRsts, TCPAbortOnData 1 in a host's netns, h${CLIENT_HOST}'s included: the agents' gossip, whose push-pull dialer ends every exchange on 7946 with an RST, about one per node and peer every 30 s)`);
  }
  for (const n of r.notes) out(n);
  out(`run took ${r.elapsedS.toFixed(0)} s`);
  return lines;
}
