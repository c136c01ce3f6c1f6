// The measurements of `npm run bench:datapath`, the same for every path: a
// path is a pair of endpoints (a client that runs a program to completion, a
// server that keeps one running) and the server's address. Every program run
// here is bounded: iperf3 by -t and a kill timeout, ping by -c and -w,
// servers by coreutils `timeout`.
import type { RunResult } from '../../agent/host/run.js';
import type { BedProcess } from '../../agent/testbed/index.js';

export interface Pair {
  /** Address of the server endpoint, as the client reaches it. */
  serverIp: string;
  /** Runs argv to completion in the client endpoint; never rejects on a non-zero exit. */
  client(argv: readonly string[], timeoutMs: number): Promise<RunResult>;
  /** Starts argv as a long-running process in the server endpoint. */
  serve(argv: readonly string[]): BedProcess;
}

export interface Tcp {
  gbps: number;
  retransmits: number;
}

export interface UdpTrial {
  /** What -b asked for, packets/s; 0 = unlimited. */
  offeredPps: number;
  sentPps: number;
  /** Packets that arrived, per second of the test. */
  rxPps: number;
  lossPct: number;
}

export interface Udp {
  payloadBytes: number;
  /** Highest rate with loss <= LOSS_OK_PCT, packets/s that arrived; 0 when no trial passed. */
  pps: number;
  /** The passing rate is what iperf3 could send at all (the unlimited probe lost nothing). */
  senderBound: boolean;
  trials: UdpTrial[];
}

export interface Ping {
  sent: number;
  received: number;
  avgMs: number;
  p50Ms: number;
}

// The loss-free criterion.
export const LOSS_OK_PCT = 0.1;
// IPv4 20 + UDP 8: the largest payload that fits an MTU without fragments.
export const IPV4_UDP_HEADER_BYTES = 28;
// iperf3 sockets ask for what the relay and the agent ask for (DESIGN.md §3),
// so that a burst is lost in the path under test, not in iperf3's own socket.
const IPERF_SOCKET_BUFFER = '4M';
const IPERF_PORT = '5201';
// A new server, or one still closing its last test, refuses for a moment.
const IPERF_RETRY_MS = 10_000;
const IPERF_RETRY_GAP_MS = 200;
const IPERF_RETRYABLE = /unable to connect|connection refused|server is busy|unable to receive control message/i;
// Kill timeouts beyond a program's own duration: start-up, the control channel, the last report.
const RUN_SLACK_MS = 15_000;
const PING_COUNT = 200;
const PING_INTERVAL_S = '0.01';
// After the search: the rate bracket is this tight, or the trials run out.
const SEARCH_STOP_FRACTION = 0.05;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The p-th percentile (nearest rank) of samples; NaN for none. */
export function percentile(samples: readonly number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function oneLine(r: RunResult): string {
  const text = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('warning:'));
  return text ?? `exit ${r.code}`;
}

/** The MTU of the client endpoint's interface towards the server (never assumed). */
export async function pathMtu(p: Pair): Promise<number> {
  const route = await p.client(['ip', '-o', '-4', 'route', 'get', p.serverIp], 10_000);
  const dev = /\bdev (\S+)/.exec(route.stdout)?.[1];
  if (route.code !== 0 || dev === undefined) throw new Error(`ip route get ${p.serverIp}: ${oneLine(route)}`);
  const link = await p.client(['ip', '-o', 'link', 'show', 'dev', dev], 10_000);
  const mtu = Number(/\bmtu (\d+)/.exec(link.stdout)?.[1]);
  if (link.code !== 0 || !Number.isInteger(mtu)) throw new Error(`ip link show dev ${dev}: ${oneLine(link)}`);
  return mtu;
}

/** Resolves once one ping gets an answer (ARP/FDB warmed up), else throws at the deadline. */
export async function waitReachable(p: Pair, deadlineMs: number): Promise<void> {
  const end = performance.now() + deadlineMs;
  let last = '';
  for (;;) {
    const r = await p.client(['ping', '-c', '1', '-W', '1', p.serverIp], 5_000);
    if (r.code === 0) return;
    last = oneLine(r);
    if (performance.now() > end) throw new Error(`${p.serverIp} not reachable within ${deadlineMs} ms (last: ${last})`);
    await sleep(IPERF_RETRY_GAP_MS);
  }
}

/** An iperf3 server in the server endpoint that ends by itself after lifeS seconds. */
export function startIperfServer(p: Pair, lifeS: number): BedProcess {
  return p.serve(['timeout', String(Math.ceil(lifeS)), 'iperf3', '-s', '-p', IPERF_PORT]);
}

type Json = Record<string, unknown>;

function field(o: unknown, ...path: string[]): unknown {
  let cur = o;
  for (const k of path) cur = cur !== null && typeof cur === 'object' ? (cur as Json)[k] : undefined;
  return cur;
}

function num(o: unknown, ...path: string[]): number {
  const v = field(o, ...path);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`iperf3 -J: no number at ${path.join('.')}`);
  return v;
}

