// Paths (d) and (f) of `npm run bench:datapath`: the agent itself. Two real
// daemons in the test bed's hosts (as test/e2e/fixtures/cluster.ts starts
// them), a swarm of a manager and a worker, one attachable overlay (for (f)
// created with `--opt encrypted`), a task on each host, and the measurements
// run inside the tasks with `agent exec`. Any command that is missing or
// fails makes the whole path a Skip with one reason, so the reference paths
// still report.
//
// With `profile`, one daemon runs under `node --cpu-prof`; every CLI command
// still runs without it (its own, unprofiled agentCmd), so the profile
// directory only ever gets the daemon's profile, written when it exits on
// SIGTERM.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunOptions, type RunResult } from '../../agent/host/run.js';
import type { AgentProcess, TestBed } from '../../agent/testbed/index.js';
import { waitReachable, type Pair } from './datapath-measure.js';
import type { PathSetup } from './datapath-paths.js';

/** Path (d) cannot run; the message is the one-line reason. */
export class Skip extends Error {}

const NETWORK = 'benchnet';
// A daemon stopping (sockets, raft, gossip) and V8 writing the profile.
const PROFILED_STOP_GRACE_MS = 20_000;
// Long enough for any measurement of the run; the daemons end with the bed anyway.
const TASK_SLEEP_S = '600';
const CLI_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 30_000;
// The overlay needs the peer's endpoint gossiped before the first frame crosses.
const REACH_DEADLINE_MS = 20_000;
// Only the daemons' control plane runs faster (as in the e2e tests); the data path is untouched.
const AGENT_ENV = { AGENT_RAFT_TICK_MS: '100' };

/** The daemon and how to run its CLI: always the plain agentCmd, never the profiled one. */
interface Agent {
  proc: AgentProcess;
  host: { name: string };
  /** [...agentCmd, '--host', unix://socket] */
  base: readonly string[];
  cli(args: readonly string[], opts?: Omit<RunOptions, 'netns'>): Promise<RunResult>;
}

function agentOf(proc: AgentProcess, agentCmd: readonly string[]): Agent {
  const base = [...agentCmd, '--host', `unix://${proc.socket}`];
  return {
    proc,
    host: proc.host,
    base,
    cli: (args, opts = {}) => run([...base, ...args], { allowFail: true, ...opts, netns: proc.host.netns }),
  };
}

async function cli(a: Agent, args: readonly string[], timeoutMs = CLI_TIMEOUT_MS): Promise<string> {
  // The command's words (`network create`), for the reason.
  const first = args.findIndex((x) => x.startsWith('-'));
  const what = `agent ${args.slice(0, first < 0 ? 2 : Math.min(first, 2)).join(' ')} on ${a.host.name}`;
  let r;
  try {
    r = await a.cli(args, { timeoutMs });
  } catch (e) {
    throw new Skip(`${what}: ${(e as Error).message}`);
  }
  if (r.code !== 0) {
    // The CLI's one error line is on stderr; a program it ran may have said why on stdout.
    const why = `${r.stderr}\n${r.stdout}`.split('\n').find((l) => l.trim() !== '')?.trim();
    throw new Skip(`${what}: exit ${r.code}${why === undefined ? '' : `: ${why}`}`);
  }
  return r.stdout;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function inSubnet(ip: string, cidr: string): boolean {
  const [base, len] = cidr.split('/');
  const bits = Number(len);
  if (base === undefined || !Number.isInteger(bits)) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(ipv4ToInt(ip) / size) === Math.floor(ipv4ToInt(base) / size);
}

/** Every IPv4 address (without /len) anywhere in a JSON value. */
function ipv4s(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') {
    for (const m of v.matchAll(/\b(\d{1,3}(?:\.\d{1,3}){3})(?:\/\d{1,2})?\b/g)) out.push(m[1]!);
  } else if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) ipv4s(x, out);
  }
  return out;
}

/** The task's address on the overlay: from `inspect` if it shows one, else from inside the task. */
async function overlayIp(a: Agent, task: string, subnet: string): Promise<string> {
  let inspectErr: Skip | undefined;
  try {
    const text = await cli(a, ['inspect', task, '--format', 'json']);
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: its text is still searched for an address.
    }
    const ip = ipv4s(parsed).find((x) => inSubnet(x, subnet));
    if (ip !== undefined) return ip;
  } catch (e) {
    if (!(e instanceof Skip)) throw e;
    inspectErr = e;
  }
  const addrs = ipv4s(await cli(a, ['exec', task, '--', 'ip', '-o', '-4', 'addr', 'show']));
  const inside = addrs.find((ip) => inSubnet(ip, subnet));
  if (inside !== undefined) return inside;
  throw inspectErr ?? new Skip(`no address of ${task} in ${NETWORK} (${subnet}): neither inspect nor ip addr show one`);
}

export interface AgentPathOptions {
  /** Path (f): the overlay is created with `--opt encrypted`. */
  encrypted?: boolean;
  /** The overlay's MTU option (com.docker.network.driver.mtu); the default is the underlay's minus the overheads. */
  mtu?: number;
  /** Start host `host`'s daemon under `node --cpu-prof --cpu-prof-dir dir` (0: the sender of the tests, 1: the receiver). */
  profile?: { dir: string; host: 0 | 1; intervalUs: number };
}

export interface AgentPathSetup extends PathSetup {
  /** With options.profile: SIGTERM to the profiled daemon, resolves with the .cpuprofile it wrote. */
  stopProfiled?(): Promise<string>;
  /** With options.profile: datagrams the profiled daemon's secure plane sealed plus those it opened and delivered, so far. */
  profiledPackets?(): Promise<number>;
}

