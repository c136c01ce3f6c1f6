// The endpoint manager's part of the routing mesh (issue 10,
// agent/endpoint/endpoint-manager.ts): the ingress sandbox (setIngress:
// made, kept, remade, removed, saved and restored, never an endpoint of its
// own in ps or DNS) and published ports held through the `ports` option
// (run -p, host-mode task ports: claimed before anything is made, refused
// in docker's words, let go with the endpoint), and what network inspect
// shows of this node's endpoints. Without root, on the test
// bed of endpoint-manager.test.ts (endpoint-bed.ts): FakePlumbing, a real
// DataPlane over in-memory datagrams, the records file in memory, fake
// processes and managers.
import { createServer, type Server } from 'node:net';
import { suite, is, ok, equal } from '../../harness.js';
import { ApiError } from '../../../shared/errors.js';
import type { AttachAnswer } from '../../../agent/api/types.js';
import { HOST_PORT_IN_USE, TaskStartError, type PortClaims } from '../../../agent/endpoint/endpoint-manager.js';
import { PortHolder, PortInUseError, SctpUnsupportedError, SCTP_UNSUPPORTED, type PortClaim } from '../../../agent/mesh/port-holder.js';
import { meshSandbox } from '../../../agent/mesh/routing-mesh.js';
import { agentGwbridgeView, attachedNetworkView } from '../../../agent/daemon/network-routes.js';
import type { AssignedTask } from '../../../agent/swarm/service-views.js';
import { PREFIX, failure, node as bootNode, quiet, removeTempDirs } from './endpoint-bed.js';

const t = suite('endpoint/endpoint-mesh');
const SEED = Number(process.env.TEST_SEED ?? 0x1e55);
t.after(removeTempDirs);
const node = (ports?: PortClaims) => bootNode(SEED, ports);

const INGRESS: AttachAnswer = { NetworkID: 'ingressnet000000000000000', Name: 'ingress', VNI: 4096, Subnet: '10.255.0.0/16', Gateway: '10.255.0.1', Address: '10.255.0.3/16', Encrypted: false, Internal: false };
/** The bed's network front, as the managers answer its first attach. */
const FRONT: AttachAnswer = { NetworkID: 'net1aaaaaaaaaaaaaaaaaaaaa1', Name: 'front', VNI: 4097, Subnet: '10.0.1.0/24', Gateway: '10.0.1.1', Address: '10.0.1.2/24', Encrypted: false, Internal: false };

/** PortClaims in memory: an owner holds exactly its last claim; refuse says which ports are taken and how. */
class FakePorts implements PortClaims {
  readonly held = new Map<string, PortClaim[]>();
  readonly refuse = new Map<string, () => Error>();
  readonly log: string[] = [];

  async claim(owner: string, claims: readonly PortClaim[]): Promise<void> {
    this.log.push(`claim ${owner.slice(0, 6)} ${claims.map((c) => `${c.published}/${c.protocol}`).join(' ')}`.trimEnd());
    for (const c of claims) {
      const no = this.refuse.get(`${c.published}/${c.protocol}`);
      if (no) throw no();
    }
    if (claims.length === 0) this.held.delete(owner);
    else this.held.set(owner, [...claims]);
  }

  async release(owner: string): Promise<void> {
    this.log.push(`release ${owner.slice(0, 6)}`);
    this.held.delete(owner);
  }
}

const sbNetns = (vni: number) => `${PREFIX}-n${vni}`;
const names = (links: { name: string }[] | undefined) => (links ?? []).map((l) => l.name);

// ---- the ingress sandbox ---------------------------------------------------------------------

