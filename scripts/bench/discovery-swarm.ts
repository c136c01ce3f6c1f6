// The swarm `npm run bench:discovery` measures: three real daemons in a
// three-host test bed (as test/e2e/fixtures/cluster.ts starts them: Raft tick
// 100 ms, dispatcher heartbeat 1 s), one manager and two workers, an overlay
// `benchnet`, and on it the service `web` (3 replicas), a `client` task on h0
// (the DNS load runs in it) and the global service `probe` (one task per
// node: the convergence witnesses). Every task is `sleep`: only names and
// rules are measured, never a payload.
//
// The daemons read an empty resolv.conf (AGENT_RESOLV_CONF): a name the
// resolver does not know (tasks.web at 0 replicas) gets SERVFAIL at once,
// and no query is ever forwarded out of the bed.
//
// startSwarm (daemons, init, joins) and the helpers below are also
// `npm run bench:mesh`'s (mesh-swarm.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskInspect } from '../../agent/api/types.js';
import type { AgentProcess, BedProcess, Host, TestBed } from '../../agent/testbed/index.js';

export const NETWORK = 'benchnet';
export const SERVICE = 'web';
export const CLIENT = 'client';
export const PROBE = 'probe';
export const START_REPLICAS = 3;
export const HEARTBEAT = '1s';
// Only the control plane runs faster, as in the e2e tests: elections and sessions in seconds.
const AGENT_ENV = { AGENT_RAFT_TICK_MS: '100' };
const READY_TIMEOUT_MS = 30_000;
const CLI_TIMEOUT_MS = 30_000;
const NODES_READY_MS = 30_000;
const TASKS_RUNNING_MS = 60_000;
const POLL_MS = 200;
// How often a bed process's log is read for its next line.
const LINE_POLL_MS = 20;
// Task states that are over (agent/swarm/orchestrator.ts TERMINAL_STATES).
export const TERMINAL = new Set(['complete', 'shutdown', 'failed', 'rejected', 'orphaned', 'remove']);

export interface Node {
  index: number;
  name: string;
  host: Host;
  proc: AgentProcess;
  /** `agent ARGS` against this daemon; rejects with one line (command, exit, stderr) unless it exits 0. */
  cli(args: readonly string[], timeoutMs?: number): Promise<string>;
  /** `agent exec TASK -- argv` as a bed process (output to its log file), for programs that report while they run. */
  spawnExec(task: string, argv: readonly string[]): BedProcess;
}

export interface Swarm {
  nodes: Node[];
  leader: Node;
  /** web's VIP on benchnet (no /len). */
  vip: string;
  /** The agent's resolver as a task's /etc/resolv.conf names it: the gwbridge gateway. */
  resolver: string;
  /** The client task (on h0). */
  client: { node: Node; task: string };
  /** One probe task per node, nodes' order. */
  probes: { node: Node; task: string }[];
}

/** Polls f every POLL_MS until it returns a value; throws after deadlineMs naming what it waited for and what it saw last. */
export async function until<T>(what: string, deadlineMs: number, f: () => Promise<T | undefined>, pollMs = POLL_MS): Promise<T> {
  const end = Date.now() + deadlineMs;
  let lastError = '';
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = (e as Error).message;
    }
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${lastError === '' ? '' : ` (last error: ${lastError})`}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export async function tasksOf(a: AgentProcess, service: string): Promise<TaskInspect[]> {
  const r = await a.api('GET', `/tasks?service=${encodeURIComponent(service)}`);
  if (r.status !== 200) throw new Error(`GET /tasks?service=${service}: ${r.status} ${r.body.trim()}`);
  return JSON.parse(r.body) as TaskInspect[];
}

/** n tasks running and none on its way (desired running, not running yet). */
export function allRunning(ts: readonly TaskInspect[], n: number): boolean {
  const live = ts.filter((t) => t.DesiredState === 'running');
  return live.length === n && live.every((t) => t.Status.State === 'running');
}

