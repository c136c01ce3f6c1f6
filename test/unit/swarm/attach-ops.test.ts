// Attachments on the leader (agent/swarm/attach-ops.ts): a node's endpoint
// gets an address on an overlay as an attachment task, the task and the
// network's IPAM record changing in one committed batch (docs/data-plane.md,
// "Addresses never collide"). Driven against a LeaderOps stand-in whose
// read() is a real Store and whose commit() applies the command to it, with
// the networks made by the real NetworkOps, so the records are the ones the
// leader makes.
import { suite, is, ok, equal } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { seededRand } from '../../../shared/rand.js';
import type { NetworkCreateRequest } from '../../../agent/api/types.js';
import type { Command } from '../../../agent/cluster/store/index.js';
import { LeaderStandIn } from './leader-standin.js';
import { AttachOps, attachmentOwner, type AttachRequest } from '../../../agent/swarm/attach-ops.js';
import { NetworkOps, ipamId } from '../../../agent/swarm/network-ops.js';
import { RemoteError } from '../../../agent/swarm/rpc.js';
import { CLUSTER_ID_KEY } from '../../../agent/swarm/store-ids.js';

const t = suite('swarm/attach-ops');
const SEED = Number(process.env.TEST_SEED ?? 0xa77ac4);
const NODE_A = 'nodea0000000000000000000000';
const NODE_B = 'nodeb0000000000000000000000';
const TASK_1 = 'task1aaaaaaaaaaaaaaaaaaaa1';
const TASK_2 = 'task2bbbbbbbbbbbbbbbbbbbb2';
const TASK_3 = 'task3cccccccccccccccccccc3';

class Leader extends LeaderStandIn {}

interface World {
  leader: Leader;
  ops: AttachOps;
  /** Network create, returning the id. */
  net(req: NetworkCreateRequest): Promise<string>;
}

async function world(): Promise<World> {
  const clock = new ManualClock();
  const leader = new Leader();
  await leader.commit({
    op: 'create',
    kind: 'cluster',
    object: { id: CLUSTER_ID_KEY, name: 'default', defaultAddrPool: ['10.0.0.0/8'], subnetSize: 24, keyRotationMs: 43_200_000, heartbeatMs: 5000, dataPathPort: 4789 },
  } as Command);
  leader.commits.length = 0;
  const nets = new NetworkOps(leader.ops, seededRand(SEED), clock);
  return {
    leader,
    ops: new AttachOps(leader.ops, clock),
    net: async (req) => {
      const id = (await nets.create(req)).Id;
      leader.commits.length = 0;
      return id;
    },
  };
}

const req = (o: Partial<AttachRequest> & { network: string }): AttachRequest => ({ nodeId: NODE_A, taskId: TASK_1, name: '', ...o });

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    ok(e instanceof RemoteError, `expected a RemoteError, got ${String(e)}`);
    return { code: (e as RemoteError).code, message: (e as Error).message };
  }
  throw new Error('expected a refusal, got an answer');
}

const ipamOf = (w: World, nid: string): Record<string, string> => ({ ...w.leader.store.get('ipam', ipamId(nid))!.addresses });

t('attach: the lowest free address of the ip range; task and IPAM record in one batch; the answer carries the network', async () => {
  const w = await world();
  const nid = await w.net({ Name: 'front', Attachable: true, IPAM: { Config: [{ Subnet: '10.9.0.0/24', IPRange: '10.9.0.128/25' }] } });
  const n = w.leader.store.get('network', nid)!;
  const a = await w.ops.attach(req({ network: 'front', name: 'web' }));
  equal(a, { NetworkID: nid, Name: 'front', VNI: n.vni!, Subnet: '10.9.0.0/24', Gateway: '10.9.0.1', Address: '10.9.0.128/24', Encrypted: false, Internal: false });
  is(w.leader.commits.length, 1, 'one commit');
  const c = w.leader.commits[0]!;
  is(c.op, 'batch');
  equal(c.op === 'batch' ? c.changes.map((x) => `${x.op} ${x.kind}`) : [], ['create task', 'update ipam']);
  const task = w.leader.store.get('task', TASK_1)!;
  equal({ nodeId: task.nodeId, name: task.name, desiredState: task.desiredState, state: task.status.state, addresses: task.addresses }, {
    nodeId: NODE_A, name: 'web', desiredState: 'running', state: 'running', addresses: { [nid]: '10.9.0.128/24' },
  });
  is(task.serviceId, undefined, 'a standalone task');
  equal(ipamOf(w, nid), { '10.9.0.1': 'gateway', '10.9.0.128': attachmentOwner(TASK_1) });
  // A second endpoint: the next address; no name, no name field.
  const b = await w.ops.attach(req({ network: nid.slice(0, 6), taskId: TASK_2 }));
  is(b.Address, '10.9.0.129/24');
  ok(!('name' in w.leader.store.get('task', TASK_2)!), 'no --name: no name');
});

