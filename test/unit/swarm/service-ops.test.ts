// Services on the leader (agent/swarm/service-ops.ts) against a LeaderOps
// stand-in whose store is a real Store (commits applied as the leader's
// would be), networks made by the real NetworkOps, and the orchestrator's
// reconcile run between steps as its loop would: VIPs allocated and given
// back with the service, task reports that never move a task back nor
// touch another node's task, task lists in docker's order, and logs
// gathered from the nodes that ran the tasks.
import { suite, is, ok, equal, match } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { seededRand } from '../../../shared/rand.js';
import { batch, create } from '../../../agent/cluster/store/index.js';
import { LeaderStandIn } from './leader-standin.js';
import type { Node } from '../../../agent/cluster/store/types.js';
import { NetworkOps, ipamId } from '../../../agent/swarm/network-ops.js';
import { reconcile } from '../../../agent/swarm/orchestrator.js';
import { RemoteError } from '../../../agent/swarm/rpc.js';
import { ServiceOps, vipOwner } from '../../../agent/swarm/service-ops.js';
import { serviceView } from '../../../agent/swarm/service-views.js';
import { CLUSTER_ID_KEY } from '../../../agent/swarm/store-ids.js';

const t = suite('swarm/service-ops');
const SEED = Number(process.env.TEST_SEED ?? 0x5e4f1ce);

class Leader extends LeaderStandIn {}

function nodeDraft(id: string, hostname: string): Omit<Node, 'meta'> {
  return { id, role: 'worker', availability: 'active', hostname, addr: `${hostname}:2377`, dataAddr: '', publicKey: new Uint8Array(32), labels: {}, status: { state: 'ready', message: '' } };
}

async function world() {
  const clock = new ManualClock();
  const rand = seededRand(SEED);
  const leader = new Leader();
  await leader.commit(
    batch(
      create('cluster', { id: CLUSTER_ID_KEY, name: 'default', defaultAddrPool: ['10.0.0.0/8'], subnetSize: 24, keyRotationMs: 43_200_000, heartbeatMs: 5000, dataPathPort: 4789 }),
      create('node', nodeDraft('nodea0000000000000000000a', 'h0')),
      create('node', nodeDraft('nodeb0000000000000000000b', 'h1')),
    ),
  );
  const nets = new NetworkOps(leader.ops, rand, clock);
  const asked: { nodeId: string; method: string; args: unknown }[] = [];
  const logs = new Map<string, string>();
  const ops = new ServiceOps({
    leader: leader.ops,
    rand,
    clock,
    callNode: async (nodeId, method, args) => {
      asked.push({ nodeId, method, args });
      const a = args as { tasks: { taskId: string; offset: number }[] };
      return a.tasks.filter((x) => logs.has(x.taskId)).map((x) => ({ taskId: x.taskId, data: logs.get(x.taskId)!.slice(x.offset), next: logs.get(x.taskId)!.length }));
    },
  });
  let ids = 0;
  /** One orchestrator pass, as the loop runs it after every commit. */
  const orchestrate = async () => {
    const s = leader.store;
    const networks = s.list('network');
    const out = reconcile({ services: s.list('service'), tasks: s.tasks(), nodes: s.list('node'), networks, ipams: networks.flatMap((n) => s.get('ipam', ipamId(n.id)) ?? []), nowMs: clock.wallMs(), newId: () => `task${String(++ids).padStart(21, '0')}` });
    if (out.changes.length > 0) await leader.commit(batch(...out.changes));
  };
  /** The service as `service inspect` shows it (serviceView over the leader's store). */
  const view = (name: string) => serviceView(leader.store.findByName('service', name)!, leader.store);
  return { clock, leader, nets, ops, asked, logs, orchestrate, view };
}

async function refusal(p: Promise<unknown>): Promise<RemoteError> {
  try {
    await p;
  } catch (e) {
    ok(e instanceof RemoteError, String(e));
    return e as RemoteError;
  }
  throw new Error('expected a refusal');
}

