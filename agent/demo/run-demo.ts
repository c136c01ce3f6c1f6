// `agent demo`: a small cluster of namespace hosts on this machine showing
// every capability that exists, then a clean teardown. Each capability the
// project adds extends this walk-through.
import type { SystemInfo, VersionInfo } from '../api/types.js';
import { selfCommand } from '../self.js';
import { TestBed, listOurs, type AgentProcess, type Host } from '../testbed/index.js';

export interface DemoOptions {
  hosts: number;
  /** Keep the cluster up until Ctrl-C instead of tearing it down at once. */
  keep: boolean;
  out: (text: string) => void;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => '  ' + r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 2))).join('')).join('\n') + '\n';
}

async function reaches(bed: TestBed, from: Host, to: Host): Promise<boolean> {
  const r = await bed.exec(from, ['ping', '-c', '1', '-W', '1', to.ip], { allowFail: true });
  return r.code === 0;
}

async function pingMatrix(bed: TestBed): Promise<string> {
  const hs = bed.hosts;
  const cells = await Promise.all(hs.map((a) => Promise.all(hs.map((b) => (a === b ? Promise.resolve('-') : reaches(bed, a, b).then((ok) => (ok ? 'ok' : 'x')))))));
  return table([['', ...hs.map((h) => h.name)], ...hs.map((h, i) => [h.name, ...cells[i]!])]);
}

