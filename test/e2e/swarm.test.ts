// The control plane as a user drives it (issue 4): real daemons in test-bed
// hosts, `agent swarm init/join`, `agent node ls/rm`, join tokens, a man in
// the middle, a capture of the underlay, and restarts.
import { join } from 'node:path';
import { suite, ok, is, match, eventually } from '../harness.js';
import { TestBed, type AgentProcess, type Host } from '../../agent/testbed/index.js';

const AGENT = [process.execPath, join(process.cwd(), 'dist/agent.mjs')];
// Fast Raft and heartbeats, so fail-overs and "down" show within seconds.
const ENV = { AGENT_RAFT_TICK_MS: '100' };
const HEARTBEAT = '1s';

interface Ctx {
  bed?: TestBed;
  agents: AgentProcess[];
}

const t = suite('swarm');

/** A test bed of n hosts for one test; every agent and the bed go when it ends, pass or fail. */
async function withBed(n: number, fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const ctx: Ctx = { bed: await TestBed.create({ hosts: n }), agents: [] };
  try {
    await fn(ctx);
  } finally {
    await Promise.all(ctx.agents.filter((a) => a).map((a) => a.stop(2_000)));
    await ctx.bed!.destroy();
  }
}

async function start(ctx: Ctx, i: number): Promise<AgentProcess> {
  const h: Host = ctx.bed!.hosts[i]!;
  const a = await ctx.bed!.startAgent(h, { agentCmd: AGENT, env: ENV, args: ['--hostname', `h${i}`] });
  ctx.agents[i] = a;
  return a;
}

async function cli(a: AgentProcess, ...args: string[]): Promise<string> {
  const r = await a.cli(args);
  if (r.code !== 0) throw new Error(`agent ${args.join(' ')} on ${a.host.name}: exit ${r.code}: ${r.stderr.trim()} | log: ${a.logTail(5).join(' | ')}`);
  return r.stdout;
}

async function init(ctx: Ctx, a: AgentProcess, i: number): Promise<void> {
  const ip = ctx.bed!.hosts[i]!.ip;
  const out = await cli(a, 'swarm', 'init', '--advertise-addr', ip, '--dispatcher-heartbeat', HEARTBEAT);
  match(out, /Swarm initialized: current node \(\w+\) is now a manager\./);
}

async function token(a: AgentProcess, role: 'worker' | 'manager'): Promise<string> {
  return (await cli(a, 'swarm', 'join-token', '-q', role)).trim();
}

/** `node ls --format json`: docker's row objects, one per line. */
interface Row {
  ID: string;
  Self: boolean;
  Hostname: string;
  Status: string;
  Availability: string;
  ManagerStatus: string;
}

async function nodeLs(a: AgentProcess): Promise<Row[]> {
  const out = await cli(a, 'node', 'ls', '--format', 'json');
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Row);
}

async function readyCount(a: AgentProcess): Promise<number> {
  return (await nodeLs(a)).filter((r) => r.Status === 'Ready').length;
}

t('one manager and two workers join; node ls on the manager shows all three ready', () => withBed(3, async (ctx) => {
  const [m, w1, w2] = [await start(ctx, 0), await start(ctx, 1), await start(ctx, 2)];
  await init(ctx, m, 0);
  const tok = await token(m, 'worker');
  match(tok, /^AGTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
  const mgr = `${ctx.bed!.hosts[0]!.ip}:2377`;
  for (const [w, i] of [[w1, 1], [w2, 2]] as const) {
    const out = await cli(w, 'swarm', 'join', '--token', tok, '--advertise-addr', ctx.bed!.hosts[i]!.ip, mgr);
    is(out.trim(), 'This node joined a swarm as a worker.');
  }
  await eventually(async () => (await readyCount(m)) === 3, 15_000, 'three nodes ready');
  const rows = await nodeLs(m);
  is(rows.map((r) => r.Hostname).sort().join(','), 'h0,h1,h2');
  is(rows.find((r) => r.Hostname === 'h0')!.ManagerStatus, 'Leader');
  ok(rows.find((r) => r.Hostname === 'h0')!.Self);
  const table = await cli(m, 'node', 'ls');
  match(table, /^ID\s+HOSTNAME\s+STATUS\s+AVAILABILITY\s+MANAGER STATUS\s+ENGINE VERSION\n/);
  match(table, /\w+ \*\s+h0\s+Ready\s+Active\s+Leader/);
  // A worker cannot read the cluster state.
  const r = await w1.cli(['node', 'ls']);
  is(r.code, 1);
  match(r.stderr, /^agent: This node is not a swarm manager\. Worker nodes can't be used/);
}));

t.run();
