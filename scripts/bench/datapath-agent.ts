// Path (d) of `npm run bench:datapath`: the agent itself. Two real daemons in
// the test bed's hosts (as test/e2e/fixtures/cluster.ts starts them), a swarm
// of a manager and a worker, one attachable overlay, a task on each host, and
// the measurements run inside the tasks with `agent exec`. Any command that is
// missing or fails makes the whole path a Skip with one reason, so the
// reference paths still report.
import type { AgentProcess, TestBed } from '../../agent/testbed/index.js';
import { waitReachable, type Pair } from './datapath-measure.js';
import type { PathSetup } from './datapath-paths.js';

/** Path (d) cannot run; the message is the one-line reason. */
export class Skip extends Error {}

const NETWORK = 'benchnet';
// Long enough for any measurement of the run; the daemons end with the bed anyway.
const TASK_SLEEP_S = '600';
const CLI_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 30_000;
// The overlay needs the peer's endpoint gossiped before the first frame crosses.
const REACH_DEADLINE_MS = 20_000;
// Only the daemons' control plane runs faster (as in the e2e tests); the data path is untouched.
const AGENT_ENV = { AGENT_RAFT_TICK_MS: '100' };

async function cli(a: AgentProcess, args: readonly string[], timeoutMs = CLI_TIMEOUT_MS): Promise<string> {
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
async function overlayIp(a: AgentProcess, task: string, subnet: string): Promise<string> {
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

export async function agentPath(bed: TestBed, agentCmd: readonly string[], say: (s: string) => void): Promise<PathSetup> {
  const [h0, h1] = [bed.hosts[0]!, bed.hosts[1]!];
  const env = { ...process.env, ...AGENT_ENV };
  const start = async (i: 0 | 1) => {
    try {
      return await bed.startAgent(bed.hosts[i]!, { agentCmd, env, args: ['--hostname', `h${i}`], readyTimeoutMs: READY_TIMEOUT_MS });
    } catch (e) {
      throw new Skip((e as Error).message);
    }
  };
  const [a0, a1] = await Promise.all([start(0), start(1)]);
  say('  swarm init, join, network create, run');
  await cli(a0, ['swarm', 'init', '--advertise-addr', h0.ip]);
  const token = (await cli(a0, ['swarm', 'join-token', '-q', 'worker'])).trim();
  await cli(a1, ['swarm', 'join', '--token', token, '--advertise-addr', h1.ip, `${h0.ip}:2377`]);
  await cli(a0, ['network', 'create', '-d', 'overlay', '--attachable', NETWORK]);
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
    serve: (argv) => bed.spawn(h1, [...a1.agentCmd, '--host', `unix://${a1.socket}`, 'exec', 'e1', '--', ...argv]),
  };
  try {
    await waitReachable(pair, REACH_DEADLINE_MS);
  } catch (e) {
    throw new Skip(`e0 -> e1 over ${NETWORK}: ${(e as Error).message}`);
  }
  return { pair, countersNetns: [h0.netns, h1.netns], finish: async () => [] };
}