/** Run `agent ARGS` against a's daemon and show it as a user would see it. */
async function show(a: AgentProcess, args: string[], out: (t: string) => void, mayFail = args.includes('--token')): Promise<string> {
  const r = await a.cli(args);
  const text = (r.stdout + r.stderr).trimEnd();
  const shown = args.map((x) => (/[\s"$;|&]/.test(x) ? `'${x}'` : x)).join(' ');
  out(`\n${a.host.name}$ agent ${shown}\n${text.replace(/^/gm, '  ')}\n`);
  if (r.code !== 0 && !mayFail) throw new Error(`agent ${args.join(' ')} failed on ${a.host.name}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Gossip on 7946: membership as each node sees it, and a NetworkDB entry spreading through a network's group. */
async function gossipDemo(agents: AgentProcess[], out: (t: string) => void): Promise<void> {
  const view = async (a: AgentProcess): Promise<SystemInfo> => JSON.parse((await a.api('GET', '/info')).body) as SystemInfo;
  const end = performance.now() + 30_000;
  let views = await Promise.all(agents.map(view));
  while (performance.now() < end && !views.every((v) => (v.Swarm.Gossip?.Members ?? []).filter((x) => x.State === 'alive').length === agents.length)) {
    await new Promise<void>((r) => setTimeout(r, 250));
    views = await Promise.all(agents.map(view));
  }
  out('\nGossip on 7946 (SWIM, every packet AES-256-GCM under the rotating cluster keyring), as each node sees it:\n');
  out(
    table([
      ['HOST', 'GOSSIP ADDRESS', 'MEMBERS ALIVE', 'KEY GENERATIONS', 'DROPPED'],
      ...views.map((v, i) => {
        const g = v.Swarm.Gossip;
        const dropped = g ? g.Dropped.unknownKey + g.Dropped.badTag + g.Dropped.tooShort + g.Dropped.badVersion + g.Dropped.Malformed : 0;
        return [agents[i]!.host.name, g?.Addr ?? '-', `${(g?.Members ?? []).filter((x) => x.State === 'alive').length}/${agents.length}`, (g?.KeyGenerations ?? []).join(','), String(dropped)];
      }),
    ]),
  );
  if (agents.length < 2) return;
  const [a, b] = [agents[0]!, agents[agents.length - 1]!];
  for (const x of [a, b]) await x.api('POST', '/diagnostic/networkdb/join', { Network: 'demo-net', Endpoint: `ep-${x.host.name}` });
  await a.api('POST', '/diagnostic/networkdb/entry', { Network: 'demo-net', Table: 'peers', Key: '10.0.1.2', Value: `mac 02:42:0a:00:01:02 vtep ${a.host.name}` });
  const t0 = performance.now();
  let rows: { Key: string; Value: string; Owner: string }[] = [];
  while (performance.now() - t0 < 10_000 && rows.length === 0) {
    rows = JSON.parse((await b.api('GET', '/diagnostic/networkdb/table?network=demo-net&table=peers')).body) as typeof rows;
    if (rows.length === 0) await new Promise<void>((r) => setTimeout(r, 50));
  }
  out(`\nNetworkDB: ${a.host.name} and ${b.host.name} join network demo-net; an entry written on ${a.host.name} is on ${b.host.name} after ${Math.round(performance.now() - t0)} ms:\n`);
  out(table([['KEY', 'VALUE', 'OWNER'], ...rows.map((r) => [r.Key, r.Value, r.Owner])]));
}

/** The control plane: a swarm of every host, the first two managers, the rest workers. */
async function swarmDemo(bed: TestBed, agents: AgentProcess[], out: (t: string) => void): Promise<void> {
  const [m, ...rest] = agents as [AgentProcess, ...AgentProcess[]];
  out('\nA swarm: the first host initializes it, the second joins as a manager, the others as workers.\n');
  await show(m, ['swarm', 'init', '--advertise-addr', bed.hosts[0]!.ip, '--dispatcher-heartbeat', '1s'], out);
  const workerToken = (await m.cli(['swarm', 'join-token', '-q', 'worker'])).stdout.trim();
  const managerToken = (await m.cli(['swarm', 'join-token', '-q', 'manager'])).stdout.trim();
  const join = `${bed.hosts[0]!.ip}:2377`;
  for (const [i, a] of rest.entries()) {
    await show(a, ['swarm', 'join', '--token', i === 0 ? managerToken : workerToken, '--advertise-addr', bed.hosts[i + 1]!.ip, join], out);
  }
  const end = performance.now() + 20_000;
  while (performance.now() < end) {
    const r = await m.cli(['node', 'ls', '--format', 'json']);
    const ready = r.stdout.split('\n').filter((l) => l.includes('"Status":"Ready"')).length;
    if (ready === agents.length) break;
    await new Promise<void>((r2) => setTimeout(r2, 200));
  }
  await show(m, ['node', 'ls'], out);
  out('\nOverlay networks are swarm objects: subnets from the default pool 10.0.0.0/8, VNIs from 4096 (the data path comes next).\n');
  await show(rest[0] ?? m, ['network', 'create', '-d', 'overlay', '--attachable', 'demo-front'], out);
  await show(m, ['network', 'create', '-d', 'overlay', '--subnet', '172.28.0.0/16', '--gateway', '172.28.5.254', '--opt', 'encrypted', 'demo-back'], out);
  await show(m, ['network', 'ls'], out);
  await gossipDemo(agents, out);
  if (rest.length > 1) await overlayDemo(rest[0]!, rest[1]!, bed.hosts[2]!.ip, out);
  await serviceDemo(m, out);
  await discoveryDemo(m, agents, out);
  await meshDemo(bed, m, out);
  await observeDemo(bed, m, out);
  if (rest.length > 1) {
    const wrong = workerToken.slice(0, -5) + (workerToken.endsWith('00000') ? '11111' : '00000');
    out('\nA token with a wrong secret is refused, and nothing is half-joined:\n');
    await m.cli(['swarm', 'join-token', '--rotate', 'worker']);
    await show(rest[1]!, ['swarm', 'leave'], out);
    await show(rest[1]!, ['swarm', 'join', '--token', wrong, '--advertise-addr', bed.hosts[2]!.ip, join], out);
    out('\nThe worker token was rotated: the old one no longer works either.\n');
    await show(rest[1]!, ['swarm', 'join', '--token', workerToken, '--advertise-addr', bed.hosts[2]!.ip, join], out);
  }
}

/** Waits (bounded) until n tasks of the service run. */
async function runningTasks(m: AgentProcess, service: string, n: number): Promise<void> {
  const end = performance.now() + 20_000;
  while (performance.now() < end) {
    const r = await m.api('GET', `/tasks?service=${service}`);
    const ts = r.status === 200 ? (JSON.parse(r.body) as { DesiredState: string; Status: { State: string } }[]) : [];
    if (ts.filter((x) => x.DesiredState === 'running' && x.Status.State === 'running').length === n && !ts.some((x) => x.DesiredState === 'running' && x.Status.State !== 'running')) return;
    await new Promise<void>((r2) => setTimeout(r2, 200));
  }
}

/** A replicated service: tasks placed by the leader, each a process in its own namespace on some host. */
async function serviceDemo(m: AgentProcess, out: (t: string) => void): Promise<void> {
  out('\nA replicated service: the leader places 3 tasks over the nodes; each is a process in its own network namespace on demo-front.\n');
  await show(m, ['service', 'create', '-d', '--name', 'demo-web', '--replicas', '3', '--network', 'demo-front', '--', 'sh', '-c', 'echo "$(hostname) is up"; exec sleep 3600'], out);
  await runningTasks(m, 'demo-web', 3);
  await show(m, ['service', 'ls'], out);
  await show(m, ['service', 'ps', 'demo-web'], out);
  out('\nScaled to 5, then what each task wrote (its hostname is its task name):\n');
  await show(m, ['service', 'scale', '-d', 'demo-web=5'], out);
  await runningTasks(m, 'demo-web', 5);
  await show(m, ['service', 'ps', 'demo-web'], out);
  await show(m, ['service', 'logs', 'demo-web'], out);
  await show(m, ['service', 'rm', 'demo-web'], out);
}

/** A Node to run the demo's tiny HTTP servers with, when the agent runs on one (not Deno, not the single executable). */
function nodeForDemo(): string | undefined {
  const self = selfCommand();
  return (globalThis as { Deno?: unknown }).Deno === undefined && self.length === 2 ? self[0] : undefined;
}

/** Discovery: a client task finds a service by name at its VIP, and its requests spread over the tasks on every host. */
async function discoveryDemo(m: AgentProcess, agents: readonly AgentProcess[], out: (t: string) => void): Promise<void> {
  const node = nodeForDemo();
  const server = node
    ? [node, '-e', "require('http').createServer((q, s) => s.end(process.env.HOSTNAME + '\\n')).listen(8080)"]
    : ['sleep', '3600'];
  out('\nService discovery: tasks find each other by name through the agent\'s resolver (their resolv.conf names it, on the gwbridge gateway),\nand reach a service through its VIP, spread over its tasks on every host.\n');
  await show(m, ['service', 'create', '-d', '--name', 'demo-api', '--replicas', '3', '--network', 'demo-front', '--', ...server], out);
  await show(m, ['service', 'create', '-d', '--name', 'demo-client', '--network', 'demo-front', '--', 'sleep', '3600'], out);
  await runningTasks(m, 'demo-api', 3);
  await runningTasks(m, 'demo-client', 1);
  const r = await m.api('GET', '/tasks?service=demo-client');
  const client = (JSON.parse(r.body) as { ContainerName: string; NodeHostname: string; DesiredState: string }[]).find((x) => x.DesiredState === 'running');
  const host = agents.find((a) => a.host.name === client?.NodeHostname);
  if (!client || !host) return;
  const c = client.ContainerName;
  await show(host, ['exec', c, '--', 'cat', '/etc/resolv.conf'], out);
  await show(host, ['exec', c, '--', 'getent', 'hosts', 'demo-api'], out, true);
  await show(host, ['exec', c, '--', 'dig', '+short', 'tasks.demo-api'], out, true);
  if (node) {
    out('\nSix requests to http://demo-api:8080/ from the client, each a new connection through the VIP:\n');
    const get = "const http = require('http'); let n = 0; const one = () => http.get('http://demo-api:8080/', { agent: false }, (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => { console.log(b.trim()); if (++n < 6) one(); }); }); one();";
    await show(host, ['exec', c, '--', node, '-e', get], out, true);
  }
  await show(m, ['service', 'rm', 'demo-api', 'demo-client'], out);
}

/**
 * The routing mesh: a published port answers on every host, the ones
 * without a task too, and reaches the tasks on the others; curl through
 * each host's address from the host next to it.
 */
async function meshDemo(bed: TestBed, m: AgentProcess, out: (t: string) => void): Promise<void> {
  const node = nodeForDemo();
  if (!node) {
    out('\nThe routing mesh needs a small HTTP server to show; this demo runs without Node, so it is skipped here (agent demo on Node shows it).\n');
    return;
  }
  const replicas = Math.min(2, bed.hosts.length);
  out(`\nThe routing mesh: demo-pub publishes 8080 -> 80. Every host answers on 8080, the ones without a task too; each new connection\ngoes to one of the ${replicas} tasks on any host (the ingress network and a sandbox per host carry it).\n`);
  const server = [node, '-e', "require('http').createServer((q, s) => s.end(process.env.HOSTNAME + '\\n')).listen(80)"];
  await show(m, ['service', 'create', '-d', '--name', 'demo-pub', '--replicas', String(replicas), '-p', '8080:80', '--', ...server], out);
  await runningTasks(m, 'demo-pub', replicas);
  await show(m, ['service', 'ps', 'demo-pub'], out);
  const rows: string[][] = [['CURL FROM', 'TO', 'ANSWERED BY (3 requests, each a new connection)']];
  for (const [i, h] of bed.hosts.entries()) {
    const from = bed.hosts[(i + 1) % bed.hosts.length]!;
    const answers: string[] = [];
    const end = performance.now() + 10_000;
    while (answers.length < 3 && performance.now() < end) {
      const r = await bed.exec(from, ['curl', '-s', '--max-time', '2', `http://${h.ip}:8080/`], { allowFail: true });
      // demo-pub.2.<task id> -> demo-pub.2: which slot answered.
      if (r.code === 0 && r.stdout.trim() !== '') answers.push(r.stdout.trim().split('.').slice(0, 2).join('.'));
      else await new Promise<void>((r2) => setTimeout(r2, 200));
    }
    rows.push([from.name, `${h.name} ${h.ip}:8080`, answers.length > 0 ? answers.join(', ') : 'no answer']);
  }
  out('\n' + table(rows));
  await show(m, ['service', 'rm', 'demo-pub'], out);
}

/** What an operator watches: a node's health as the managers see it, and a node's Prometheus metrics. */
async function observeDemo(bed: TestBed, m: AgentProcess, out: (t: string) => void): Promise<void> {
  const other = bed.hosts[bed.hosts.length - 1]!;
  out(`\nObserving: the managers keep each node's last word on its data path and gossip (node inspect), and every agent serves\nPrometheus metrics (agent daemon --metrics-addr; here each host's address, port 9323).\n`);
  await show(m, ['node', 'inspect', '--pretty', other.name], out);
  const r = await bed.exec(bed.hosts[0]!, ['curl', '-s', '--max-time', '3', `http://${other.ip}:9323/metrics`], { allowFail: true });
  const picked = r.stdout.split('\n').filter((l) => /^agent_(build_info|swarm_local_node_state|gossip_members|gossip_key_generation|datapath_bytes_total|datapath_sessions|dns_queries_total|lb_flows_total)[{ ]/.test(l) && !/ 0$/.test(l));
  out(`\n${bed.hosts[0]!.name}$ curl -s http://${other.ip}:9323/metrics | grep ... (${r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length} series in all; some of them)\n${picked.slice(0, 16).map((l) => `  ${l}`).join('\n')}\n`);
}

/** Endpoints on two hosts talk over an overlay: addresses from the managers, frames as VXLAN through the agents; encrypted and internal overlays. */
async function overlayDemo(a: AgentProcess, b: AgentProcess, bAddress: string, out: (t: string) => void): Promise<void> {
  out(`\nStandalone endpoints on an attachable overlay: each runs in its own network namespace on ${a.host.name} and ${b.host.name}.\n`);
  await show(a, ['run', '-d', '--name', 'web', '--network', 'demo-front', '--', 'sleep', '3600'], out);
  await show(b, ['run', '-d', '--name', 'client', '--network', 'demo-front', '--', 'sleep', '3600'], out);
  await show(b, ['ps'], out);
  const web = JSON.parse(await show(a, ['inspect', '--format', 'json', 'web'], () => {})) as { NetworkSettings: { Networks: Record<string, { IPAddress: string; MTU: number }> } }[];
  const n = web[0]!.NetworkSettings.Networks['demo-front']!;
  out(`\nweb has ${n.IPAddress} on demo-front (MTU ${n.MTU}: the underlay link minus 50 for VXLAN). From client on ${b.host.name}:\n`);
  await show(b, ['exec', 'client', '--', 'ping', '-c', '3', '-i', '0.2', '-W', '2', n.IPAddress], out);
  out(`\nAn encrypted overlay (--opt encrypted): frames between nodes are sealed with AES-256-GCM in WireGuard-like sessions whose keys the managers rotate.\n`);
  await show(a, ['network', 'create', '-d', 'overlay', '--attachable', '--opt', 'encrypted', 'demo-secure'], out);
  await show(a, ['network', 'connect', 'demo-secure', 'web'], out);
  await show(b, ['network', 'connect', 'demo-secure', 'client'], out);
  const sec = JSON.parse(await show(a, ['inspect', '--format', 'json', 'web'], () => {})) as typeof web;
  const s = sec[0]!.NetworkSettings.Networks['demo-secure']!;
  out(`\nweb has ${s.IPAddress} on demo-secure (MTU ${s.MTU}: 32 bytes less for the encryption header and tag):\n`);
  await show(b, ['exec', 'client', '--', 'ping', '-c', '3', '-i', '0.2', '-W', '2', s.IPAddress], out);
  const end = performance.now() + 10_000;
  let peers: { Hostname: string; State: string; LastHandshake: string | null; TxBytes: number; RxBytes: number }[] = [];
  while (performance.now() < end) {
    const r = await a.cli(['network', 'inspect', 'demo-secure']);
    peers = (JSON.parse(r.stdout) as { Peers?: typeof peers }[])[0]?.Peers ?? [];
    if (peers.length >= 2 && peers.every((p) => p.State === 'up')) break;
    await new Promise<void>((r2) => setTimeout(r2, 300));
  }
  out(`\nThe sessions, as \`agent network inspect demo-secure\` reports them (Peers):\n`);
  out(table([['NODE', 'STATE', 'LAST HANDSHAKE', 'SENT', 'RECEIVED'], ...peers.map((p) => [p.Hostname, p.State, p.LastHandshake ?? '-', `${p.TxBytes} B`, `${p.RxBytes} B`])]));
  out(`\nAn internal overlay (--internal): its endpoints reach each other across hosts and nothing beyond it (no default route out;\nnames outside the swarm are not resolved for them). vault runs on ${a.host.name} on demo-vault only; client joins it from ${b.host.name}.\n`);
  await show(a, ['network', 'create', '-d', 'overlay', '--attachable', '--internal', 'demo-vault'], out);
  await show(a, ['run', '-d', '--name', 'vault', '--network', 'demo-vault', '--', 'sleep', '3600'], out);
  await show(b, ['network', 'connect', 'demo-vault', 'client'], out);
  const vault = JSON.parse(await show(a, ['inspect', '--format', 'json', 'vault'], () => {})) as typeof web;
  await show(a, ['exec', 'vault', '--', 'ip', '-4', 'route'], out);
  await show(b, ['exec', 'client', '--', 'ping', '-c', '2', '-i', '0.2', '-W', '2', vault[0]!.NetworkSettings.Networks['demo-vault']!.IPAddress], out);
  await show(a, ['exec', 'vault', '--', 'ping', '-c', '1', '-W', '2', bAddress], out, true);
  await show(a, ['rm', '-f', 'vault'], out);
  out(`\nRemoving an endpoint gives its address back to the managers (a node with endpoints on overlays cannot leave the swarm):\n`);
  await show(b, ['swarm', 'leave'], out, true);
  await show(b, ['rm', '-f', 'client'], out);
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const { out } = opts;
  const bed = await TestBed.create({ hosts: opts.hosts });
  try {
    out(`agent demo: ${opts.hosts} hosts, each a network namespace on one underlay switch (prefix ${bed.prefix})\n\n`);
    out(table([['HOST', 'NETNS', 'UNDERLAY ADDRESS', 'MTU'], ...bed.hosts.map((h) => [h.name, h.netns, h.ip, String(h.mtu)])]));

    out('\nStarting one agent daemon per host:\n');
    const cmd = selfCommand();
    // Each serves Prometheus metrics on its underlay address, docker's port (shown at the end).
    const agents: AgentProcess[] = await Promise.all(bed.hosts.map((h) => bed.startAgent(h, { agentCmd: cmd, args: ['--hostname', h.name, '--metrics-addr', `${h.ip}:9323`] })));
    const versions = await Promise.all(agents.map((a) => a.api('GET', '/version')));
    out(
      table([
        ['HOST', 'PID', 'RUNTIME', 'VERSION', 'API SOCKET'],
        ...agents.map((a, i) => {
          const v = JSON.parse(versions[i]!.body) as VersionInfo;
          return [a.host.name, String(a.pid), v.Runtime, v.Version, a.socket];
        }),
      ]),
    );
    const info = await agents[0]!.cli(['info']);
    out(`\n$ agent -H unix://${agents[0]!.socket} info\n${info.stdout.trimEnd().replace(/^/gm, '  ')}\n`);

    out('\nUnderlay reachability (ping from row to column):\n');
    out(await pingMatrix(bed));

    await swarmDemo(bed, agents, out);

    if (bed.hosts.length >= 3) {
      const [h0, h1, h2] = bed.hosts as [Host, Host, Host];
      await bed.partition([h0], bed.hosts.slice(1));
      const cut = await reaches(bed, h0, h1);
      const rest = await reaches(bed, h1, h2);
      await bed.heal();
      const back = await reaches(bed, h0, h1);
      out(`\nPartition {${h0.name}} | {${bed.hosts.slice(1).map((h) => h.name).join(', ')}}: ${h0.name}->${h1.name} ${cut ? 'still reachable (unexpected)' : 'blocked'}, ${h1.name}->${h2.name} ${rest ? 'ok' : 'blocked (unexpected)'}; healed: ${h0.name}->${h1.name} ${back ? 'ok' : 'blocked (unexpected)'}\n`);
    }

    out(
      '\nWhat you saw: agents on ' + bed.hosts.length + ' hosts formed a swarm over authenticated, encrypted channels (Raft among the managers on 2377),\n' +
        'gossiped on 7946 under a rotating keyring, carried overlay frames as VXLAN on 4789 (sealed with AES-256-GCM on the encrypted\n' +
        'overlay), kept an internal overlay from reaching out, ran services whose tasks found each other by name and reached each\n' +
        'other through VIPs, published a port that answered on every host (the routing mesh), and reported their health and metrics.\n' +
        '\nWhere to look next:\n' +
        '  docs/                     a page per plane: what it guarantees, its messages, its failure modes\n' +
        '  docs/install.md           curl -fsSL <base-url>/install.sh | sh on each machine of a fleet, run by systemd\n' +
        '  docs/metrics.md           the Prometheus series (agent daemon --metrics-addr 127.0.0.1:9323)\n' +
        '  agent demo --keep         keep this cluster up and try the commands yourself\n' +
        '  npm test; npm run bench:datapath, bench:discovery, bench:mesh\n',
    );
    if (opts.keep) {
      out(`\nThe cluster is up. Try: agent -H unix://${agents[0]!.socket} info\nPress Ctrl-C to tear it down.\n`);
      await new Promise<void>(() => {}); // the test bed's SIGINT/SIGTERM handler tears down and exits
    }
  } finally {
    await bed.destroy();
  }
  const left = await listOurs(bed.prefix);
  const n = left.netns.length + left.links.length + left.dirs.length;
  if (n > 0) {
    out(`\nTeardown left ${n} things behind: ${[...left.netns, ...left.links, ...left.dirs].join(', ')}\n`);
    return 1;
  }
  out(`\nTorn down: every agent stopped; no namespace, link or temp dir of ${bed.prefix} is left.\n`);
  return 0;
}