t('setIngress: a forwarding netns on the gwbridge and on the ingress network with the lb address; saved, no name published, not an endpoint of ps', async () => {
  const n = await node();
  // createEndpoint calls: netns and whether it forwards.
  const made: string[] = [];
  const create = n.plumbing.createEndpoint.bind(n.plumbing);
  n.plumbing.createEndpoint = (netns, opts) => (made.push(`${netns}${opts?.forwarding ? ' forwarding' : ''}`), create(netns, opts));
  await n.m.setIngress(INGRESS);
  const r = n.m.ingress!;
  ok(r, 'made');
  equal([r.name, r.ingress, r.command, r.pid, r.task], ['ingress-sbox', true, [], undefined, undefined]);
  equal(made, [`${r.netns} forwarding`], 'it routes between its interfaces');
  equal(names(n.plumbing.netns(r.netns)!.links), ['eth-gw', 'eth0', 'lo']);
  equal(n.plumbing.netns(r.netns)!.links.find((l) => l.name === 'eth0')!.addrs, ['10.255.0.3/16']);
  equal(r.gw, { address: '172.18.0.2/16', gateway: '172.18.0.1', hostLink: `ag-g${r.id.slice(0, 10)}` });
  ok(n.plumbing.netnsNames().includes(sbNetns(4096)), "the ingress network's sandbox");
  equal(r.networks.map((x) => [x.networkId, x.ifname, x.address]), [[INGRESS.NetworkID, 'eth0', '10.255.0.3/16']]);
  equal(meshSandbox(r), { netns: r.netns, ingressIf: 'eth0', gwAddress: '172.18.0.2', networkId: INGRESS.NetworkID });
  equal(n.file()!.ingress, r);
  equal(n.file()!.endpoints, []);
  equal(n.m.records, [], 'not listed in ps');
  equal(n.names, [], 'no DNS record: it is no service');
  equal(n.swarm.held.size, 0, 'no attach: its address is the managers\' already');
  ok(n.changes > 0, 'the mesh is told');
  // An endpoint made later gets the next gwbridge address.
  const { Id } = await n.m.run({ Name: 'web', Networks: [], Cmd: ['sleep', 'inf'] });
  is(n.m.find(Id).gw!.address, '172.18.0.3/16');
  // network inspect's Containers, as docker names the sandbox.
  const mac = r.networks[0]!.mac;
  equal(n.m.containersOn({ id: INGRESS.NetworkID }), { 'ingress-sbox': { Name: 'ingress-endpoint', EndpointID: r.id, MacAddress: mac, IPv4Address: '10.255.0.3/16', IPv6Address: '' } });
  equal(n.m.containersOn({ id: FRONT.NetworkID }), {});
  equal(n.m.containersOn('gwbridge'), {
    [Id]: { Name: 'web', EndpointID: Id, MacAddress: '', IPv4Address: '172.18.0.3/16', IPv6Address: '' },
    'ingress-sbox': { Name: 'ingress-endpoint', EndpointID: r.id, MacAddress: '', IPv4Address: '172.18.0.2/16', IPv6Address: '' },
  });
  // What a worker may list and inspect: the overlays its endpoints (the sandbox included) are on.
  equal(n.m.attachedNetworks().map((x) => [x.net.name, x.ingress]), [['ingress', true]]);
  for (const ref of ['ingress', INGRESS.NetworkID, 'ingressnet0']) is(n.m.attachedNetwork(ref)?.net.networkId, INGRESS.NetworkID, ref);
  is(n.m.attachedNetwork('front'), undefined);
  const view = attachedNetworkView(n.m.attachedNetwork('ingress')!);
  equal([view.Name, view.Id, view.Scope, view.Driver, view.Ingress, view.VNI, view.IPAM.Config], ['ingress', INGRESS.NetworkID, 'swarm', 'overlay', true, 4096, [{ Subnet: '10.255.0.0/16', Gateway: '10.255.0.1' }]]);
  // The gwbridge the agent made, as network ls shows it: a local bridge under one id on every node.
  const gw = agentGwbridgeView();
  equal([gw.Name, gw.Scope, gw.Driver, gw.IPAM.Config, gw.Options['com.docker.network.bridge.enable_icc']], ['agent_gwbridge', 'local', 'bridge', [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }], 'false']);
  is(agentGwbridgeView().Id, gw.Id);
  ok(/^[0-9a-z]{25}$/.test(gw.Id), gw.Id);
  await n.close();
});