/** Every task over. */
export function allStopped(ts: readonly TaskInspect[]): boolean {
  return ts.every((t) => TERMINAL.has(t.Status.State));
}

function nodeOf(bed: TestBed, proc: AgentProcess, index: number): Node {
  const base = [...proc.agentCmd, '--host', `unix://${proc.socket}`];
  const name = `h${index}`;
  return {
    index,
    name,
    host: bed.hosts[index]!,
    proc,
    async cli(args, timeoutMs = CLI_TIMEOUT_MS) {
      const r = await proc.cli(args, { timeoutMs });
      if (r.code !== 0) {
        const why = `${r.stderr}\n${r.stdout}`.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
        throw new Error(`agent ${args.slice(0, 3).join(' ')} on ${name}: exit ${r.code}${why === '' ? '' : `: ${why}`}`);
      }
      return r.stdout;
    },
    spawnExec: (task, argv) => bed.spawn(bed.hosts[index]!, [...base, 'exec', task, '--', ...argv]),
  };
}

/** Waits until service has n tasks running and none on its way; returns them. */
export async function runningTasks(leader: Node, service: string, n: number): Promise<TaskInspect[]> {
  return until(`${n} running tasks of ${service}`, TASKS_RUNNING_MS, async () => {
    const ts = await tasksOf(leader.proc, service);
    return allRunning(ts, n) ? ts.filter((t) => t.DesiredState === 'running') : undefined;
  });
}

/**
 * One daemon per bed host (named h0, h1, ...), h0 `swarm init` (the leader),
 * the others joined as workers, until every node is Ready. The daemons read
 * an empty resolv.conf, so nothing is forwarded out of the bed.
 */
export async function startSwarm(bed: TestBed, agentCmd: readonly string[], say: (s: string) => void): Promise<{ nodes: Node[]; leader: Node }> {
  const resolvConf = join(bed.dir, 'empty-resolv.conf');
  writeFileSync(resolvConf, '# bench: no upstream resolver, nothing forwarded out of the bed\n');
  const env = { ...process.env, ...AGENT_ENV, AGENT_RESOLV_CONF: resolvConf };
  say(`  ${bed.hosts.length} daemons, swarm init + ${bed.hosts.length - 1} joins`);
  const procs = await Promise.all(
    bed.hosts.map((h, i) => bed.startAgent(h, { agentCmd, env, args: ['--hostname', `h${i}`], readyTimeoutMs: READY_TIMEOUT_MS })),
  );
  const nodes = procs.map((p, i) => nodeOf(bed, p, i));
  const leader = nodes[0]!;
  await leader.cli(['swarm', 'init', '--advertise-addr', leader.host.ip, '--dispatcher-heartbeat', HEARTBEAT]);
  const token = (await leader.cli(['swarm', 'join-token', '-q', 'worker'])).trim();
  for (const n of nodes.slice(1)) await n.cli(['swarm', 'join', '--token', token, '--advertise-addr', n.host.ip, `${leader.host.ip}:2377`]);
  await until(`${nodes.length} nodes Ready`, NODES_READY_MS, async () => {
    const rows = (await leader.cli(['node', 'ls', '--format', 'json'])).split('\n').filter((l) => l.trim() !== '');
    return rows.map((l) => JSON.parse(l) as { Status: string }).filter((r) => r.Status === 'Ready').length === nodes.length ? true : undefined;
  });
  return { nodes, leader };
}

