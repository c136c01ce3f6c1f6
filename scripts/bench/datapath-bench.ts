// Overlay data-path benchmark: endpoints on two test-bed hosts (network
// namespaces wired by a switch, underlay MTU 1400 as this machine's NIC),
// over six paths measured one after another in the same run, each in its
// own bed so no path sees another's sockets or devices:
//
//   (a) a direct veth between the two hosts: the machine's own baseline;
//   (b) plain kernel VXLAN between the hosts (VNI 42, port 4789);
//   (c) the agent's pipe design (DESIGN.md §3) with a minimal Node relay
//       (datapath-relay.ts) in place of the agent: the bar, agent >= 0.9x this;
//   (d) the agent: two daemons, a swarm, an attachable overlay, a task per
//       host; skipped with one line when a command it needs fails;
//   (e) (c) with the relay sealing and opening every frame with AES-256-GCM
//       as message 4 (DESIGN.md §4), a fixed key, no sessions, no replay
//       window: the least node:crypto costs on this path (MTU 1400-50-32);
//   (f) (d) with the overlay created `--opt encrypted` (issue 7).
//
// Per path: one TCP stream (iperf3), the highest UDP rate with <= 0.1% loss
// (a short bounded search over iperf3 -u -b) with the largest payload that
// fits the path's MTU (read from the client's route, never assumed), and 200
// pings at 10 ms. On a shared VM absolute numbers are noise; read the ratios.
//
// --profile runs only path (f), with host 0's daemon (the sender: it seals
// what iperf3 sends) under `node --cpu-prof` (--profile-side receiver: host
// 1's, which opens), runs the UDP search, stops that daemon with SIGTERM so it
// writes its profile, and prints its top self-time functions during the test.
//
//   node scripts/bench/datapath.mjs [--only a,b,c,d,e,f] [--seconds N] [--relay-buf-kib N]
//   node scripts/bench/datapath.mjs --profile [--profile-side sender|receiver] [--profile-dir DIR] [--seconds N]
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../agent/host/run.js';
import { TestBed } from '../../agent/testbed/index.js';
import { Skip, agentPath } from './datapath-agent.js';
import { profileLines, summarizeProfile } from './datapath-profile.js';
import {
  IPV4_UDP_HEADER_BYTES,
  LOSS_OK_PCT,
  parseUdpSnmp,
  pathMtu,
  ping,
  startIperfServer,
  tcp,
  udpSearch,
  waitReachable,
  type Ping,
  type Tcp,
  type Udp,
} from './datapath-measure.js';
import { directPath, kernelVxlanPath, relayPath, type PathSetup } from './datapath-paths.js';

type PathId = 'a' | 'b' | 'c' | 'd' | 'e' | 'f';
const PATH_IDS: readonly PathId[] = ['a', 'b', 'c', 'd', 'e', 'f'];
const PATH_NAMES: Record<PathId, string> = {
  a: 'direct veth',
  b: 'kernel vxlan',
  c: 'node relay + vxlan pipe',
  d: 'agent overlay',
  e: 'node aes-gcm relay + pipe',
  f: 'agent encrypted overlay',
};
const isAgent = (id: PathId) => id === 'd' || id === 'f';

// Issue 7's figures for the same test on this machine (not measured here): what (f) is held against.
const REFERENCES = [
  { name: 'wireguard-go', gbps: 0.33, kpps: 13.0, pingMs: 0.95 as number | undefined },
  { name: 'nebula (4 MiB buffers)', gbps: 0.53, kpps: 45.3, pingMs: 0.7 as number | undefined },
  { name: 'minimal AES relay', gbps: 0.28, kpps: 29.0, pingMs: undefined as number | undefined },
] as const;
const WIREGUARD_GO = REFERENCES[0];

interface Options {
  only: Set<PathId>;
  /** Length of the TCP test; each UDP trial lasts 0.4 of it (at least 1 s). */
  seconds: number;
  /** What the relay asks for per socket buffer: 4096 as the agent (DESIGN.md §3); 0 leaves the kernel default, to see what that costs. */
  relayBufKib: number;
  /** Profile one daemon of path (f) during the UDP test instead of the bench. */
  profile?: { side: 'sender' | 'receiver'; dir: string | undefined };
  /** (d) and (f) with `--opt com.docker.network.driver.mtu=N` (an overlay MTU above the underlay's: the kernel fragments the outer datagrams). */
  overlayMtu?: number;
}