t('setIngress with the same answer does nothing; a new address remakes it; undefined removes it (twice: nothing)', async () => {
  const n = await node();
  await n.m.setIngress(INGRESS);
  const first = n.m.ingress!;
  n.plumbing.calls.length = 0;
  await n.m.setIngress({ ...INGRESS });
  equal(n.ops(), []);
  is(n.m.ingress, first);

  await n.m.setIngress({ ...INGRESS, Address: '10.255.0.7/16' });
  const second = n.m.ingress!;
  ok(second.netns !== first.netns, 'a new netns');
  ok(!n.plumbing.netnsNames().includes(first.netns), 'the old one gone');
  equal(n.hostLinks().filter((l) => l.startsWith('ag-g')), [second.gw!.hostLink], "the old gw link gone, the new one there");
  equal(second.networks[0]!.address, '10.255.0.7/16');
  equal(n.file()!.ingress!.networks[0]!.address, '10.255.0.7/16');

  await n.m.setIngress(undefined);
  is(n.m.ingress, undefined);
  equal({ netns: n.plumbing.netnsNames(), host: n.hostLinks() }, { netns: [], host: [] }, 'netns, gw link and the ingress sandbox gone');
  is(n.file()!.ingress, undefined);
  n.plumbing.calls.length = 0;
  await n.m.setIngress(undefined);
  equal(n.ops(), []);
  await n.close();
});

t('a failure while making it leaves nothing and no record; the next try makes it', async () => {
  const n = await node();
  n.plumbing.failNext('addOverlayIface', 'addOverlayIface: boom');
  is((await failure(n.m.setIngress(INGRESS))).message, 'addOverlayIface: boom');
  is(n.m.ingress, undefined);
  equal({ netns: n.plumbing.netnsNames(), host: n.hostLinks() }, { netns: [], host: [] });
  is(n.file()?.ingress, undefined);
  await n.m.setIngress(INGRESS);
  ok(n.m.ingress);
  await n.close();
});

t('after a restart: load() finds it, restore() keeps its netns and gw link through the sweep and publishes no name for it', async () => {
  const n = await node();
  await n.m.setIngress(INGRESS);
  const { Id: web } = await n.m.run({ Name: 'web', Networks: ['front'], Cmd: ['sleep', 'inf'] });
  const r = structuredClone(n.m.ingress!);
  const before = { netns: n.plumbing.netnsNames(), host: n.hostLinks() };
  await n.crash();
  n.names.length = 0;
  await n.boot();
  n.m.load();
  equal(n.m.ingress, r, 'load');
  await n.m.restore();
  equal({ netns: n.plumbing.netnsNames(), host: n.hostLinks() }, before, 'nothing swept');
  ok(!n.ops().includes('deleteEndpoint') && !n.ops().includes('removeGwIface'));
  equal(n.names, [`+ net1 ${web.slice(0, 6)} web 10.0.1.2`], "only web's record: the sandbox is no service");
  equal(n.m.records.map((x) => x.id), [web]);
  // Still whole: removing it after the restart takes everything it had.
  await n.m.setIngress(undefined);
  ok(!n.plumbing.netnsNames().includes(r.netns));
  ok(!n.plumbing.netnsNames().includes(sbNetns(4096)));
  await n.close();
});

// ---- published ports -------------------------------------------------------------------------

