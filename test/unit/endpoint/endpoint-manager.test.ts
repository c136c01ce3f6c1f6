// Standalone endpoints (agent/endpoint/endpoint-manager.ts) through their
// public API, without root, on the test bed of endpoint-bed.ts: FakePlumbing
// models the host, a real DataPlane runs over in-memory datagram networks,
// the records file lives in memorySecretFiles, the processes are a fake
// ProcessRunner, and the managers are a fake SwarmSide with a small IPAM of
// its own. Every operation either completes or leaves nothing behind
// (docs/data-plane.md).
import { join } from 'node:path';
import { suite, is, ok, equal, match } from '../../harness.js';
import { ApiError, UsageError } from '../../../shared/errors.js';
import { seededRand } from '../../../shared/rand.js';
import { DataPlane } from '../../../agent/datapath/data-plane.js';
import type { FakeLink } from '../../../agent/datapath/plumbing.js';
import { EndpointManager, GWBRIDGE, TaskStartError } from '../../../agent/endpoint/endpoint-manager.js';
import type { AssignedTask } from '../../../agent/swarm/service-views.js';
import { ENDPOINTS_FILE, decodeEndpoints, encodeEndpoints } from '../../../agent/endpoint/endpoint-state.js';
import { summaryView } from '../../../agent/endpoint/endpoint-views.js';
import { RemoteError } from '../../../agent/swarm/rpc.js';
import { PREFIX, UNDERLAY_MTU, VTEP, failure, node as bootNode, quiet, removeTempDirs, type Node } from './endpoint-bed.js';

const t = suite('endpoint/endpoint-manager');
const SEED = Number(process.env.TEST_SEED ?? 0xe9d9);
t.after(removeTempDirs);
const node = () => bootNode(SEED);

const epNetns = (id: string) => `${PREFIX}-e${id.slice(0, 12)}`;
const sbNetns = (vni: number) => `${PREFIX}-n${vni}`;
const sbLink = (id: string) => `v${id.slice(0, 12)}`;
const gwLink = (id: string) => `ag-g${id.slice(0, 10)}`;
const names = (links: FakeLink[] | undefined) => (links ?? []).map((l) => l.name);
/** The plumbing a node holds besides the gwbridge (which stays once made, as docker_gwbridge does). */
const leftovers = (n: Node) => ({ netns: n.plumbing.netnsNames(), host: names(n.plumbing.host().links).filter((l) => l !== 'lo' && l !== GWBRIDGE) });

// ---- run -------------------------------------------------------------------------------------

t('run with two networks: the endpoint netns, an isolated gw interface, a sandbox and an overlay interface per network', async () => {
  const n = await node();
  const { Id: id, Warnings } = await n.run('web', ['front', 'back']);
  equal(Warnings, []);
  match(id, /^[0-9a-z]{25}$/);
  equal(n.plumbing.netnsNames(), [epNetns(id), sbNetns(4097), sbNetns(4098)]);
  // Endpoint side: lo, eth-gw (default route via the gwbridge), eth0 on front, eth1 on back.
  const ep = n.plumbing.netns(epNetns(id))!;
  equal(names(ep.links), ['eth-gw', 'eth0', 'eth1', 'lo']);
  is(ep.defaultRoute, '172.18.0.1');
  equal(n.link(epNetns(id), 'eth-gw')!.addrs, ['172.18.0.2/16']);
  const eth0 = n.link(epNetns(id), 'eth0')!;
  equal({ addrs: eth0.addrs, mac: eth0.mac, mtu: eth0.mtu, peer: eth0.peer }, { addrs: ['10.0.1.2/24'], mac: '02:42:0a:00:01:02', mtu: UNDERLAY_MTU - 50, peer: `${sbNetns(4097)}/${sbLink(id)}` });
  const eth1 = n.link(epNetns(id), 'eth1')!;
  equal({ addrs: eth1.addrs, mac: eth1.mac, mtu: eth1.mtu, peer: eth1.peer }, { addrs: ['10.0.2.2/24'], mac: '02:42:0a:00:02:02', mtu: 1300, peer: `${sbNetns(4098)}/${sbLink(id)}` });
  equal(n.mtuAsked, [VTEP], 'the underlay MTU is asked only for the network without one');
  // Host side: the gwbridge and the endpoint's isolated port on it.
  const gw = n.hostLink(gwLink(id))!;
  equal({ master: gw.master, isolated: gw.isolated, peer: gw.peer }, { master: GWBRIDGE, isolated: true, peer: `${epNetns(id)}/eth-gw` });
  equal(n.plumbing.host().nat, { agent_nat: { subnet: '172.18.0.0/16', bridge: GWBRIDGE } });
  // Sandbox side: the endpoint's port on br0 at the network's MTU.
  const port = n.link(sbNetns(4097), sbLink(id))!;
  equal({ master: port.master, mtu: port.mtu }, { master: 'br0', mtu: 1350 });
  is(n.link(sbNetns(4098), 'vx0')!.mtu, 1300);
  // The managers were asked once per network, for this endpoint's task.
  equal(n.swarm.attaches, [
    { taskId: id, name: 'web', network: 'front' },
    { taskId: id, name: 'web', network: 'back' },
  ]);
  equal(n.swarm.holding(id), { front: '10.0.1.2/24', back: '10.0.2.2/24' });
  // The command runs in the endpoint's netns, its log and exit code under the state dir.
  equal(n.processes.started, [
    { netns: epNetns(id), argv: ['sleep', 'inf'], logPath: join(n.stateDir, 'endpoints', `${id}.log`), exitPath: join(n.stateDir, 'endpoints', `${id}.exit`), resolvConf: 'nameserver 172.18.0.1\n', pid: 4000 },
  ]);
  // Its names, once it runs: DNS records on both networks.
  equal(n.names, [`+ net1 ${id.slice(0, 6)} web 10.0.1.2`, `+ net2 ${id.slice(0, 6)} web 10.0.2.2`]);
  const r = n.m.find('web');
  equal({ id: r.id, pid: r.pid, gw: r.gw, nets: r.networks.map((x) => `${x.name} ${x.ifname} ${x.address} ${x.mtu}`) }, {
    id,
    pid: 4000,
    gw: { address: '172.18.0.2/16', gateway: '172.18.0.1', hostLink: gwLink(id) },
    nets: ['front eth0 10.0.1.2/24 1350', 'back eth1 10.0.2.2/24 1300'],
  });
  // A second endpoint: next gw address, next overlay address, the same sandboxes.
  const two = (await n.run(undefined, ['front'], '10.0.1.50')).Id;
  equal(n.link(epNetns(two), 'eth0')!.addrs, ['10.0.1.50/24']);
  equal(n.link(epNetns(two), 'eth-gw')!.addrs, ['172.18.0.3/16']);
  is(n.m.find(two).name, two.slice(0, 12), 'no --name: the short id');
  is(n.ops().filter((o) => o === 'createSandbox').length, 2);
  await n.close();
});