interface DiagSession {
  nodeId?: string;
  state?: string;
}

interface Diag {
  Unsealable?: number;
  Networks?: { VNI: number; Sessions?: DiagSession[] }[];
  Secure?: { drops?: Record<string, number>; sealed?: { packets: number }; delivered?: { packets: number } };
}

/** One line per daemon about the secure plane after the tests: sessions and every non-zero drop counter. */
async function secureNotes(agents: readonly Agent[]): Promise<string[]> {
  const lines: string[] = [];
  for (const a of agents) {
    if (!a.proc.running) continue;
    try {
      const d = JSON.parse((await a.proc.api('GET', '/diagnostic/datapath')).body) as Diag;
      const sessions = (d.Networks ?? []).flatMap((n) => (n.Sessions ?? []).map((s) => s.state ?? '?'));
      const drops = Object.entries(d.Secure?.drops ?? {}).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
      lines.push(`agent ${a.host.name} secure plane: sessions [${sessions.join(', ')}], drops ${drops.length === 0 ? 'none' : drops.join(', ')}, unsealable ${d.Unsealable ?? 0}`);
    } catch (e) {
      lines.push(`agent ${a.host.name} secure plane: no diagnostic (${(e as Error).message})`);
    }
  }
  return lines;
}

export async function agentPath(bed: TestBed, agentCmd: readonly string[], say: (s: string) => void, o: AgentPathOptions = {}): Promise<AgentPathSetup> {
  const [h0, h1] = [bed.hosts[0]!, bed.hosts[1]!];
  const env = { ...process.env, ...AGENT_ENV };
  const prof = o.profile;
  const profiledCmd = prof === undefined ? agentCmd : [agentCmd[0]!, '--cpu-prof', '--cpu-prof-dir', prof.dir, '--cpu-prof-interval', String(prof.intervalUs), ...agentCmd.slice(1)];
  const start = async (i: 0 | 1) => {
    try {
      const cmd = prof?.host === i ? profiledCmd : agentCmd;
      return agentOf(await bed.startAgent(bed.hosts[i]!, { agentCmd: cmd, env, args: ['--hostname', `h${i}`], readyTimeoutMs: READY_TIMEOUT_MS }), agentCmd);
    } catch (e) {
      throw new Skip((e as Error).message);
    }
  };
  const [a0, a1] = await Promise.all([start(0), start(1)]);
  say('  swarm init, join, network create, run');
  await cli(a0, ['swarm', 'init', '--advertise-addr', h0.ip]);
  const token = (await cli(a0, ['swarm', 'join-token', '-q', 'worker'])).trim();
  await cli(a1, ['swarm', 'join', '--token', token, '--advertise-addr', h1.ip, `${h0.ip}:2377`]);
  await cli(a0, ['network', 'create', '-d', 'overlay', '--attachable', ...(o.encrypted === true ? ['--opt', 'encrypted'] : []), ...(o.mtu !== undefined ? ['--opt', `com.docker.network.driver.mtu=${o.mtu}`] : []), NETWORK]);
  let subnet: string | undefined;
  try {
    const nets = JSON.parse(await cli(a0, ['network', 'inspect', NETWORK])) as { IPAM?: { Config?: { Subnet?: string }[] } }[];
    subnet = nets[0]?.IPAM?.Config?.[0]?.Subnet;
  } catch (e) {
    if (e instanceof Skip) throw e;
  }
  if (subnet === undefined) throw new Skip(`agent network inspect ${NETWORK}: no IPAM subnet`);
  await cli(a0, ['run', '-d', '--name', 'e0', '--network', NETWORK, '--', 'sleep', TASK_SLEEP_S]);
  await cli(a1, ['run', '-d', '--name', 'e1', '--network', NETWORK, '--', 'sleep', TASK_SLEEP_S]);
  const serverIp = await overlayIp(a1, 'e1', subnet);
  const pair: Pair = {
    serverIp,
    client: (argv, timeoutMs) => a0.cli(['exec', 'e0', '--', ...argv], { timeoutMs }),
    // Through the CLI of h1's daemon, tracked by the bed; the program inside carries its own `timeout`.
    serve: (argv) => bed.spawn(h1, [...a1.base, 'exec', 'e1', '--', ...argv]),
  };
  try {
    await waitReachable(pair, REACH_DEADLINE_MS);
  } catch (e) {
    throw new Skip(`e0 -> e1 over ${NETWORK}: ${(e as Error).message}`);
  }
  const setup: AgentPathSetup = {
    pair,
    countersNetns: [h0.netns, h1.netns],
    finish: async () => (o.encrypted === true ? secureNotes([a0, a1]) : []),
  };
  if (prof !== undefined) {
    const a = prof.host === 0 ? a0 : a1;
    setup.profiledPackets = async () => {
      const d = JSON.parse((await a.proc.api('GET', '/diagnostic/datapath')).body) as Diag;
      return (d.Secure?.sealed?.packets ?? 0) + (d.Secure?.delivered?.packets ?? 0);
    };
    setup.stopProfiled = async () => {
      const s = await a.proc.stop(PROFILED_STOP_GRACE_MS);
      // node names it CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; the dir holds only this daemon's.
      const mine = readdirSync(prof.dir).filter((f) => f.endsWith('.cpuprofile') && f.includes(`.${a.proc.pid}.`));
      if (mine.length === 0) throw new Error(`the profiled daemon (pid ${a.proc.pid}) ended with ${s.signal ?? `code ${s.code}`} and wrote no .cpuprofile in ${prof.dir}`);
      return join(prof.dir, mine.sort().at(-1)!);
    };
  }
  return setup;
}