export interface MainDeps {
  /** The bundled datapath-relay.ts (scripts/bench/datapath.mjs makes it). */
  relayScript: string;
}

interface Result {
  id: PathId;
  /** The test bed's underlay links. */
  underlayMtu?: number;
  /** The client endpoint's link towards the server. */
  mtu?: number;
  tcp?: Tcp;
  udp?: Udp;
  ping?: Ping;
  /** UDP receive-buffer drops (RcvbufErrors) in the hosts' netns during each test. */
  drops?: { tcp: number; udp: number; ping: number };
  notes: string[];
  /** Why the path has no numbers. */
  error?: string;
  skipped?: boolean;
}

// The UDP search: an unlimited probe plus at most this many more trials.
const UDP_TRIALS = 6;
const UDP_TRIAL_FRACTION = 0.4;
const REACH_DEADLINE_MS = 10_000;
const SERVER_LIFE_SLACK_S = 60;
// A safety net above the <= 5 min a full run (a-f) takes: exiting runs the test bed's exit-time cleanup.
const WATCHDOG_MS = 420_000;
// Self-time functions the profile report lists.
const PROFILE_TOP = 15;
// V8's sampling interval for --cpu-prof (its default is 1000 us): ~15 us per packet needs finer samples.
const PROFILE_INTERVAL_US = 250;
const BUILD_TIMEOUT_MS = 120_000;
const KIB = 1024;

const log = (line: string) => process.stderr.write(`${line}\n`);

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { only: new Set(PATH_IDS), seconds: 5, relayBufKib: 4096 };
  let side: 'sender' | 'receiver' | undefined;
  let dir: string | undefined;
  let only = false;
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!;
    if (key === '--profile') {
      o.profile = { side: 'sender', dir: undefined };
      i--; // a flag without a value
      continue;
    }
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${key}: expected a value`);
    if (key === '--profile-side') {
      if (v !== 'sender' && v !== 'receiver') throw new Error(`--profile-side: expected sender or receiver, got ${JSON.stringify(v)}`);
      side = v;
    } else if (key === '--profile-dir') {
      dir = v;
    } else if (key === '--only') {
      only = true;
      const ids = v.split(',').map((s) => s.trim());
      const bad = ids.filter((x) => !(PATH_IDS as readonly string[]).includes(x));
      if (bad.length > 0 || ids.length === 0) throw new Error(`--only: expected a comma-separated subset of ${PATH_IDS.join(',')}, got ${JSON.stringify(v)}`);
      o.only = new Set(ids as PathId[]);
    } else if (key === '--seconds') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 30) throw new Error(`--seconds: expected an integer from 1 to 30, got ${JSON.stringify(v)}`);
      o.seconds = n;
    } else if (key === '--relay-buf-kib') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65_536) throw new Error(`--relay-buf-kib: expected an integer from 0 (the kernel's default) to 65536, got ${JSON.stringify(v)}`);
      o.relayBufKib = n;
    } else if (key === '--overlay-mtu') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 576 || n > 65_000) throw new Error(`--overlay-mtu: expected an integer from 576 to 65000, got ${JSON.stringify(v)}`);
      o.overlayMtu = n;
    } else {
      throw new Error(`unknown argument ${key}; expected --only, --seconds, --relay-buf-kib, --overlay-mtu, --profile, --profile-side or --profile-dir`);
    }
  }
  if ((side !== undefined || dir !== undefined) && o.profile === undefined) throw new Error('--profile-side and --profile-dir go with --profile');
  if (o.profile !== undefined) {
    if (only) throw new Error('--profile runs path (f) only; leave out --only');
    o.profile = { side: side ?? 'sender', dir };
    o.only = new Set(['f']);
  }
  return o;
}

async function rcvbufErrors(netns: readonly string[]): Promise<number> {
  let sum = 0;
  for (const ns of netns) {
    const r = await run(['cat', '/proc/net/snmp'], { netns: ns, timeoutMs: 5_000 });
    sum += parseUdpSnmp(r.stdout).get('RcvbufErrors') ?? 0;
  }
  return sum;
}

