// The swarm `npm run bench:mesh` measures: three real daemons in a three-host
// test bed (discovery-swarm.ts's startSwarm: h0 manager, h1 h2 workers), an
// attachable overlay `meshnet`, the service `web` (2 replicas of
// test/e2e/fixtures/http-name.mjs, kept off h2, on meshnet and published
// `-p 8080:80` through the ingress network), and on h2 two standalone
// endpoints on meshnet (`agent run --network meshnet`), `client` and
// `client-vip`.
//
// h2 is the client's host: it runs no task of web, so the mesh path (h2's
// own address, port 8080, from h2's host netns) and the direct path (the
// tasks' meshnet addresses, port 80, from the client endpoint) both leave h2
// through h2's agent and reach the same two tasks on h0 and h1 over the
// overlay. What differs is only the mesh: the host netns DNAT, the ingress
// sandbox's per-connection DNAT and masquerade, the ingress overlay.
import { join } from 'node:path';
import type { TestBed } from '../../agent/testbed/index.js';
import { lastJson, runningTasks, startSwarm, until, type Node } from './discovery-swarm.js';
import { COUNTERS_ARGV, parseCounters, type Counters } from './mesh-counters.js';

export const NETWORK = 'meshnet';
export const SERVICE = 'web';
export const CLIENT = 'client';
/** The VIP path's client: another endpoint, so that its connections and the direct path's never share a 4-tuple at a task (a TIME_WAIT left by one would cost the other a reset SYN). */
export const CLIENT_VIP = 'client-vip';
export const PUBLISHED = 8080;
export const TARGET = 80;
export const REPLICAS = 2;
/** The client's host: no task of web runs there. */
export const CLIENT_HOST = 2;
const SERVER = 'test/e2e/fixtures/http-name.mjs';
// The first connections through a path wait for the backends' records to be gossiped to every node.
const REACHABLE_MS = 30_000;
const PROBE_REQUESTS = 20;
// A Node CLI's start and teardown around a program's run (agent exec).
const EXEC_SLACK_MS = 30_000;

export type PathName = 'mesh' | 'direct' | 'vip';
export const PATHS: readonly PathName[] = ['mesh', 'direct', 'vip'];

/** mesh-load.ts's line. */
export interface Load {
  target: string;
  concurrency: number;
  requests: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  seconds: number;
  rps: number;
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  maxMs?: number;
  slow: Record<string, number>;
  stoppedBy: 'count' | 'time';
  backends: Record<string, number>;
  warmup?: { ok: number; errorKinds: Record<string, number>; seconds: number };
}

export interface LoadOptions {
  requests: number;
  concurrency: number;
  warmup: number;
  maxSeconds: number;
  timeoutMs: number;
}

export interface Mesh {
  nodes: Node[];
  leader: Node;
  client: Node;
  /** web's tasks: container name, node, meshnet address. */
  tasks: { name: string; node: string; address: string }[];
  /** web's VIP on meshnet. */
  vip: string;
  /** Each path's target, as said in the report. */
  targets: Record<PathName, string>;
  /** One load run over a path. */
  load(path: PathName, o: LoadOptions): Promise<Load>;
  /** The TCP counters of the netns a path's client runs in and of each task's; TCP and UDP of each host's (nodes' order). */
  counters(): Promise<{ client: Record<PathName, Counters>; tasks: Counters[]; hosts: Counters[] }>;
}

const plain = (cidr: string): string => cidr.split('/')[0]!;