t('create: a VIP per network in vip mode (owned vip:<id>), none in dnsrr; rm gives them back; names are unique', async () => {
  const w = await world();
  const front = (await w.nets.create({ Name: 'front' })).Id;
  const { ID } = await w.ops.create({ Name: 'web', Command: ['sleep', '1'], Networks: ['front'] });
  const s = w.leader.store.get('service', ID)!;
  equal(Object.keys(s.vips), [front]);
  const vip = s.vips[front]!.split('/')[0]!;
  is(w.leader.store.get('ipam', ipamId(front))!.addresses[vip], vipOwner(ID));
  equal([s.generation, s.forceUpdate], [1, 0]);
  const rr = await w.ops.create({ Name: 'rr', Command: ['x'], Networks: ['front'], EndpointMode: 'dnsrr' });
  equal(w.leader.store.get('service', rr.ID)!.vips, {});
  const dup = await refusal(w.ops.create({ Name: 'web', Command: ['x'] }));
  equal([dup.code, dup.message], ['ECONFLICT', 'service web already exists']);
  await w.ops.remove('web');
  is(w.leader.store.get('service', ID), undefined);
  is(w.leader.store.get('ipam', ipamId(front))!.addresses[vip], undefined, 'the VIP went back');
  match((await refusal(w.ops.inspect('web'))).message, /^service web not found$/);
});

t('update: networks change the VIPs and the generation; replicas alone do not; --force does; global refuses replicas', async () => {
  const w = await world();
  await w.nets.create({ Name: 'front' });
  const back = (await w.nets.create({ Name: 'back' })).Id;
  const { ID } = await w.ops.create({ Name: 'web', Command: ['x'], Networks: ['front'] });
  await w.ops.update('web', { Replicas: 4 });
  let s = w.leader.store.get('service', ID)!;
  equal([s.mode, s.generation], [{ replicated: 4 }, 1]);
  await w.ops.update('web', { NetworksAdd: ['back'] });
  s = w.leader.store.get('service', ID)!;
  equal([Object.keys(s.vips).length, s.generation], [2, 2]);
  ok(s.vips[back] !== undefined);
  await w.ops.update('web', { Force: true });
  s = w.leader.store.get('service', ID)!;
  equal([s.generation, s.forceUpdate], [3, 1]);
  await w.ops.create({ Name: 'g', Command: ['x'], Mode: { Global: {} } });
  is((await refusal(w.ops.update('g', { Replicas: 2 }))).message, 'replicas can only be used with replicated mode');
});

t("no ingress network: a port in ingress mode is refused in docker's words, on create and on update; host mode and no ports go on", async () => {
  const w = await world();
  await w.nets.create({ Name: 'front' });
  const NO_INGRESS = 'service needs ingress network, but no ingress network is present';
  const e = await refusal(w.ops.create({ Name: 'web', Command: ['x'], Networks: ['front'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] }));
  equal([e.code, e.message], ['EINVAL', NO_INGRESS]);
  // The short form's default (a target alone) is ingress too.
  is((await refusal(w.ops.create({ Name: 'web', Command: ['x'], Ports: [{ Protocol: 'udp', TargetPort: 53, PublishMode: 'ingress' }] }))).message, NO_INGRESS);
  equal(w.leader.store.list('service'), [], 'nothing written');
  await w.ops.create({ Name: 'plain', Command: ['x'], Networks: ['front'] });
  await w.ops.create({ Name: 'direct', Command: ['x'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }] });
  const before = w.leader.store.get('service', w.leader.store.findByName('service', 'plain')!.id)!;
  is((await refusal(w.ops.update('plain', { PortsAdd: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8081, PublishMode: 'ingress' }] }))).message, NO_INGRESS);
  equal(w.leader.store.get('service', before.id), before, 'the refused update changed nothing');
  await w.ops.update('plain', { PortsAdd: [{ Protocol: 'tcp', TargetPort: 81, PublishedPort: 9081, PublishMode: 'host' }], Replicas: 2 });
  equal(w.view('plain').Endpoint.Ports, [{ Protocol: 'tcp', TargetPort: 81, PublishedPort: 9081, PublishMode: 'host' }]);
  // With an ingress network, the same requests go through, and the service sits on it.
  const ingress = (await w.nets.create({ Name: 'ingress', Ingress: true })).Id;
  await w.ops.update('plain', { PortsAdd: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8081, PublishMode: 'ingress' }] });
  const { ID } = await w.ops.create({ Name: 'web', Command: ['x'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] });
  equal(Object.keys(w.leader.store.get('service', ID)!.vips), [ingress]);
});