t('attach: the network MTU option reaches the answer; a second network updates the same task in one batch', async () => {
  const w = await world();
  const n1 = await w.net({ Name: 'one', Attachable: true });
  const n2 = await w.net({ Name: 'two', Attachable: true, Options: { 'com.docker.network.driver.mtu': '1300' } });
  const a1 = await w.ops.attach(req({ network: 'one' }));
  ok(!('MTU' in a1), 'no MTU option: no MTU (the node takes the underlay less 50)');
  const a2 = await w.ops.attach(req({ network: 'two' }));
  is(a2.MTU, 1300);
  is(w.leader.commits.length, 2);
  const c = w.leader.commits[1]!;
  equal(c.op === 'batch' ? c.changes.map((x) => `${x.op} ${x.kind}`) : [], ['update task', 'update ipam']);
  equal(w.leader.store.get('task', TASK_1)!.addresses, { [n1]: a1.Address, [n2]: a2.Address });
  ok(a1.Subnet !== a2.Subnet, 'two subnets from the default pool');
});

t('attach is idempotent for the same task and network: the same answer, nothing committed', async () => {
  const w = await world();
  await w.net({ Name: 'front', Attachable: true });
  const a = await w.ops.attach(req({ network: 'front', name: 'web' }));
  const version = w.leader.store.get('task', TASK_1)!.meta.version;
  w.leader.commits.length = 0;
  equal(await w.ops.attach(req({ network: 'front', name: 'web' })), a);
  // Even with an --ip: the endpoint keeps what it has.
  equal(await w.ops.attach(req({ network: 'front', ip: '10.0.0.77' })), a);
  is(w.leader.commits.length, 0);
  is(w.leader.store.get('task', TASK_1)!.meta.version, version);
});

t("attach refuses a network that is not attachable, and the ingress network, with docker's words; nothing committed", async () => {
  const w = await world();
  const plain = await w.net({ Name: 'plain' });
  await w.net({ Name: 'ingress', Ingress: true });
  equal(await refusal(w.ops.attach(req({ network: 'plain' }))), { code: 'EDENIED', message: 'Could not attach to network plain: network plain not manually attachable' });
  equal(await refusal(w.ops.attach(req({ network: plain.slice(0, 5) }))), {
    code: 'EDENIED',
    message: `Could not attach to network ${plain.slice(0, 5)}: network plain not manually attachable`,
  });
  equal(await refusal(w.ops.attach(req({ network: 'ingress' }))), { code: 'EDENIED', message: 'Could not attach to network ingress: network ingress not manually attachable' });
  equal(await refusal(w.ops.attach(req({ network: 'nope' }))), { code: 'ENOTFOUND', message: 'network nope not found' });
  is(w.leader.commits.length, 0);
  is(w.leader.store.list('task').length, 0);
});

t('attach --ip: taken by another endpoint is "Address already in use"; outside the range or the gateway is invalid', async () => {
  const w = await world();
  const nid = await w.net({ Name: 'front', Attachable: true, IPAM: { Config: [{ Subnet: '10.9.0.0/24', IPRange: '10.9.0.128/25' }] } });
  is((await w.ops.attach(req({ network: 'front', ip: '10.9.0.200' }))).Address, '10.9.0.200/24');
  w.leader.commits.length = 0;
  equal(await refusal(w.ops.attach(req({ network: 'front', taskId: TASK_2, ip: '10.9.0.200' }))), { code: 'ECONFLICT', message: 'Address already in use: 10.9.0.200 on network front' });
  const outside = await refusal(w.ops.attach(req({ network: 'front', taskId: TASK_2, ip: '10.9.0.5' })));
  is(outside.code, 'EINVAL');
  is(outside.message, '--ip: 10.9.0.5 is outside the ip range 10.9.0.128/25 of 10.9.0.0/24');
  is((await refusal(w.ops.attach(req({ network: 'front', taskId: TASK_2, ip: '10.9.0.1' })))).code, 'EINVAL');
  is(w.leader.commits.length, 0);
  is(w.leader.store.get('task', TASK_2), undefined);
  equal(ipamOf(w, nid), { '10.9.0.1': 'gateway', '10.9.0.200': attachmentOwner(TASK_1) });
});

t('attach: a full subnet is a conflict naming the network; a bad task id is refused before any read', async () => {
  const w = await world();
  await w.net({ Name: 'tiny', Attachable: true, IPAM: { Config: [{ Subnet: '10.9.0.0/30' }] } });
  is((await w.ops.attach(req({ network: 'tiny' }))).Address, '10.9.0.2/30');
  const full = await refusal(w.ops.attach(req({ network: 'tiny', taskId: TASK_2 })));
  equal(full, { code: 'ECONFLICT', message: 'network tiny: subnet 10.9.0.0/30 has no free address left' });
  equal(await refusal(w.ops.attach(req({ network: 'tiny', taskId: 'Bad-Id' }))), { code: 'EINVAL', message: 'attach: taskId: expected 12-64 of [0-9a-z], got "Bad-Id"' });
});