function sysctl(name: string): string {
  try {
    return readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return '?';
  }
}

async function measure(id: PathId, setup: PathSetup, o: Options): Promise<Result> {
  const r: Result = { id, notes: [] };
  const p = setup.pair;
  const trialS = Math.max(1, Math.round(o.seconds * UDP_TRIAL_FRACTION));
  const lifeS = o.seconds + 1 + (UDP_TRIALS + 1) * trialS + SERVER_LIFE_SLACK_S;
  await waitReachable(p, REACH_DEADLINE_MS);
  r.mtu = await pathMtu(p);
  const server = startIperfServer(p, lifeS);
  try {
    const d0 = await rcvbufErrors(setup.countersNetns);
    log(`  tcp: one stream, ${o.seconds} s`);
    r.tcp = await tcp(p, o.seconds);
    const d1 = await rcvbufErrors(setup.countersNetns);
    const payload = r.mtu - IPV4_UDP_HEADER_BYTES;
    log(`  udp: <= ${LOSS_OK_PCT}% loss, ${payload}-byte payloads (MTU ${r.mtu} - ${IPV4_UDP_HEADER_BYTES}), trials of ${trialS} s`);
    r.udp = await udpSearch(p, payload, trialS, UDP_TRIALS + 1, log);
    const d2 = await rcvbufErrors(setup.countersNetns);
    log('  ping: 200 at 10 ms');
    r.ping = await ping(p);
    const d3 = await rcvbufErrors(setup.countersNetns);
    r.drops = { tcp: d1 - d0, udp: d2 - d1, ping: d3 - d2 };
  } finally {
    await server.stop(2_000);
  }
  return r;
}

async function runPath(id: PathId, o: Options, deps: MainDeps, agentCmd: readonly string[]): Promise<Result> {
  log(`(${id}) ${PATH_NAMES[id]}`);
  let bed: TestBed | undefined;
  let setup: PathSetup | undefined;
  try {
    bed = await TestBed.create({ hosts: 2 });
    const relay = { script: deps.relayScript, bufBytes: o.relayBufKib * KIB, maxSeconds: Math.ceil(WATCHDOG_MS / 1000) };
    if (id === 'a') setup = await directPath(bed);
    else if (id === 'b') setup = await kernelVxlanPath(bed);
    else if (id === 'c') setup = await relayPath(bed, relay);
    else if (id === 'e') setup = await relayPath(bed, { ...relay, sealed: true });
    else setup = await agentPath(bed, agentCmd, log, { encrypted: id === 'f', ...(o.overlayMtu !== undefined ? { mtu: o.overlayMtu } : {}) });
    const r = await measure(id, setup, o);
    r.underlayMtu = bed.hosts[0]!.mtu;
    r.notes.push(...(await setup.finish()));
    return r;
  } catch (e) {
    const msg = (e as Error).message;
    log(`  ${isAgent(id) ? 'skipped' : 'failed'}: ${msg}`);
    if (setup !== undefined) await setup.finish().catch(() => []);
    return { id, notes: [], error: msg, skipped: isAgent(id) || e instanceof Skip };
  } finally {
    await bed?.destroy();
  }
}