t('proxy-protocol=v2 goes to the store and back out of inspect; refused on a host-mode port', async () => {
  const w = await world();
  await w.nets.create({ Name: 'ingress', Ingress: true });
  const { ID } = await w.ops.create({ Name: 'web', Command: ['x'], Ports: [{ Protocol: 'tcp', TargetPort: 443, PublishedPort: 8443, PublishMode: 'ingress', ProxyProtocol: 'v2' }] });
  equal(w.leader.store.get('service', ID)!.spec.ports, [{ protocol: 'tcp', targetPort: 443, publishedPort: 8443, publishMode: 'ingress', proxyProtocol: 'v2' }]);
  const view = w.view('web');
  const port = { Protocol: 'tcp', TargetPort: 443, PublishedPort: 8443, PublishMode: 'ingress', ProxyProtocol: 'v2' };
  equal([view.Spec.EndpointSpec.Ports, view.Endpoint.Ports], [[port], [port]]);
  await w.ops.update('web', { PortsAdd: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] });
  equal(w.view('web').Endpoint.Ports.map((p) => p.ProxyProtocol ?? '-'), ['v2', '-']);
  await w.ops.update('web', { PortsRm: [{ PublishedPort: 8443 }] });
  equal(w.view('web').Endpoint.Ports.map((p) => p.PublishedPort), [8080]);
  is((await refusal(w.ops.update('web', { PortsAdd: [{ Protocol: 'tcp', TargetPort: 22, PublishedPort: 2222, PublishMode: 'host', ProxyProtocol: 'v2' }] }))).message, 'proxy-protocol=v2 needs a tcp port published in ingress mode');
});

t("task reports: only the task's node may report, a report never moves a task back, an ended task stays ended", async () => {
  const w = await world();
  await w.ops.create({ Name: 'web', Command: ['x'] });
  await w.orchestrate();
  const [task] = w.leader.store.tasks();
  ok(task, 'the orchestrator made the task');
  const mine = task!.nodeId;
  const other = mine === 'nodea0000000000000000000a' ? 'nodeb0000000000000000000b' : 'nodea0000000000000000000a';
  is((await refusal(w.ops.taskStatus({ nodeId: other, taskId: task!.id, state: 'running', message: 'x', timestampMs: 1 }))).code, 'EDENIED');
  await w.ops.taskStatus({ nodeId: mine, taskId: task!.id, state: 'running', message: 'started', timestampMs: 2 });
  await w.ops.taskStatus({ nodeId: mine, taskId: task!.id, state: 'starting', message: 'late', timestampMs: 1 });
  is(w.leader.store.get('task', task!.id)!.status.state, 'running', 'an older state is ignored');
  await w.ops.taskStatus({ nodeId: mine, taskId: task!.id, state: 'failed', message: 'started', err: 'task: non-zero exit (2)', exitCode: 2, timestampMs: 3 });
  await w.ops.taskStatus({ nodeId: mine, taskId: task!.id, state: 'running', message: 'again', timestampMs: 4 });
  const st = w.leader.store.get('task', task!.id)!.status;
  equal([st.state, st.err, st.exitCode], ['failed', 'task: non-zero exit (2)', 2]);
  await w.ops.taskStatus({ nodeId: mine, taskId: 'nosuchtask000000000000000', state: 'running', message: '', timestampMs: 1 });
  is((await refusal(w.ops.taskStatus({ nodeId: mine, taskId: task!.id, state: 'pending' as never, message: '', timestampMs: 1 }))).code, 'EINVAL');
});

t('tasks: by service and by node, each slot in order; logs from each task\'s node from its offset', async () => {
  const w = await world();
  await w.ops.create({ Name: 'web', Command: ['x'], Mode: { Replicated: { Replicas: 2 } } });
  await w.orchestrate();
  const ts = await w.ops.tasks({ service: 'web' });
  equal(ts.map((x) => x.Name), ['web.1', 'web.2']);
  equal(new Set(ts.map((x) => x.NodeHostname)), new Set(['h0', 'h1']), 'spread');
  is((await w.ops.tasks({ node: 'h0' })).length, 1);
  w.logs.set(ts[0]!.ID, 'one\ntwo\n');
  w.logs.set(ts[1]!.ID, 'three\n');
  const first = await w.ops.logs('web', {}, undefined);
  equal(first.Chunks.map((c) => [c.ContainerName, c.Data, c.Next, c.Hostname]), [
    [`web.1.${ts[0]!.ID}`, 'one\ntwo\n', 8, ts[0]!.NodeHostname],
    [`web.2.${ts[1]!.ID}`, 'three\n', 6, ts[1]!.NodeHostname],
  ]);
  const again = await w.ops.logs('web', { [ts[0]!.ID]: 4 }, 1);
  is(again.Chunks[0]!.Data, 'two\n');
  equal(w.asked.at(-1)!.args, { tasks: [{ taskId: ts[1]!.ID, offset: 0 }], tail: 1 });
});

t.run();