t("attach and detach refuse another node's task", async () => {
  const w = await world();
  const nid = await w.net({ Name: 'front', Attachable: true });
  const a = await w.ops.attach(req({ network: 'front' }));
  w.leader.commits.length = 0;
  equal(await refusal(w.ops.attach(req({ network: 'front', nodeId: NODE_B }))), { code: 'EDENIED', message: `attach: endpoint ${TASK_1} belongs to another node` });
  equal(await refusal(w.ops.detach({ nodeId: NODE_B, taskId: TASK_1 })), { code: 'EDENIED', message: `detach: endpoint ${TASK_1} belongs to another node` });
  is(w.leader.commits.length, 0);
  equal(w.leader.store.get('task', TASK_1)!.addresses, { [nid]: a.Address });
});

t('detach of one network keeps the task; detach of all removes it and frees every address, which the next attach gets', async () => {
  const w = await world();
  const n1 = await w.net({ Name: 'one', Attachable: true, IPAM: { Config: [{ Subnet: '10.9.1.0/24' }] } });
  const n2 = await w.net({ Name: 'two', Attachable: true, IPAM: { Config: [{ Subnet: '10.9.2.0/24' }] } });
  is((await w.ops.attach(req({ network: 'one' }))).Address, '10.9.1.2/24');
  is((await w.ops.attach(req({ network: 'two' }))).Address, '10.9.2.2/24');
  is((await w.ops.attach(req({ network: 'one', taskId: TASK_2 }))).Address, '10.9.1.3/24');
  w.leader.commits.length = 0;

  await w.ops.detach({ nodeId: NODE_A, taskId: TASK_1, network: n1 });
  is(w.leader.commits.length, 1, 'one batch');
  const c = w.leader.commits[0]!;
  equal(c.op === 'batch' ? c.changes.map((x) => `${x.op} ${x.kind}`) : [], ['update ipam', 'update task']);
  equal(w.leader.store.get('task', TASK_1)!.addresses, { [n2]: '10.9.2.2/24' });
  equal(ipamOf(w, n1), { '10.9.1.1': 'gateway', '10.9.1.3': attachmentOwner(TASK_2) });
  // Again: nothing left to do there.
  w.leader.commits.length = 0;
  await w.ops.detach({ nodeId: NODE_A, taskId: TASK_1, network: n1 });
  is(w.leader.commits.length, 0);

  await w.ops.detach({ nodeId: NODE_A, taskId: TASK_1 });
  is(w.leader.store.get('task', TASK_1), undefined, 'the task went with its last address');
  equal(ipamOf(w, n2), { '10.9.2.1': 'gateway' });
  // The freed address is the lowest free one again.
  is((await w.ops.attach(req({ network: 'one', taskId: TASK_3 }))).Address, '10.9.1.2/24');
  is((await w.ops.attach(req({ network: 'two', taskId: TASK_3 }))).Address, '10.9.2.2/24');
});

t('detach of the last network by id removes the task too; detach of an unknown task is a no-op', async () => {
  const w = await world();
  const nid = await w.net({ Name: 'one', Attachable: true });
  await w.ops.attach(req({ network: 'one' }));
  await w.ops.detach({ nodeId: NODE_A, taskId: TASK_1, network: nid });
  is(w.leader.store.get('task', TASK_1), undefined);
  w.leader.commits.length = 0;
  await w.ops.detach({ nodeId: NODE_A, taskId: TASK_2 });
  await w.ops.detach({ nodeId: NODE_B, taskId: TASK_1, network: nid });
  is(w.leader.commits.length, 0);
});

t('two attaches in flight at once (a Raft round trip apart) both get an address, and never the same one', async () => {
  const w = await world();
  await w.net({ Name: 'front', Attachable: true, IPAM: { Config: [{ Subnet: '10.9.0.0/24' }] } });
  w.leader.hold = true;
  const p1 = w.ops.attach(req({ network: 'front', taskId: TASK_1 }));
  const p2 = w.ops.attach(req({ network: 'front', taskId: TASK_2, nodeId: NODE_B }));
  const settled = Promise.allSettled([p1, p2]);
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await w.leader.release();
  const [r1, r2] = await settled;
  const shown = (r: PromiseSettledResult<{ Address: string }>) => (r.status === 'fulfilled' ? r.value.Address : `refused: ${(r.reason as Error).message}`);
  equal([shown(r1!), shown(r2!)], ['10.9.0.2/24', '10.9.0.3/24']);
});

t.run();