/** --profile: path (f) with one daemon under --cpu-prof, the UDP search, that daemon stopped, its profile summarized. */
async function runProfile(o: Options & { profile: NonNullable<Options['profile']> }, agentCmd: readonly string[]): Promise<string[]> {
  const side = o.profile.side;
  const dir = o.profile.dir ?? mkdtempSync(join(tmpdir(), 'datapath-cpuprof-'));
  log(`(f) ${PATH_NAMES.f}, ${side} daemon (host ${side === 'sender' ? 0 : 1}) under node --cpu-prof --cpu-prof-interval ${PROFILE_INTERVAL_US} --cpu-prof-dir ${dir}`);
  const bed = await TestBed.create({ hosts: 2 });
  try {
    const setup = await agentPath(bed, agentCmd, log, { encrypted: true, profile: { dir, host: side === 'sender' ? 0 : 1, intervalUs: PROFILE_INTERVAL_US } });
    const p = setup.pair;
    const trialS = Math.max(1, Math.round(o.seconds * UDP_TRIAL_FRACTION));
    await waitReachable(p, REACH_DEADLINE_MS);
    const mtu = await pathMtu(p);
    const payload = mtu - IPV4_UDP_HEADER_BYTES;
    const server = startIperfServer(p, (UDP_TRIALS + 1) * trialS + SERVER_LIFE_SLACK_S);
    let udp: Udp;
    let fromUs: number;
    let toUs: number;
    let packets: number;
    try {
      log(`  udp: <= ${LOSS_OK_PCT}% loss, ${payload}-byte payloads (MTU ${mtu} - ${IPV4_UDP_HEADER_BYTES}), trials of ${trialS} s`);
      const before = await setup.profiledPackets!();
      fromUs = Number(process.hrtime.bigint() / 1000n);
      udp = await udpSearch(p, payload, trialS, UDP_TRIALS + 1, log);
      toUs = Number(process.hrtime.bigint() / 1000n);
      packets = (await setup.profiledPackets!()) - before;
    } finally {
      await server.stop(2_000);
    }
    const notes = await setup.finish();
    log('  stopping the profiled daemon (SIGTERM)');
    const file = await setup.stopProfiled!();
    const lines = [
      `datapath profile: (f) ${PATH_NAMES.f}, the ${side}'s daemon under node --cpu-prof (sampling every ${PROFILE_INTERVAL_US} us) during the UDP search; ${cpus().length} CPUs, Linux ${release()}, node ${process.version}`,
      `udp: ${payload}-byte payloads (MTU ${mtu}), loss-free ${(udp.pps / 1e3).toFixed(1)}k pps${udp.senderBound ? ' (sender-bound)' : ''} under the profiler; ` +
        udp.trials.map((t) => `${t.offeredPps === 0 ? 'max' : `${(t.offeredPps / 1e3).toFixed(1)}k`}: sent ${(t.sentPps / 1e3).toFixed(1)}k, loss ${t.lossPct.toFixed(2)}%`).join('; '),
      `profile file: ${file}`,
      ...profileLines(summarizeProfile(file, { fromUs, toUs }), PROFILE_TOP, packets),
      ...notes,
    ];
    return lines;
  } finally {
    await bed.destroy();
  }
}