t("publish: the data plane's forwarder has the endpoint as a local peer of its VNI, until it is removed", async () => {
  const n = await node();
  const { Id: id } = await n.run('web', ['front', 'back']);
  equal(n.data.forwarder.peers(4097), [{ ip: '10.0.1.2', mac: '02:42:0a:00:01:02', vtep: VTEP }]);
  equal(n.data.forwarder.peers(4098), [{ ip: '10.0.2.2', mac: '02:42:0a:00:02:02', vtep: VTEP }]);
  equal(n.data.forwarder.lookupMac(4097, '02:42:0a:00:01:02'), { key: id, local: true, ip: '10.0.1.2', mac: '02:42:0a:00:01:02', vtep: VTEP });
  n.processes.exit(4000, 0);
  await n.m.remove('web', false);
  equal(n.data.forwarder.peers(4097), []);
  equal(n.data.forwarder.vnis(), []);
  await n.close();
});

t('the records file round-trips: a new manager loading it sees the same endpoints and pipes', async () => {
  const n = await node();
  await n.run('web', ['front', 'back']);
  await n.run('db', ['back']);
  const f = n.files.get(join(n.stateDir, ENDPOINTS_FILE))!;
  is(f.mode, 0o600);
  equal(n.file()!.endpoints, [...n.m.records]);
  equal(n.file()!.pipes, { '4097': 0, '4098': 1 });
  const other = new DataPlane({ udp: n.udp, plumbing: n.plumbing, namePrefix: PREFIX, log: quiet });
  const again = new EndpointManager({
    stateDir: n.stateDir, io: n.io, namePrefix: PREFIX, swarm: () => n.swarm, data: other, plumbing: n.plumbing,
    processes: n.processes, underlayMtu: async () => UNDERLAY_MTU, clock: n.clock, rand: seededRand(1), log: quiet,
  });
  again.load();
  equal(again.records, n.m.records);
  equal(again.pipes, { '4097': 0, '4098': 1 });
  equal(other.pipeRecord(), { '4097': 0, '4098': 1 }, 'load hands the pipes to the data plane');
  is(again.find('db').networks[0]!.ifname, 'eth0');
  await other.close();
  await n.close();
});