t('run -p: the ports claimed under the endpoint id before anything is made; tcp relays (no header) to the endpoint; rm lets them go', async () => {
  const ports = new FakePorts();
  const n = await node(ports);
  const { Id: id } = await n.m.run({
    Name: 'web',
    Networks: [],
    Cmd: ['sleep', 'inf'],
    Ports: [
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080 },
      { Protocol: 'udp', TargetPort: 53, PublishedPort: 5353 },
      { Protocol: 'sctp', TargetPort: 9, PublishedPort: 9000 },
    ],
  });
  const claims = ports.held.get(id)!;
  equal(claims.map((c) => [c.protocol, c.published, c.relay?.proxyHeader]), [['tcp', 8080, false], ['udp', 5353, undefined], ['sctp', 9000, undefined]]);
  equal(claims[0]!.relay!.target(), { host: '172.18.0.2', port: 80 }, "to the endpoint's gwbridge address, target port");
  equal(n.m.localPorts(), [
    { protocol: 'tcp', published: 8080, target: 80, address: '172.18.0.2' },
    { protocol: 'udp', published: 5353, target: 53, address: '172.18.0.2' },
    { protocol: 'sctp', published: 9000, target: 9, address: '172.18.0.2' },
  ]);
  is(n.plumbing.calls[0]?.op, 'createEndpoint');
  ok(ports.log[0]!.startsWith('claim'), 'claimed first');
  await n.m.remove('web', true);
  equal([...ports.held.keys()], []);
  equal(n.m.localPorts(), []);
  // No ports: no claim at all.
  await n.m.run({ Name: 'db', Networks: [], Cmd: ['sleep', 'inf'] });
  is(ports.log.filter((l) => l.startsWith('claim')).length, 1);
  await n.close();
});

t("run -p of a taken port: docker's 409 'port is already allocated', nothing made, no attach; SCTP where it cannot be NATed: 400", async () => {
  const ports = new FakePorts();
  const n = await node(ports);
  ports.refuse.set('8080/tcp', () => new PortInUseError('8080/tcp', undefined, 'port 8080/tcp is in use on this node by another program'));
  const e = (await failure(n.m.run({ Name: 'web', Networks: ['front'], Cmd: ['sleep', 'inf'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080 }] }))) as ApiError;
  ok(e instanceof ApiError);
  equal([e.status, e.message], [409, 'Bind for 0.0.0.0:8080 failed: port is already allocated']);
  equal(n.ops(), []);
  equal(n.swarm.held.size, 0);
  equal(n.m.records, []);
  is(n.file(), undefined);
  equal(n.processes.started, []);
  ports.refuse.set('9/sctp', () => new SctpUnsupportedError(SCTP_UNSUPPORTED));
  const s = (await failure(n.m.run({ Name: 'web', Networks: [], Cmd: ['sleep', 'inf'], Ports: [{ Protocol: 'sctp', TargetPort: 9, PublishedPort: 9 }] }))) as ApiError;
  equal([s.status, s.message], [400, SCTP_UNSUPPORTED]);
  equal(n.ops(), []);
  await n.close();
});

t('run -p whose attach or process fails: the ports claimed are let go with everything else', async () => {
  const ports = new FakePorts();
  const n = await node(ports);
  const req = { Name: 'web', Networks: ['front'], Cmd: ['sleep', 'inf'], Ports: [{ Protocol: 'tcp' as const, TargetPort: 80, PublishedPort: 8080 }] };
  n.swarm.net('front').attachable = false;
  await failure(n.m.run(req));
  equal([...ports.held.keys()], []);
  ok(ports.log.at(-1)!.startsWith('release'));
  n.swarm.net('front').attachable = true;
  n.processes.failNext = 'spawn ENOENT';
  await failure(n.m.run(req));
  equal([...ports.held.keys()], []);
  equal({ netns: n.plumbing.netnsNames().filter((x) => x.startsWith(`${PREFIX}-e`)), host: n.hostLinks().filter((l) => l.startsWith('ag-g')) }, { netns: [], host: [] });
  await n.close();
});

t('run -p against a real PortHolder: a port another program listens on is the same 409', async () => {
  const other: Server = createServer();
  const port = await new Promise<number>((resolve) => other.listen({ port: 0, host: '127.0.0.1' }, () => resolve((other.address() as { port: number }).port)));
  const holder = new PortHolder({ log: quiet, address: '127.0.0.1' });
  const n = await node(holder);
  try {
    const e = (await failure(n.m.run({ Name: 'web', Networks: [], Cmd: ['sleep', 'inf'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: port }] }))) as ApiError;
    equal([e.status, e.message], [409, `Bind for 0.0.0.0:${port} failed: port is already allocated`]);
    equal(holder.owners, []);
    equal(n.m.records, []);
  } finally {
    await holder.close();
    await new Promise<void>((r) => other.close(() => r()));
    await n.close();
  }
});