/** `node scripts/build.mjs --no-sea`, so path (d) runs the agent of this tree. */
async function buildAgent(root: string): Promise<readonly string[]> {
  const script = join(root, 'scripts/build.mjs');
  if (!existsSync(script)) throw new Skip(`no ${script}: run from the repository root (npm run bench:datapath)`);
  log('building dist/agent.mjs (node scripts/build.mjs --no-sea)');
  const r = await run([process.execPath, script, '--no-sea'], { timeoutMs: BUILD_TIMEOUT_MS, allowFail: true });
  if (r.code !== 0) throw new Skip(`build failed: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.code}`}`);
  return [process.execPath, join(root, 'dist/agent.mjs')];
}

// ---- the report ------------------------------------------------------------

const f = (x: number | undefined, digits: number) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const gbps = (x: number | undefined) => (x === undefined ? '-' : x < 1 ? x.toFixed(3) : x.toFixed(2));

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
}

function ratio(x: number | undefined, y: number | undefined): string {
  return x === undefined || y === undefined || !(y > 0) || !Number.isFinite(x) ? '-' : `${(x / y).toFixed(2)}x`;
}

function label(r: Result): string {
  return `(${r.id}) ${PATH_NAMES[r.id]}`;
}

function report(results: readonly Result[], o: Options, elapsedS: number): string[] {
  const lines: string[] = [];
  const out = (s: string): void => void lines.push(s);
  const by = new Map(results.map((r) => [r.id, r]));
  const underlays = [...new Set(results.map((r) => r.underlayMtu).filter((m) => m !== undefined))].join(', ');
  out(`datapath bench: 2 test-bed hosts (underlay MTU ${underlays || '-'}), paths one at a time in one run; ${cpus().length} CPUs, Linux ${release()}, node ${process.version}`);
  out(`tcp: iperf3, 1 stream, ${o.seconds} s after 1 s left out; udp: iperf3 -u, highest rate with <= ${LOSS_OK_PCT}% loss, payload = path MTU - 28; ping: 200 at 10 ms`);
  out('absolute numbers on a shared VM are noise: read the ratios');
  out('');
  const w = [30, 10, 6, 9, 8, 5, 8, 8];
  out(row(['path', 'TCP Gbit/s', 'retr', 'UDP kpps', 'payload', 'MTU', 'ping avg', 'ping p50'], w));
  out(row(['', '', '', '', 'B', '', 'ms', 'ms'], w));
  for (const r of results) {
    if (r.error !== undefined) {
      out(`${PATH_NAMES[r.id]}: ${r.skipped === true ? 'skipped' : 'failed'} (${r.error})`);
      continue;
    }
    const kpps = r.udp === undefined ? '-' : `${f(r.udp.pps / 1e3, 1)}${r.udp.senderBound ? '*' : ''}`;
    out(row([label(r), gbps(r.tcp?.gbps), f(r.tcp?.retransmits, 0), kpps, f(r.udp?.payloadBytes, 0), f(r.mtu, 0), f(r.ping?.avgMs, 3), f(r.ping?.p50Ms, 3)], w));
  }
  if (results.some((r) => r.udp?.senderBound === true)) out('* iperf3 could not send faster and nothing was lost: a lower bound, set by the sender');
  out('');
  out('ratios (TCP, UDP: higher is faster; ping: RTT ratio, higher is slower)');
  const rw = [12, 8, 9, 9];
  out(row(['', 'TCP', 'UDP pps', 'ping avg'], rw));
  const pairs: [PathId, PathId, string][] = [
    ['b', 'a', ''],
    ['c', 'a', ''],
    ['d', 'a', ''],
    ['c', 'b', '  the relay against plain kernel encapsulation'],
    ['d', 'b', ''],
    ['d', 'c', '  target: agent >= 0.90x the relay'],
    ['e', 'c', '  what AES-GCM per packet costs the minimal relay'],
    ['f', 'd', '  encrypted against plain overlay'],
    ['f', 'e', '  encrypted overlay against the minimal AES relay'],
  ];
  for (const [x, y, note] of pairs) {
    const rx = by.get(x);
    const ry = by.get(y);
    if (rx === undefined || ry === undefined) continue;
    let tail = note;
    if (x === 'd' && y === 'c' && rx.tcp !== undefined && ry.tcp !== undefined && rx.udp !== undefined && ry.udp !== undefined) {
      const met = rx.tcp.gbps >= 0.9 * ry.tcp.gbps && rx.udp.pps >= 0.9 * ry.udp.pps;
      tail += met ? ' (met)' : ' (NOT met)';
    }
    out(row([`(${x}) / (${y})`, ratio(rx.tcp?.gbps, ry.tcp?.gbps), ratio(rx.udp?.pps, ry.udp?.pps), ratio(rx.ping?.avgMs, ry.ping?.avgMs)], rw) + tail);
  }
  out('');
  const perPacket = results.filter((r) => r.udp !== undefined && r.udp.pps > 0).map((r) => `(${r.id}) ${(1e6 / r.udp!.pps).toFixed(1)} us${r.udp!.senderBound ? '*' : ''}`);
  if (perPacket.length > 0) out(`time per packet at the loss-free rate (1/rate): ${perPacket.join(', ')}`);
  out('');
  out('reference, issue 7 (same test on this machine, NOT measured by this run):');
  for (const ref of REFERENCES) {
    out(`  ${ref.name.padEnd(24)} ${ref.gbps.toFixed(2)} Gbit/s  ${ref.kpps.toFixed(1)}k pps${ref.pingMs === undefined ? '' : `  ping ${ref.pingMs.toFixed(2)} ms`}`);
  }
  const fr = by.get('f');
  if (fr?.tcp !== undefined && fr.udp !== undefined) {
    const tcpOk = fr.tcp.gbps >= WIREGUARD_GO.gbps;
    const ppsOk = fr.udp.pps / 1e3 >= WIREGUARD_GO.kpps;
    const tcpLine = `TCP ${gbps(fr.tcp.gbps)} vs ${WIREGUARD_GO.gbps} Gbit/s (${ratio(fr.tcp.gbps, WIREGUARD_GO.gbps)}) ${tcpOk ? 'passes' : 'does NOT pass'}`;
    if (o.overlayMtu !== undefined) {
      // Packet rates of big datagrams say nothing against wireguard-go's at 1420: only throughput is compared here.
      out(`  target at overlay MTU ${o.overlayMtu} (--overlay-mtu; wireguard-go's figures are at its default 1420): ${tcpLine}; UDP pps is judged at the default MTU (run without --overlay-mtu)`);
    } else {
      out(
        `  target: (f) passes wireguard-go: ${tcpLine}; ` +
          `UDP ${(fr.udp.pps / 1e3).toFixed(1)}k vs ${WIREGUARD_GO.kpps.toFixed(1)}k pps (${ratio(fr.udp.pps / 1e3, WIREGUARD_GO.kpps)}) ${ppsOk ? 'passes' : 'does NOT pass'}` +
          (tcpOk && ppsOk ? ' (met)' : ' (NOT met)'),
      );
    }
  }
  for (const r of results) {
    if (r.udp === undefined) continue;
    const steps = r.udp.trials.map((t) => `${t.offeredPps === 0 ? 'max' : `${(t.offeredPps / 1e3).toFixed(1)}k`}: sent ${(t.sentPps / 1e3).toFixed(1)}k, loss ${t.lossPct < 0.01 ? t.lossPct.toFixed(3) : t.lossPct.toFixed(2)}%`);
    out(`udp search (${r.id}): ${steps.join('; ')}`);
  }
  const drops = results.filter((r) => r.drops !== undefined).map((r) => `(${r.id}) ${r.drops!.tcp}/${r.drops!.udp}/${r.drops!.ping}`);
  if (drops.length > 0) out(`udp receive-buffer drops (RcvbufErrors) in the hosts' netns, tcp/udp/ping: ${drops.join(', ')}`);
  if (by.has('c') || by.has('e')) {
    out(`relay buffers: --relay-buf-kib ${o.relayBufKib}; net.core.rmem_max ${sysctl('net.core.rmem_max')}, wmem_max ${sysctl('net.core.wmem_max')}, rmem_default ${sysctl('net.core.rmem_default')}`);
  }
  for (const r of results) for (const n of r.notes) out(n);
  out(`run took ${elapsedS.toFixed(0)} s`);
  return lines;
}