t('run -p (issue 10): the ports kept on the record in store form, saved and read back; none, no field; no network needed', async () => {
  const n = await node();
  const ports = [
    { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080 },
    { Protocol: 'udp', TargetPort: 80, PublishedPort: 8080 },
    { Protocol: 'sctp', TargetPort: 9000, PublishedPort: 9000 },
  ] as const;
  const { Id: web } = await n.m.run({ Name: 'web', Networks: [], Cmd: ['sleep', 'inf'], Ports: [...ports] });
  const { Id: db } = await n.m.run({ Name: 'db', Networks: ['front'], Cmd: ['sleep', 'inf'], Ports: [] });
  const stored = [
    { protocol: 'tcp', target: 80, published: 8080 },
    { protocol: 'udp', target: 80, published: 8080 },
    { protocol: 'sctp', target: 9000, published: 9000 },
  ];
  equal(n.m.find(web).ports, stored);
  ok(n.m.find(web).gw !== undefined, 'gwbridge only: the endpoint is still made');
  ok(!('ports' in n.m.find(db)), 'no ports: no field');
  equal(n.file()!.endpoints.find((r) => r.id === web)!.ports, stored);
  // `agent ps` reads them back in the API's form.
  equal(summaryView(n.m.find(web), n.m.status(n.m.find(web))).Ports, [...ports]);
  equal(summaryView(n.m.find(db), n.m.status(n.m.find(db))).Ports, []);
  await n.close();
});

t('the records file refuses a bad port: a protocol it does not know, a port out of range', async () => {
  const n = await node();
  await n.m.run({ Name: 'web', Networks: [], Cmd: ['sleep', 'inf'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080 }] });
  const good = n.file()!;
  const bad = (port: Record<string, unknown>) => encodeEndpoints({ ...good, endpoints: [{ ...good.endpoints[0]!, ports: [port as never] }] });
  const refused = (b: Uint8Array): string => {
    try {
      decodeEndpoints(b, 'endpoints.cbor');
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  };
  is(refused(bad({ protocol: 'icmp', target: 80, published: 8080 })), 'endpoints.cbor: endpoints.endpoints[0].ports[0].protocol: expected one of tcp|udp|sctp, got string "icmp"');
  is(refused(bad({ protocol: 'tcp', target: 80, published: 65536 })), 'endpoints.cbor: endpoints.endpoints[0].ports[0].published: expected a port 1-65535, got number 65536');
  is(refused(bad({ protocol: 'tcp', target: 0, published: 80 })), 'endpoints.cbor: endpoints.endpoints[0].ports[0].target: expected an integer >= 1, got number 0');
  await n.close();
});

t('a refusal from the managers leaves nothing behind: no netns, no sandbox, the addresses given back, no record', async () => {
  const n = await node();
  const e = await failure(n.run('web', ['front', 'plain']));
  ok(e instanceof RemoteError);
  is(e.message, 'Could not attach to network plain: network plain not manually attachable');
  equal(n.ops(), [], 'a refusal costs no plumbing');
  equal(n.swarm.attaches.map((a) => a.network), ['front', 'plain']);
  equal(n.swarm.detaches, [{ taskId: n.swarm.attaches[0]!.taskId }]);
  equal(n.swarm.held.size, 0, "front's address went back");
  equal(n.m.records, []);
  is(n.file(), undefined, 'nothing saved');
  equal(n.processes.started, []);
  // An address taken, through --ip: the same.
  await n.run('one', ['front'], '10.0.1.9');
  n.plumbing.calls.length = 0;
  const taken = await failure(n.run('two', ['front'], '10.0.1.9'));
  is(taken.message, 'Address already in use: 10.0.1.9 on network front');
  equal(n.ops(), []);
  equal(n.m.records.map((r) => r.name), ['one']);
  // Outside a swarm: refused before anything.
  n.swarm.membership = undefined;
  const out = await failure(n.run('three', ['front']));
  is((out as ApiError).status, 503);
  match(out.message, /^This node is not part of a swarm/);
  await n.close();
});

t('a plumbing failure mid-way leaves nothing of the new endpoint and gives its addresses back; others stay whole', async () => {
  const n = await node();
  const first = (await n.run('web', ['front'])).Id;
  const before = { netns: n.plumbing.netnsNames(), host: n.plumbing.host(), sandbox: n.plumbing.netns(sbNetns(4097)) };
  // front's sandbox exists already; back's is made after the new endpoint's eth0 is on front.
  n.plumbing.failNext('createSandbox', 'createSandbox tq-n4098: RTNETLINK answers: No buffer space available');
  n.plumbing.calls.length = 0;
  const e = await failure(n.run('db', ['front', 'back']));
  is(e.message, 'createSandbox tq-n4098: RTNETLINK answers: No buffer space available');
  ok(n.ops().includes('addOverlayIface'), 'it got as far as an interface on front');
  equal(n.plumbing.netnsNames(), before.netns);
  equal(n.plumbing.host(), before.host);
  equal(n.plumbing.netns(sbNetns(4097)), before.sandbox, "front's sandbox holds web's port only again");
  const id = n.swarm.attaches.at(-1)!.taskId;
  equal(n.swarm.holding(id), {});
  ok(n.swarm.detaches.some((d) => d.taskId === id && d.network === undefined), 'detach of the whole task');
  equal(n.data.pipeRecord(), { '4097': 0 });
  equal(n.data.forwarder.peers(4097).map((p) => p.ip), ['10.0.1.2']);
  equal(n.m.records.map((r) => r.id), [first]);
  equal(n.file()!.endpoints.map((r) => r.id), [first]);
  equal(n.processes.started.length, 1);
  // The next endpoint gets db's addresses.
  await n.run('db', ['front', 'back']);
  equal(n.m.find('db').networks.map((x) => x.address), ['10.0.1.3/24', '10.0.2.2/24']);
  equal(n.m.find('db').gw?.address, '172.18.0.3/16');
  await n.close();
});