export async function buildSwarm(bed: TestBed, agentCmd: readonly string[], taskLifeS: number, say: (s: string) => void): Promise<Swarm> {
  const { nodes, leader } = await startSwarm(bed, agentCmd, say);
  say(`  network ${NETWORK}; services ${SERVICE} (${START_REPLICAS} replicas), ${CLIENT} (on h0), ${PROBE} (global)`);
  await leader.cli(['network', 'create', '-d', 'overlay', NETWORK]);
  const sleep = ['sleep', String(taskLifeS)];
  await leader.cli(['service', 'create', '-d', '--name', SERVICE, '--replicas', String(START_REPLICAS), '--network', NETWORK, '--', ...sleep]);
  await leader.cli(['service', 'create', '-d', '--name', CLIENT, '--network', NETWORK, '--constraint', 'node.hostname==h0', '--', ...sleep]);
  await leader.cli(['service', 'create', '-d', '--name', PROBE, '--mode', 'global', '--network', NETWORK, '--', ...sleep]);
  await runningTasks(leader, SERVICE, START_REPLICAS);
  const [clientTask] = await runningTasks(leader, CLIENT, 1);
  const probeTasks = await runningTasks(leader, PROBE, nodes.length);
  const byHost = new Map(nodes.map((n) => [n.name, n]));
  const probes = probeTasks
    .map((t) => ({ node: byHost.get(t.NodeHostname), task: t.ContainerName }))
    .filter((p): p is { node: Node; task: string } => p.node !== undefined)
    .sort((a, b) => a.node.index - b.node.index);
  if (probes.length !== nodes.length) throw new Error(`probe tasks on ${probes.map((p) => p.node.name).join(', ')}: expected one on each of ${nodes.length} nodes`);
  const clientNode = byHost.get(clientTask!.NodeHostname);
  if (clientNode === undefined) throw new Error(`${CLIENT} task on unknown node ${JSON.stringify(clientTask!.NodeHostname)}`);
  const inspect = JSON.parse(await leader.cli(['service', 'inspect', SERVICE])) as { Endpoint?: { VirtualIPs?: { Addr: string }[] } }[];
  const vip = inspect[0]?.Endpoint?.VirtualIPs?.[0]?.Addr.split('/')[0];
  if (vip === undefined) throw new Error(`agent service inspect ${SERVICE}: no Endpoint.VirtualIPs`);
  const conf = await clientNode.cli(['exec', clientTask!.ContainerName, '--', 'cat', '/etc/resolv.conf']);
  const resolver = /^nameserver\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/m.exec(conf)?.[1];
  if (resolver === undefined) throw new Error(`${CLIENT}'s /etc/resolv.conf names no IPv4 nameserver: ${JSON.stringify(conf)}`);
  return { nodes, leader, vip, resolver, client: { node: clientNode, task: clientTask!.ContainerName }, probes };
}

/** The JSON objects among a file's lines (a bed process's log: the program's stdout and stderr). */
export function jsonLines(path: string): Record<string, unknown>[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: Record<string, unknown>[] = [];
  for (const l of text.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // a line cut off mid-write: read again on the next poll
    }
  }
  return out;
}

/** The first JSON line of p's log that pred accepts; rejects if p exits first or after deadlineMs, with the log's last line. */
export async function waitForLine(p: BedProcess, pred: (o: Record<string, unknown>) => boolean, deadlineMs: number, what: string): Promise<Record<string, unknown>> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const hit = jsonLines(p.logPath).find(pred);
    if (hit !== undefined) return hit;
    if (!p.running || Date.now() > end) {
      const last = readFileSync(p.logPath, 'utf8').trim().split('\n').at(-1) ?? '';
      throw new Error(`${what}: ${p.running ? `nothing after ${deadlineMs} ms` : 'exited'}${last === '' ? '' : `; its log ends ${JSON.stringify(last.slice(0, 300))}`}`);
    }
    await new Promise((r) => setTimeout(r, LINE_POLL_MS));
  }
}

/** The last JSON line of a program's stdout. */
export function lastJson(stdout: string): Record<string, unknown> {
  const l = stdout.trim().split('\n').filter((x) => x.startsWith('{')).at(-1);
  if (l === undefined) throw new Error(`no JSON line in ${JSON.stringify(stdout.slice(0, 300))}`);
  return JSON.parse(l) as Record<string, unknown>;
}