/** Builds the swarm and the service; `started.nodes` is set as soon as the daemons are (for their logs, should a later step fail). */
export async function buildMesh(bed: TestBed, agentCmd: readonly string[], taskLifeS: number, loadScript: string, started: { nodes?: Node[] }, say: (s: string) => void): Promise<Mesh> {
  const { nodes, leader } = await startSwarm(bed, agentCmd, say);
  started.nodes = nodes;
  const client = nodes[CLIENT_HOST]!;
  say(`  network ${NETWORK} (attachable); service ${SERVICE}: ${REPLICAS} replicas off ${client.name}, -p ${PUBLISHED}:${TARGET}; endpoint ${CLIENT} on ${client.name}`);
  await leader.cli(['network', 'create', '-d', 'overlay', '--attachable', NETWORK]);
  const server = join(process.cwd(), SERVER);
  await leader.cli([
    'service', 'create', '-d', '--name', SERVICE, '--replicas', String(REPLICAS), '--constraint', `node.hostname!=${client.name}`,
    '--network', NETWORK, '-p', `${PUBLISHED}:${TARGET}`, '--', process.execPath, server, String(TARGET), String(taskLifeS),
  ]);
  for (const name of [CLIENT, CLIENT_VIP]) await client.cli(['run', '-d', '--name', name, '--network', NETWORK, '--', 'sleep', String(taskLifeS)]);
  const running = await runningTasks(leader, SERVICE, REPLICAS);
  const tasks = running.map((t) => {
    const address = t.NetworksAttachments.find((a) => a.Name === NETWORK)?.Addresses[0];
    if (address === undefined) throw new Error(`task ${t.ContainerName} has no address on ${NETWORK}: ${JSON.stringify(t.NetworksAttachments)}`);
    return { name: t.ContainerName, node: t.NodeHostname, address: plain(address) };
  });
  if (new Set(tasks.map((t) => t.node)).size !== REPLICAS || tasks.some((t) => t.node === client.name)) {
    throw new Error(`${SERVICE}'s tasks on ${tasks.map((t) => t.node).join(', ')}: expected ${REPLICAS} different nodes other than ${client.name}`);
  }
  const net = JSON.parse(await leader.cli(['network', 'inspect', NETWORK])) as { Id: string }[];
  const svc = JSON.parse(await leader.cli(['service', 'inspect', SERVICE])) as { Endpoint?: { VirtualIPs?: { NetworkID: string; Addr: string }[] } }[];
  const vipCidr = svc[0]?.Endpoint?.VirtualIPs?.find((v) => v.NetworkID === net[0]?.Id)?.Addr;
  if (vipCidr === undefined) throw new Error(`agent service inspect ${SERVICE}: no VIP on ${NETWORK} in ${JSON.stringify(svc[0]?.Endpoint?.VirtualIPs)}`);
  const vip = plain(vipCidr);

  const hostsOf: Record<PathName, { hosts: string[]; port: number }> = {
    mesh: { hosts: [client.host.ip], port: PUBLISHED },
    direct: { hosts: tasks.map((t) => t.address), port: TARGET },
    vip: { hosts: [vip], port: TARGET },
  };
  const load = async (path: PathName, o: LoadOptions): Promise<Load> => {
    const { hosts, port } = hostsOf[path];
    const argv = [
      process.execPath, loadScript, '--hosts', hosts.join(','), '--port', String(port), '--requests', String(o.requests), '--concurrency', String(o.concurrency),
      '--warmup', String(o.warmup), '--max-seconds', String(o.maxSeconds), '--timeout-ms', String(o.timeoutMs),
    ];
    const timeoutMs = o.maxSeconds * 1000 + o.timeoutMs + EXEC_SLACK_MS;
    if (path === 'mesh') {
      const r = await bed.exec(client.host, argv, { timeoutMs, allowFail: true });
      if (r.code !== 0) throw new Error(`mesh-load in ${client.name}'s netns: exit ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
      return lastJson(r.stdout) as unknown as Load;
    }
    return lastJson(await client.cli(['exec', path === 'vip' ? CLIENT_VIP : CLIENT, '--', ...argv], timeoutMs)) as unknown as Load;
  };

  // Both tasks answer, with no error, through every path before anything is measured.
  for (const path of PATHS) {
    await until(`${path}: both tasks answering from ${client.name}`, REACHABLE_MS, async () => {
      const l = await load(path, { requests: PROBE_REQUESTS, concurrency: 1, warmup: 0, maxSeconds: 10, timeoutMs: 2_000 });
      return l.errors === 0 && Object.keys(l.backends).length === REPLICAS ? true : undefined;
    });
  }
  const targets: Record<PathName, string> = {
    mesh: `${client.host.ip}:${PUBLISHED} (${client.name}'s own address, from its host netns; ${client.name} runs no task)`,
    direct: `${tasks.map((t) => `${t.address}:${TARGET}`).join(' + ')} (the tasks' ${NETWORK} addresses, round-robin, from endpoint ${CLIENT} on ${client.name})`,
    vip: `${vip}:${TARGET} (web's VIP on ${NETWORK}, from endpoint ${CLIENT_VIP} on ${client.name})`,
  };
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const counters = async () => {
    const [endpoint, endpointVip, ...rest] = await Promise.all([
      client.cli(['exec', CLIENT, '--', ...COUNTERS_ARGV]),
      client.cli(['exec', CLIENT_VIP, '--', ...COUNTERS_ARGV]),
      ...nodes.map((n) => bed.exec(n.host, [...COUNTERS_ARGV]).then((r) => r.stdout)),
      ...tasks.map((t) => byName.get(t.node)!.cli(['exec', t.name, '--', ...COUNTERS_ARGV])),
    ]);
    const hosts = rest.slice(0, nodes.length);
    return {
      client: { mesh: parseCounters(hosts[CLIENT_HOST]!, 'tcp'), direct: parseCounters(endpoint, 'tcp'), vip: parseCounters(endpointVip, 'tcp') },
      tasks: rest.slice(nodes.length).map((t) => parseCounters(t, 'tcp')),
      hosts: hosts.map((h) => ({ ...parseCounters(h, 'tcp'), ...parseCounters(h, 'udp') })),
    };
  };
  return { nodes, leader, client, tasks, vip, targets, load, counters };
}