t('a gw interface failure, or a command that cannot start, also leaves nothing', async () => {
  const n = await node();
  n.plumbing.failNext('addGwIface', 'addGwIface: boom');
  is((await failure(n.run('web', ['front']))).message, 'addGwIface: boom');
  equal(leftovers(n), { netns: [], host: [] });
  equal(n.swarm.held.size, 0);
  n.processes.failNext = 'spawn ip ENOENT';
  const e = await failure(n.run('web', ['front', 'back']));
  ok(e instanceof ApiError);
  equal([e.message, (e as ApiError).status], ['could not start sleep: spawn ip ENOENT', 500]);
  equal(leftovers(n), { netns: [], host: [] });
  equal(n.swarm.held.size, 0);
  equal(n.data.pipeRecord(), {});
  equal(n.m.records, []);
  await n.close();
});

t("names: docker's rule (2+ of [a-zA-Z0-9_.-], alphanumeric first) and docker's conflict message; refused before the managers", async () => {
  const n = await node();
  for (const bad of ['x', '-web', '.web', 'we b', 'wéb', '/web']) {
    const e = await failure(n.run(bad, ['front']));
    ok(e instanceof UsageError, bad);
    is(e.message, `Invalid container name (${bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const { Id: id } = await n.run('w1', ['front']);
  n.plumbing.calls.length = 0;
  const e = await failure(n.run('w1', ['back']));
  ok(e instanceof ApiError);
  equal([e.message, (e as ApiError).status], [
    `Conflict. The container name "/w1" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`,
    409,
  ]);
  equal(n.swarm.attaches.length, 1, 'no attach for a refused name');
  equal(n.ops(), []);
  // Other refusals before anything is made.
  is((await failure(n.m.run({ Networks: ['front'], Cmd: [] }))).message, 'run: a command is required after --');
  is((await failure(n.m.run({ Name: 'w2', Networks: [], IP: '10.0.1.7', Cmd: ['true'] }))).message, '--ip: needs a --network to take the address on');
  // find: by name, id, unique prefix.
  is(n.m.find(id.slice(0, 3)).id, id);
  is((await failure(Promise.resolve().then(() => n.m.find('nope')))).message, 'No such container: nope');
  equal(n.swarm.attaches.length, 1);
  await n.close();
});

t('the same network twice in one run is refused, and leaves nothing behind', async () => {
  const n = await node();
  const e = await failure(n.run('web', ['front', 'front']));
  ok(e instanceof ApiError);
  equal([e.message, (e as ApiError).status], ['endpoint with name web already exists in network front', 409]);
  equal(leftovers(n), { netns: [], host: [] });
  equal(n.swarm.held.size, 0);
  equal(n.m.records, []);
  await n.close();
});

// ---- rm --------------------------------------------------------------------------------------

t("rm of a running endpoint: refused without force (docker's 409); with force the group is killed and everything goes", async () => {
  const n = await node();
  const { Id: web } = await n.run('web', ['front', 'back']);
  const { Id: db } = await n.run('db', ['back']);
  const e = await failure(n.m.remove('web', false));
  ok(e instanceof ApiError);
  equal([e.message, (e as ApiError).status], [`You cannot remove a running container ${web}. Stop the container before attempting removal or force remove`, 409]);
  equal(n.m.records.length, 2);
  equal(n.processes.signals, []);

  n.plumbing.calls.length = 0;
  await n.m.remove('web', true);
  equal(n.processes.signals, [{ pid: 4000, sig: 'SIGKILL' }]);
  // web's netns, gw port and front's sandbox (web was its last endpoint) went; back's sandbox stays for db.
  equal(n.plumbing.netnsNames(), [epNetns(db), sbNetns(4098)]);
  ok(n.hostLink(gwLink(web)) === undefined && n.hostLink(gwLink(db)) !== undefined);
  equal(names(n.plumbing.netns(sbNetns(4098))!.links), ['br0', 'pipe', sbLink(db), 'vx0']);
  ok(n.ops().includes('deleteSandbox'));
  equal(n.swarm.holding(web), {});
  equal(n.swarm.holding(db), { back: '10.0.2.3/24' });
  equal(n.data.pipeRecord(), { '4098': 1 });
  equal(n.data.forwarder.peers(4098).map((p) => p.ip), ['10.0.2.3']);
  equal(n.m.records.map((r) => r.name), ['db']);
  equal(n.file()!.endpoints.map((r) => r.name), ['db']);
  equal(n.file()!.pipes, { '4098': 1 });
  // An exited endpoint goes without force; the last one takes the last sandbox.
  n.processes.exit(4001, 0);
  await n.m.remove(db.slice(0, 5), false);
  equal(leftovers(n), { netns: [], host: [] });
  equal(n.swarm.held.size, 0);
  equal(n.file(), { endpoints: [], pipes: {} });
  is((await failure(n.m.remove('db', true))).message, 'No such container: db');
  await n.close();
});

t('rm -f waits (on the clock) for the killed group to go before tearing down', async () => {
  const n = await node();
  await n.run('web', ['front']);
  n.processes.dieAfterMs = 120;
  let doneAt: number | undefined;
  const p = n.m.remove('web', true).then(() => (doneAt = n.clock.nowMs()));
  for (let i = 0; i < 50 && doneAt === undefined; i++) {
    await new Promise<void>((r) => setImmediate(r));
    if (n.clock.nowMs() < 120) is(n.plumbing.netnsNames().length, 2, `still whole at ${n.clock.nowMs()} ms`);
    if (doneAt === undefined) n.clock.runNext();
  }
  await p;
  ok(doneAt !== undefined && doneAt >= 120 && doneAt <= 200, `torn down at ${doneAt} ms`);
  equal(leftovers(n), { netns: [], host: [] });
  await n.close();
});

t('rm -f of a group that will not die tears down after the 5 s wait anyway', async () => {
  const n = await node();
  await n.run('web', ['front']);
  n.processes.dieAfterMs = 60_000;
  let doneAt: number | undefined;
  const p = n.m.remove('web', true).then(() => (doneAt = n.clock.nowMs()));
  for (let i = 0; i < 500 && doneAt === undefined; i++) {
    await new Promise<void>((r) => setImmediate(r));
    if (doneAt === undefined) n.clock.runNext();
  }
  await p;
  ok(doneAt !== undefined && doneAt >= 5000 && doneAt < 5100, `torn down at ${doneAt} ms`);
  equal(leftovers(n), { netns: [], host: [] });
  await n.close();
});

// ---- connect, disconnect ---------------------------------------------------------------------

t('connect adds one interface (eth1), disconnect removes one and detaches that network only; eth0 is reused', async () => {
  const n = await node();
  const { Id: id } = await n.run('web', ['front']);
  await n.m.connect('back', { ref: 'web' });
  equal(names(n.plumbing.netns(epNetns(id))!.links), ['eth-gw', 'eth0', 'eth1', 'lo']);
  equal(n.link(epNetns(id), 'eth1')!.addrs, ['10.0.2.2/24']);
  equal(n.file()!.endpoints[0]!.networks.map((x) => x.ifname), ['eth0', 'eth1']);

  n.swarm.detaches.length = 0;
  await n.m.disconnect('front', 'web');
  equal(names(n.plumbing.netns(epNetns(id))!.links), ['eth-gw', 'eth1', 'lo']);
  equal(n.swarm.detaches, [{ taskId: id, network: 'net1aaaaaaaaaaaaaaaaaaaaa1' }]);
  equal(n.swarm.holding(id), { back: '10.0.2.2/24' });
  is(n.plumbing.netns(sbNetns(4097)), undefined, "front's sandbox went with its last endpoint");
  equal(n.data.forwarder.peers(4097), []);

  await n.m.connect('third', { ref: id.slice(0, 6) }, '10.0.3.77');
  equal(n.link(epNetns(id), 'eth0')!.addrs, ['10.0.3.77/24']);
  equal(n.m.find('web').networks.map((x) => `${x.name}:${x.ifname}`), ['back:eth1', 'third:eth0']);
  // By network id prefix too.
  await n.m.disconnect('net3', 'web');
  equal(n.m.find('web').networks.map((x) => x.name), ['back']);
  equal(n.m.records.length, 1, 'an endpoint of ours stays with no overlay (its gw and process live on)');
  await n.close();
});

t('--internal: on internal networks only, the gw leg (the resolver is there) but no default route; a network that is not internal brings it, its disconnect takes it away', async () => {
  const n = await node();
  const route = (id: string) => n.plumbing.netns(epNetns(id))!.defaultRoute;
  const { Id: id } = await n.run('cage', ['vault']);
  equal(names(n.plumbing.netns(epNetns(id))!.links), ['eth-gw', 'eth0', 'lo']);
  is(route(id), undefined);
  is(n.file()!.endpoints[0]!.networks[0]!.internal, true, 'saved');
  await n.m.connect('front', { ref: 'cage' });
  is(route(id), '172.18.0.1');
  await n.m.disconnect('front', 'cage');
  is(route(id), undefined);
  // On any network that is not internal, or on none, the way out is there from the start.
  const { Id: both } = await n.run('both', ['vault', 'front']);
  const { Id: none } = await n.run('none', []);
  equal([route(both), route(none)], ['172.18.0.1', '172.18.0.1']);
  // A task on an internal network only: the same.
  const task = 'taskinternaaaaaaaaaaaaaa1';
  const vault = { NetworkID: 'net5eeeeeeeeeeeeeeeeeeeee5', Name: 'vault', VNI: 4101, Subnet: '10.0.5.0/24', Gateway: '10.0.5.1', Address: '10.0.5.40/24', Encrypted: false, Internal: true };
  await n.m.startTask({ ...assigned(task), networks: [vault], vips: {} });
  is(route(task), undefined);
  await n.close();
});

t('connect to a network the endpoint is on, or disconnect from one it is not on: 409, nothing changes', async () => {
  const n = await node();
  const { Id: id } = await n.run('web', ['front']);
  n.plumbing.calls.length = 0;
  const e = await failure(n.m.connect('front', { ref: 'web' }));
  equal([e.message, (e as ApiError).status], ['endpoint with name web already exists in network front', 409]);
  equal(n.swarm.holding(id), { front: '10.0.1.2/24' }, 'still attached (the managers answered the same address)');
  const d = await failure(n.m.disconnect('back', 'web'));
  equal([d.message, (d as ApiError).status], ['container web is not connected to network back', 409]);
  equal(n.ops().filter((o) => o !== 'hasLink'), []);
  equal(n.m.find('web').networks.length, 1);
  // A failed interface gives the new address back and keeps the endpoint as it was.
  n.plumbing.failNext('addOverlayIface', 'addOverlayIface: boom');
  is((await failure(n.m.connect('back', { ref: 'web' }))).message, 'addOverlayIface: boom');
  equal(n.swarm.holding(id), { front: '10.0.1.2/24' });
  is(n.plumbing.netns(sbNetns(4098)), undefined);
  equal(n.m.find('web').networks.map((x) => x.name), ['front']);
  await n.close();
});

t('connect --netns PATH adopts the namespace (no gw, no process); the last disconnect releases it and the record goes', async () => {
  const n = await node();
  const path = '/run/netns/podman-1';
  n.plumbing.addForeignNetns(path);
  await n.m.connect('front', { netns: path });
  const r = n.m.find('podman-1');
  equal({ external: r.external, command: r.command, pid: r.pid, gw: r.gw }, { external: path, command: [], pid: undefined, gw: undefined });
  match(r.netns, /^tq-x[0-9a-z]{12}$/);
  equal(n.plumbing.netnsNames(), [sbNetns(4097), r.netns]);
  equal(names(n.plumbing.netns(r.netns)!.links), ['eth0', 'lo']);
  equal(n.processes.started, []);
  // Again with the same path: the same endpoint, one more interface.
  await n.m.connect('back', { netns: path });
  equal(n.m.records.length, 1);
  equal(names(n.plumbing.netns(r.netns)!.links), ['eth0', 'eth1', 'lo']);
  await n.m.disconnect('front', 'podman-1');
  ok(n.plumbing.netnsNames().includes(r.netns));
  n.plumbing.calls.length = 0;
  await n.m.disconnect('back', 'podman-1');
  ok(n.ops().includes('releaseNetns') && !n.ops().includes('deleteEndpoint'), 'released, never deleted: the namespace is not ours');
  equal(leftovers(n), { netns: [], host: [] });
  equal(n.m.records, []);
  equal(n.file()!.endpoints, []);
  equal(n.swarm.held.size, 0);
  // It can be adopted again.
  await n.m.connect('front', { netns: path, name: 'pod' });
  is(n.m.find('pod').external, path);
  // rm needs no force: nothing of ours runs there; it releases the name, never deletes the namespace.
  n.plumbing.calls.length = 0;
  await n.m.remove('pod', false);
  ok(n.ops().includes('releaseNetns') && !n.ops().includes('deleteEndpoint'));
  equal(leftovers(n), { netns: [], host: [] });
  equal(n.m.records, []);
  await n.close();
});

t('connect --netns: a path that is no namespace, or a refusal, leaves no name and no record', async () => {
  const n = await node();
  const e = await failure(n.m.connect('front', { netns: '/run/netns/nope' }));
  match(e.message, /^adoptNetns \/run\/netns\/nope: .*special device \/run\/netns\/nope does not exist\.$/);
  equal(n.swarm.attaches, [], 'the managers are not asked');
  n.plumbing.addForeignNetns('/proc/77/ns/net');
  is((await failure(n.m.connect('plain', { netns: '/proc/77/ns/net' }))).message, 'Could not attach to network plain: network plain not manually attachable');
  equal(leftovers(n), { netns: [], host: [] });
  equal(n.m.records, []);
  await n.close();
});

// ---- restart ---------------------------------------------------------------------------------

t('restore after a restart adopts the sandboxes and interfaces as they are and publishes the peers again', async () => {
  const n = await node();
  const { Id: web } = await n.run('web', ['front', 'back']);
  const { Id: db } = await n.run('db', ['back']);
  const host = { netns: n.plumbing.netnsNames(), host: n.plumbing.host(), front: n.plumbing.netns(sbNetns(4097)), back: n.plumbing.netns(sbNetns(4098)) };
  const records = structuredClone([...n.m.records]);
  await n.crash();
  n.plumbing.calls.length = 0;
  await n.boot();
  n.m.load();
  equal(n.data.forwarder.vnis(), [], 'nothing before restore');
  await n.m.restore();
  ok(!n.ops().includes('createSandbox'), 'sandboxReady said yes: no createSandbox');
  ok(!n.ops().includes('addOverlayIface') && !n.ops().includes('deleteSandbox'));
  equal(n.ops().filter((o) => o === 'sandboxReady').length, 2);
  equal({ netns: n.plumbing.netnsNames(), host: n.plumbing.host(), front: n.plumbing.netns(sbNetns(4097)), back: n.plumbing.netns(sbNetns(4098)) }, host);
  equal(n.m.records, records);
  equal(n.data.pipeRecord(), { '4097': 0, '4098': 1 });
  equal(n.data.forwarder.lookupMac(4098, '02:42:0a:00:02:03')?.key, db);
  equal(n.data.forwarder.peers(4097), [{ ip: '10.0.1.2', mac: '02:42:0a:00:01:02', vtep: VTEP }]);
  // The restored endpoints are whole: rm -f works as before.
  await n.m.remove(web, true);
  equal(n.plumbing.netnsNames(), [epNetns(db), sbNetns(4098)]);
  await n.close();
});

t('restore remakes a sandbox that is gone, with the endpoints\' interfaces, and sweeps one no record needs', async () => {
  const n = await node();
  const { Id: web } = await n.run('web', ['front']);
  await n.run('db', ['back']);
  // A sandbox of an earlier run that nothing needs any more, recorded in the file.
  await n.data.useNetwork({ nid: 'ghost', vni: 4200, mtu: 1350 }, 'ghost-endpoint');
  await n.m.connect('third', { ref: 'db' });
  equal(n.file()!.pipes, { '4097': 0, '4098': 1, '4099': 3, '4200': 2 });
  await n.crash();
  // While the agent is down, front's sandbox is lost (web's eth0 goes with its veth peer).
  await n.plumbing.deleteSandbox({ netns: sbNetns(4097), hostLink: 'ag-p4097' });
  ok(n.link(epNetns(web), 'eth0') === undefined);
  n.plumbing.calls.length = 0;
  await n.boot();
  n.m.load();
  await n.m.restore();
  equal(n.plumbing.calls.filter((c) => c.op === 'createSandbox').map((c) => (c.arg as { netns: string }).netns), [sbNetns(4097)]);
  equal(n.plumbing.calls.filter((c) => c.op === 'deleteSandbox').map((c) => (c.arg as { netns: string }).netns), [sbNetns(4200)]);
  equal(n.link(epNetns(web), 'eth0')!.addrs, ['10.0.1.2/24']);
  is(n.link(epNetns(web), 'eth0')!.peer, `${sbNetns(4097)}/${sbLink(web)}`);
  ok(!n.plumbing.netnsNames().includes(sbNetns(4200)));
  equal(n.data.pipeRecord(), { '4097': 0, '4098': 1, '4099': 3 });
  equal(n.file()!.pipes, { '4097': 0, '4098': 1, '4099': 3 });
  await n.close();
});

t('restore removes what a crash left before it was recorded: an endpoint netns, a sandbox, a gw link; foreign names stay', async () => {
  const n = await node();
  await n.run('web', ['front']);
  await n.crash();
  // Made, never recorded (the agent died in the middle of a run); and a name that is not of our patterns.
  await n.plumbing.createEndpoint(`${PREFIX}-e0123456789ab`);
  await n.plumbing.createSandbox({ netns: sbNetns(4300), hostLink: 'ag-p4300', pipeIndex: 40, vni: 4300, mtu: 1350 });
  await n.plumbing.createEndpoint(`${PREFIX}-ext`);
  n.plumbing.calls.length = 0;
  await n.boot();
  n.m.load();
  await n.m.restore();
  const after = n.plumbing.netnsNames();
  ok(!after.includes(`${PREFIX}-e0123456789ab`), 'the unrecorded endpoint netns is gone');
  ok(!after.includes(sbNetns(4300)), 'the unrecorded sandbox is gone');
  ok(after.includes(`${PREFIX}-ext`), 'a name not of our patterns stays');
  ok(after.includes(sbNetns(4097)), "web's sandbox stays");
  ok(n.hostLink('ag-p4300') === undefined);
  await n.close();
});

t('swarm leave: refused while endpoints are on overlays; forced, their overlay interfaces and sandboxes go, the endpoints stay', async () => {
  const n = await node();
  const { Id: web } = await n.run('web', ['front']);
  match((await failure(n.m.beforeLeave(false))).message, /this node has endpoints on overlay networks \(web\): remove or disconnect them first, or use --force/);
  ok(n.link(epNetns(web), 'eth0'), 'nothing changed');
  await n.m.beforeLeave(true);
  ok(n.link(epNetns(web), 'eth0') === undefined);
  ok(!n.plumbing.netnsNames().includes(sbNetns(4097)));
  ok(n.plumbing.netnsNames().includes(epNetns(web)), 'the endpoint itself stays');
  equal(n.file()!.endpoints[0]!.networks, []);
  await n.m.beforeLeave(false); // nothing on overlays any more
  await n.close();
});

// ---- service tasks (issue 8) -------------------------------------------------------------

function assigned(id: string, cmd = ['sleep', 'inf']): AssignedTask {
  const front = { NetworkID: 'net1aaaaaaaaaaaaaaaaaaaaa1', Name: 'front', VNI: 4097, Subnet: '10.0.1.0/24', Gateway: '10.0.1.1', Address: '10.0.1.40/24', Encrypted: false, Internal: false };
  return { id, name: `web.1.${id}`, serviceId: 'svc1', serviceName: 'web', slot: 1, command: cmd, env: ['GREETING=hi'], networks: [front], vips: { [front.NetworkID]: '10.0.1.9' } };
}

t('a task starts with the addresses the managers gave it (no attach), its env and hostname; ending it stops the group, tears it all down and gives nothing back itself', async () => {
  const n = await node();
  const id = 'taskaaaaaaaaaaaaaaaaaaaa1';
  await n.m.startTask(assigned(id));
  equal(n.swarm.attaches, [], 'no attach: the orchestrator allocated the address');
  const eth0 = n.link(epNetns(id), 'eth0')!;
  equal(eth0.addrs, ['10.0.1.40/24']);
  const p = n.processes.started[0]!;
  equal([p.netns, p.argv, (p as { env?: string[] }).env, (p as { hostname?: string }).hostname], [epNetns(id), ['sleep', 'inf'], ['GREETING=hi'], `web.1.${id}`]);
  equal(n.file()!.endpoints[0]!.task, { serviceId: 'svc1', serviceName: 'web', slot: 1 }, 'recorded as a task');
  // Not the user's to remove or re-network.
  match((await failure(n.m.remove(`web.1.${id}`, true))).message, /is a task of service web/);
  match((await failure(n.m.connect('back', { ref: id }))).message, /is a task of service web/);
  equal(n.names, [`+ net1 taskaa web.1.${id} 10.0.1.40 web vip 10.0.1.9`], 'its DNS record, once it runs');
  is((p as { resolvConf?: string }).resolvConf, 'nameserver 172.18.0.1\n', 'its resolver: the gwbridge gateway');
  // The command goes on SIGTERM, as most do; its record was withdrawn before.
  const signal = n.processes.signal.bind(n.processes);
  n.processes.signal = (pid, sig) => {
    is(n.names.at(-1), '- net1 taskaa', 'out of DNS before the stop signal');
    signal(pid, sig);
    if (sig === 'SIGTERM') n.processes.exit(pid, 143);
  };
  equal(await n.m.endTask(id, 10_000), { exitCode: 143, stopped: true });
  equal(n.processes.signals, [{ pid: p.pid, sig: 'SIGTERM' }]);
  equal(n.swarm.detaches, [], 'the addresses stay with the managers until the task is reported ended');
  equal(leftovers(n), { netns: [], host: [] }, 'netns, interfaces and sandbox gone');
  equal(n.m.records, []);
  is(await n.m.endTask(id, 0), undefined, 'ending it again: nothing there');
  await n.close();
});

t('a task whose command is not in PATH is refused before anything is made; a task already here is not started twice', async () => {
  const n = await node();
  const e = await failure(n.m.startTask(assigned('taskbbbbbbbbbbbbbbbbbbbb2', ['no-such-command-xyz'])));
  ok(e instanceof TaskStartError);
  is(e.message, 'starting task failed: exec: "no-such-command-xyz": executable file not found in $PATH');
  equal(leftovers(n), { netns: [], host: [] });
  await n.m.startTask(assigned('taskcccccccccccccccccccc3'));
  await n.m.startTask(assigned('taskcccccccccccccccccccc3'));
  is(n.processes.started.length, 1);
  await n.close();
});

t('swarm leave is not held back by tasks (they end when the node leaves)', async () => {
  const n = await node();
  await n.m.startTask(assigned('taskdddddddddddddddddddd4'));
  await n.m.beforeLeave(false);
  is(n.m.records.length, 1);
  await n.close();
});

t.run();