export async function main(argv: string[], deps: MainDeps): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`bench:datapath: ${(e as Error).message}\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench:datapath: needs root (network namespaces): run as root\n');
    return 2;
  }
  const t0 = performance.now();
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench:datapath: still running after ${WATCHDOG_MS / 1000} s; giving up (the test beds are removed at exit)\n`);
    process.exit(1);
  }, WATCHDOG_MS);
  try {
    if (o.profile !== undefined) {
      try {
        const agentCmd = await buildAgent(process.cwd());
        const lines = await runProfile({ ...o, profile: o.profile }, agentCmd);
        process.stdout.write(`${lines.join('\n')}\nrun took ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
        return 0;
      } catch (e) {
        process.stderr.write(`bench:datapath --profile: ${(e as Error).message}\n`);
        return 1;
      }
    }
    const results: Result[] = [];
    let agentCmd: readonly string[] = [];
    let buildError: string | undefined;
    for (const id of PATH_IDS.filter((x) => o.only.has(x))) {
      if (isAgent(id) && agentCmd.length === 0) {
        try {
          if (buildError !== undefined) throw new Skip(buildError);
          agentCmd = await buildAgent(process.cwd());
        } catch (e) {
          buildError = (e as Error).message;
          log(`  ${PATH_NAMES[id]}: skipped (${buildError})`);
          results.push({ id, notes: [], error: buildError, skipped: true });
          continue;
        }
      }
      results.push(await runPath(id, o, deps, agentCmd));
    }
    process.stdout.write(`${report(results, o, (performance.now() - t0) / 1000).join('\n')}\n`);
    return results.some((r) => r.error !== undefined && r.skipped !== true) ? 1 : 0;
  } finally {
    clearTimeout(watchdog);
  }
}