function assigned(id: string, hostPorts: AssignedTask['hostPorts']): AssignedTask {
  return { id, name: `web.1.${id}`, serviceId: 'svc1', serviceName: 'web', slot: 1, command: ['sleep', 'inf'], env: [], networks: [{ ...FRONT, Address: '10.0.1.40/24' }], vips: {}, ...(hostPorts ? { hostPorts } : {}) };
}

t("a task's host-mode ports: claimed under the task id, on its record; ending the task lets them go", async () => {
  const ports = new FakePorts();
  const n = await node(ports);
  const id = 'taskaaaaaaaaaaaaaaaaaaaa1';
  await n.m.startTask(assigned(id, [{ protocol: 'tcp', published: 9000, target: 80 }, { protocol: 'udp', published: 9001, target: 91 }]));
  equal(ports.held.get(id)!.map((c) => `${c.published}/${c.protocol}`), ['9000/tcp', '9001/udp']);
  equal(n.m.find(id).ports, [
    { protocol: 'tcp', target: 80, published: 9000 },
    { protocol: 'udp', target: 91, published: 9001 },
  ]);
  equal(n.m.localPorts().map((p) => `${p.published}->${p.address}:${p.target}`), ['9000->172.18.0.2:80', '9001->172.18.0.2:91']);
  await n.m.endTask(id, 0);
  equal([...ports.held.keys()], []);
  // None given (an older leader), or an empty list: no claim, no field.
  await n.m.startTask(assigned('taskbbbbbbbbbbbbbbbbbbbb2', undefined));
  await n.m.startTask(assigned('taskcccccccccccccccccccc3', []));
  is(ports.log.filter((l) => l.startsWith('claim')).length, 1);
  ok(!('ports' in n.m.find('taskbbbbbbbbbbbbbbbbbbbb2')));
  await n.close();
});

t("a task whose host-mode port is taken: TaskStartError in docker's words, nothing left behind", async () => {
  const ports = new FakePorts();
  const n = await node(ports);
  ports.refuse.set('9000/tcp', () => new PortInUseError('9000/tcp', undefined, 'port 9000/tcp is in use on this node by another program'));
  const e = await failure(n.m.startTask(assigned('taskdddddddddddddddddddd4', [{ protocol: 'tcp', published: 9000, target: 80 }])));
  ok(e instanceof TaskStartError);
  is(e.message, HOST_PORT_IN_USE);
  is(HOST_PORT_IN_USE, 'host-mode port already in use on this node');
  equal(n.ops(), []);
  equal(n.plumbing.netnsNames(), []);
  equal(n.m.records, []);
  equal(n.processes.started, []);
  equal([...ports.held.keys()], []);
  // Any other refusal from the holder: the start failed, saying why.
  ports.refuse.set('9000/tcp', () => new Error('EACCES'));
  is((await failure(n.m.startTask(assigned('taskeeeeeeeeeeeeeeeeeeee5', [{ protocol: 'tcp', published: 9000, target: 80 }])))).message, 'starting task failed: EACCES');
  // Its process cannot start: the ports claimed are let go with the rest.
  ports.refuse.clear();
  n.processes.failNext = 'spawn ENOENT';
  await failure(n.m.startTask(assigned('taskffffffffffffffffffff6', [{ protocol: 'tcp', published: 9000, target: 80 }])));
  equal([...ports.held.keys()], []);
  equal(n.plumbing.netnsNames().filter((x) => x.startsWith(`${PREFIX}-e`)), []);
  await n.close();
});

t('after a restart, restore() claims the recorded ports again', async () => {
  const ports = new FakePorts();
  const n = await node(ports);
  const { Id: id } = await n.m.run({ Name: 'web', Networks: [], Cmd: ['sleep', 'inf'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080 }] });
  await n.crash();
  ports.held.clear();
  await n.boot();
  n.m.load();
  await n.m.restore();
  equal(ports.held.get(id)!.map((c) => `${c.published}/${c.protocol}`), ['8080/tcp']);
  await n.close();
});

t.run();