/** One iperf3 client run (-J), retried while the server is not (yet) accepting. */
async function iperf(p: Pair, args: readonly string[], seconds: number): Promise<Json> {
  const end = performance.now() + IPERF_RETRY_MS;
  for (;;) {
    const r = await p.client(['iperf3', '-c', p.serverIp, '-p', IPERF_PORT, '-J', ...args], seconds * 1000 + RUN_SLACK_MS);
    let out: Json | undefined;
    try {
      out = JSON.parse(r.stdout) as Json;
    } catch {
      out = undefined;
    }
    const err = typeof out?.error === 'string' ? out.error : r.code !== 0 || out === undefined ? oneLine(r) : undefined;
    if (err === undefined && out !== undefined) return out;
    if (!IPERF_RETRYABLE.test(err ?? '') || performance.now() > end) throw new Error(`iperf3 ${args.join(' ')}: ${err}`);
    await sleep(IPERF_RETRY_GAP_MS);
  }
}

/** One TCP stream for `seconds`, after 1 s of slow start left out (-O 1). */
export async function tcp(p: Pair, seconds: number): Promise<Tcp> {
  const j = await iperf(p, ['-t', String(seconds), '-O', '1'], seconds + 1);
  return { gbps: num(j, 'end', 'sum_received', 'bits_per_second') / 1e9, retransmits: num(j, 'end', 'sum_sent', 'retransmits') };
}

async function udpTrial(p: Pair, payloadBytes: number, offeredPps: number, seconds: number): Promise<UdpTrial> {
  const bps = Math.round(offeredPps * payloadBytes * 8);
  const j = await iperf(p, ['-u', '-b', String(bps), '-l', String(payloadBytes), '-w', IPERF_SOCKET_BUFFER, '-t', String(seconds)], seconds);
  const sent = num(j, 'end', 'sum_sent', 'packets');
  const lost = num(j, 'end', 'sum_received', 'lost_packets');
  const s = num(j, 'end', 'sum_received', 'seconds');
  return { offeredPps, sentPps: sent / s, rxPps: Math.max(0, sent - lost) / s, lossPct: sent > 0 ? (100 * lost) / sent : 100 };
}

/**
 * The highest offered UDP rate with <= 0.1% loss, in at most maxTrials iperf3
 * runs of trialS seconds: first unlimited (what gets through at saturation
 * brackets the answer), then just under the delivered rate, then bisection.
 */
export async function udpSearch(p: Pair, payloadBytes: number, trialS: number, maxTrials: number, say: (s: string) => void): Promise<Udp> {
  const trials: UdpTrial[] = [];
  const run = async (pps: number): Promise<UdpTrial> => {
    const t = await udpTrial(p, payloadBytes, pps, trialS);
    trials.push(t);
    const rate = pps === 0 ? 'unlimited' : `${(pps / 1e3).toFixed(1)}k pps`;
    say(`    udp ${payloadBytes} B at ${rate}: sent ${(t.sentPps / 1e3).toFixed(1)}k pps, loss ${t.lossPct.toFixed(3)}%`);
    return t;
  };
  const probe = await run(0);
  if (probe.lossPct <= LOSS_OK_PCT) return { payloadBytes, pps: probe.rxPps, senderBound: true, trials };
  let hi = probe.sentPps;
  let lo = 0;
  let best: UdpTrial | undefined;
  let next = probe.rxPps * 0.9;
  while (trials.length < maxTrials && next >= 1) {
    const t = await run(next);
    // A sender that could not reach the offer tested a lower rate than asked.
    const tested = Math.min(next, t.sentPps);
    if (t.lossPct <= LOSS_OK_PCT) {
      lo = tested;
      if (best === undefined || t.rxPps > best.rxPps) best = t;
    } else {
      hi = tested;
    }
    if (lo > 0 && (hi - lo) / hi < SEARCH_STOP_FRACTION) break;
    next = lo > 0 ? (lo + hi) / 2 : hi * 0.5;
  }
  return { payloadBytes, pps: best?.rxPps ?? 0, senderBound: false, trials };
}

/** 200 pings at 10 ms; avg and p50 of the answers. */
export async function ping(p: Pair): Promise<Ping> {
  const deadlineS = Math.ceil((PING_COUNT * Number(PING_INTERVAL_S)) + 10);
  const r = await p.client(['ping', '-n', '-c', String(PING_COUNT), '-i', PING_INTERVAL_S, '-W', '1', '-w', String(deadlineS), p.serverIp], deadlineS * 1000 + RUN_SLACK_MS);
  const rtts = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  if (rtts.length === 0) throw new Error(`ping ${p.serverIp}: ${oneLine(r)}`);
  return { sent: PING_COUNT, received: rtts.length, avgMs: rtts.reduce((a, b) => a + b, 0) / rtts.length, p50Ms: percentile(rtts, 50) };
}

/** The Udp: line pair of /proc/net/snmp as name -> value (the netns of whoever reads it). */
export function parseUdpSnmp(text: string): Map<string, number> {
  return parseSnmpSection(text, 'Udp');
}

/** One section's line pair (names, then values) of /proc/net/snmp or /proc/net/netstat (`Tcp`, `TcpExt`, ...) as name -> value. */
export function parseSnmpSection(text: string, section: string): Map<string, number> {
  const lines = text.split('\n').filter((l) => l.startsWith(`${section}: `));
  const [names, values] = [lines[0]?.split(/\s+/).slice(1) ?? [], lines[1]?.split(/\s+/).slice(1) ?? []];
  return new Map(names.map((n, i) => [n, Number(values[i])]));
}
