// The orchestrator and scheduler of services (agent/swarm/orchestrator.ts)
// as scenarios, in the World of orchestrator-world.ts: a real Store holds the
// cluster and every pass's changes are applied to it as one batch, so
// versions, schemas and one change per object are checked by the store
// itself. A few lines stand in for the workers, reporting task states between
// passes. After every pass the addresses are checked against the IPAM records
// (no address held twice, none leaked), and the pass is run a second time on
// the same input to check that it is deterministic. Ends with a seeded random
// simulation.
import { suite, equal, is, ok } from '../../harness.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import { create, remove, update } from '../../../agent/cluster/store/index.js';
import type { Node, Task, TaskState } from '../../../agent/cluster/store/types.js';
import { ipamId } from '../../../agent/swarm/network-ops.js';
import { isTerminal, taskContainerName, taskSlotName, TASK_HISTORY_LIMIT, TERMINAL_STATES } from '../../../agent/swarm/orchestrator.js';
import { RESTART_NOW, T0, World, strip, taskId, type ServiceOver } from './orchestrator-world.js';

const t = suite('swarm/orchestrator');
const SEED = Number(process.env.TEST_SEED ?? 0x5eed0c);
const FRONT = 'front';

function world(nodes: string[] = ['n1', 'n2', 'n3']): World {
  const w = new World().addNetwork(FRONT, '10.0.1.0/24');
  for (const n of nodes) w.addNode(n);
  return w;
}

const bySlot = (ts: Task[]) => [...ts].sort((a, b) => (a.slot ?? 0) - (b.slot ?? 0));
const placement = (ts: Task[]) => Object.fromEntries(bySlot(ts).map((x) => [x.slot ?? x.nodeId, x.nodeId]));

// Names and states.

t('slot and container names, docker style; terminal states', () => {
  is(taskSlotName('web', { slot: 3, nodeId: 'n1' }), 'web.3');
  is(taskSlotName('mon', { nodeId: 'n1' }), 'mon.n1');
  is(taskContainerName('web', { id: 'abc', slot: 1, nodeId: 'n1' }), 'web.1.abc');
  is(taskContainerName('mon', { id: 'abc', nodeId: 'n2' }), 'mon.n2.abc');
  equal([...TERMINAL_STATES].sort(), ['complete', 'failed', 'orphaned', 'rejected', 'remove', 'shutdown']);
  const task = (state: TaskState) => ({ status: { state, message: '' } }) as Task;
  is(isTerminal(task('running')), false);
  is(isTerminal(task('pending')), false);
  is(isTerminal(task('failed')), true);
  is(TASK_HISTORY_LIMIT, 5);
});

// Placement.

t('3 replicas on 3 nodes: one each, in one pass, with an address each; a second pass changes nothing', () => {
  const w = world().addService('web', { mode: { replicated: 3 }, spec: { networks: [{ target: FRONT, aliases: [] }] } });
  const out = w.pass();
  is(out.wakeAtMs, undefined);
  equal(out.changes.map((c) => `${c.op} ${c.kind}`), ['create task', 'create task', 'create task', 'update ipam']);
  const ts = bySlot(w.tasks('web'));
  equal(placement(ts), { 1: 'n1', 2: 'n2', 3: 'n3' });
  equal(strip(ts[0]!), {
    id: taskId(1), serviceId: 'web', slot: 1, nodeId: 'n1', desiredState: 'running',
    status: { state: 'assigned', message: 'scheduled', timestampMs: T0 },
    addresses: { [FRONT]: '10.0.1.2/24' }, generation: 1, createdAtMs: T0,
  });
  equal(ts.map((x) => x.addresses[FRONT]), ['10.0.1.2/24', '10.0.1.3/24', '10.0.1.4/24']);
  equal(w.ipam(FRONT), { '10.0.1.1': 'gateway', '10.0.1.2': `task:${taskId(1)}`, '10.0.1.3': `task:${taskId(2)}`, '10.0.1.4': `task:${taskId(3)}` });
  w.now += 1000;
  equal(w.pass(), { changes: [] });
});

t('scheduler: fewest tasks of the service, then of all services, then lowest id; earlier placements of the pass count', () => {
  const w = world().addService('a');
  w.settle();
  equal(placement(w.tasks('a')), { 1: 'n1' });
  w.addService('b', { mode: { replicated: 2 } });
  w.settle();
  equal(placement(w.tasks('b')), { 1: 'n2', 2: 'n3' }, 'n1 already runs a task of a');
  w.scale('b', 5);
  w.settle();
  // Slot 3: n1 has no b. Slots 4 and 5: one b each everywhere, n1 has two tasks in all.
  equal(placement(w.tasks('b')), { 1: 'n2', 2: 'n3', 3: 'n1', 4: 'n2', 5: 'n3' });
  w.addService('c', { mode: { replicated: 6 } });
  w.settle();
  equal(Object.values(placement(w.tasks('c'))).sort(), ['n1', 'n1', 'n2', 'n2', 'n3', 'n3'], 'spread evenly within one pass');
});

t('standalone attachment tasks are left alone', () => {
  const w = world(['n1']);
  w.commit(
    create('task', { id: 'endpoint0000000000000000a', nodeId: 'n1', desiredState: 'running', status: { state: 'failed', message: 'attachment' }, addresses: { [FRONT]: '10.0.1.9/24' } }),
    update('ipam', { ...strip(w.store.get('ipam', ipamId(FRONT))!), addresses: { '10.0.1.1': 'gateway', '10.0.1.9': 'task:endpoint0000000000000000a' } }, w.store.get('ipam', ipamId(FRONT))!.meta.version),
  );
  w.addService('web', { spec: { networks: [{ target: FRONT, aliases: [] }] } });
  w.settle();
  equal(w.task('endpoint0000000000000000a').addresses, { [FRONT]: '10.0.1.9/24' });
  is(w.ipam(FRONT)['10.0.1.9'], 'task:endpoint0000000000000000a');
  is(w.running('web').length, 1);
});

// Scaling.

t('scale 5 then 1: slots above 1 are told to shut down (status untouched), removed once stopped', () => {
  const w = world().addService('web', { mode: { replicated: 5 }, spec: { networks: [{ target: FRONT, aliases: [] }] } });
  w.settle();
  equal(placement(w.tasks('web')), { 1: 'n1', 2: 'n2', 3: 'n3', 4: 'n1', 5: 'n2' });
  w.work();
  w.scale('web', 1);
  const out = w.pass();
  equal(out.changes.map((c) => `${c.op} ${c.kind}`), ['update task', 'update task', 'update task', 'update task']);
  const ts = bySlot(w.tasks('web'));
  equal(ts.map((x) => [x.slot, x.desiredState, x.status.state]), [[1, 'running', 'running'], [2, 'shutdown', 'running'], [3, 'shutdown', 'running'], [4, 'shutdown', 'running'], [5, 'shutdown', 'running']]);
  equal(ts.map((x) => Object.keys(x.addresses).length), [1, 1, 1, 1, 1], 'addresses kept until they stop');
  is(w.settle(), 0);
  w.work();
  w.pass();
  // Slots that are no longer wanted keep no history (swarmkit deletes a scaled-down slot's tasks).
  equal(w.tasks('web').map((x) => x.slot), [1]);
  equal(w.ipam(FRONT), { '10.0.1.1': 'gateway', '10.0.1.2': `task:${taskId(1)}` });
});

t('pending tasks of slots scaled away are deleted at once (no node ever had them)', () => {
  const w = world().addService('web', { mode: { replicated: 3 }, spec: { constraints: ['node.labels.gpu==yes'] } });
  w.settle();
  equal(w.tasks('web').map((x) => x.status.state), ['pending', 'pending', 'pending']);
  w.scale('web', 1);
  w.pass();
  equal(w.tasks('web').map((x) => [x.slot, x.status.state]), [[1, 'pending']]);
});

// Global services.

t('global: one task per eligible node, a joining node gets one; drain, constraints, pause, down and removal', () => {
  const w = world([]).addNode('n1', { role: 'manager' }).addNode('n2').addNode('n3');
  w.addService('mon', { mode: { global: true }, spec: { constraints: ['node.role==worker'], networks: [{ target: FRONT, aliases: [] }] } });
  w.settle();
  const nodes = () => w.running('mon').map((x) => x.nodeId).sort();
  equal(nodes(), ['n2', 'n3']);
  ok(w.tasks('mon').every((x) => x.slot === undefined && x.status.state === 'assigned'));
  w.work();
  w.addNode('n4');
  w.pass();
  equal(nodes(), ['n2', 'n3', 'n4'], 'a node that joins gets a task');
  w.work();

  w.setNode('n2', { availability: 'drain' });
  w.pass();
  equal(nodes(), ['n3', 'n4'], 'drained: shut down, not replaced');
  const onN2 = w.tasks('mon').find((x) => x.nodeId === 'n2')!;
  equal([onN2.desiredState, onN2.status.state], ['shutdown', 'running']);

  w.setNode('n3', { role: 'manager' });
  w.pass();
  equal(nodes(), ['n4'], 'no longer matching the constraints: shut down');

  w.nodeDown('n4');
  is(w.settle(), 0, 'a down node keeps its global task');
  equal(nodes(), ['n4']);

  w.addNode('n5', { availability: 'pause' });
  is(w.settle(), 0, 'a paused node gets no new task');
  w.setNode('n5', { availability: 'active' });
  w.pass();
  equal(nodes(), ['n4', 'n5']);

  const onN4 = w.running('mon').find((x) => x.nodeId === 'n4')!;
  const address = onN4.addresses[FRONT]!.split('/')[0]!;
  w.commit(remove('node', 'n4'));
  w.pass();
  is(w.store.get('task', onN4.id), undefined, 'orphaned, and a removed node keeps no history');
  is(w.ipam(FRONT)[address], undefined, 'its address is free again');
  equal(nodes(), ['n5']);
});

t('global: the restart policy applies per node', () => {
  const w = world(['n1', 'n2']).addService('mon', { mode: { global: true }, spec: { restart: { condition: 'any', delayMs: 3000, maxAttempts: 0, windowMs: 0 } } });
  w.settle();
  w.work();
  const onN1 = w.running('mon').find((x) => x.nodeId === 'n1')!;
  w.report(onN1.id, 'failed');
  const out = w.pass();
  is(out.wakeAtMs, T0 + 3000);
  equal(w.running('mon').map((x) => x.nodeId), ['n2']);
  w.now = T0 + 3000;
  w.pass();
  equal(w.running('mon').map((x) => x.nodeId).sort(), ['n1', 'n2']);
  is(w.running('mon').find((x) => x.nodeId === 'n1')!.createdAtMs, T0 + 3000);
});

// Nodes leaving.

t('drain: the task is told to shut down and its slot is refilled on another node in the same pass', () => {
  const w = world(['n1', 'n2']).addService('web', { spec: { networks: [{ target: FRONT, aliases: [] }] } });
  w.settle();
  w.work();
  const [old] = w.tasks('web');
  w.setNode('n1', { availability: 'drain' });
  w.pass();
  const [was, now] = w.tasks('web');
  is(was!.id, old!.id);
  equal([was!.desiredState, was!.status.state, was!.addresses], ['shutdown', 'running', { [FRONT]: '10.0.1.2/24' }], 'its address is kept until it stopped');
  equal([now!.slot, now!.nodeId, now!.status.state, now!.addresses], [1, 'n2', 'assigned', { [FRONT]: '10.0.1.3/24' }]);
  w.work();
  w.pass();
  equal(w.task(old!.id).addresses, {});
  equal(Object.keys(w.ipam(FRONT)).sort(), ['10.0.1.1', '10.0.1.3']);
  is(w.settle(), 0);
});

t('pause: existing tasks stay, new ones go elsewhere', () => {
  const w = world(['n1', 'n2']).addService('web');
  w.settle();
  w.setNode('n1', { availability: 'pause' });
  is(w.settle(), 0);
  equal(placement(w.running('web')), { 1: 'n1' });
  w.scale('web', 3);
  w.settle();
  equal(placement(w.running('web')), { 1: 'n1', 2: 'n2', 3: 'n2' });
});

t('a down node: replacement elsewhere, the old task keeps its addresses; back up, no duplicate', () => {
  const w = world(['n1', 'n2']).addService('web', { spec: { networks: [{ target: FRONT, aliases: [] }] } });
  w.settle();
  w.work();
  const [old] = w.tasks('web');
  w.nodeDown('n1');
  w.pass();
  const was = w.task(old!.id);
  equal([was.desiredState, was.status.state, was.addresses], ['shutdown', 'running', { [FRONT]: '10.0.1.2/24' }], 'it may still be running there');
  const [fresh] = w.running('web');
  equal([fresh!.slot, fresh!.nodeId, fresh!.addresses], [1, 'n2', { [FRONT]: '10.0.1.3/24' }]);
  w.work();
  is(w.settle(), 0);
  w.nodeUp('n1');
  is(w.settle(), 0, 'nothing to do when it comes back');
  equal(w.running('web').map((x) => x.id), [fresh!.id]);
  is(w.task(old!.id).desiredState, 'shutdown', 'stays shut down');
  w.work();
  w.pass();
  equal(w.task(old!.id).addresses, {}, 'released once it reported stopped');
  equal(w.running('web').map((x) => x.id), [fresh!.id]);
});

t('a down node and nowhere else to go: pending, then placed when a node is back', () => {
  const w = world(['n1']).addService('web', { spec: { networks: [{ target: FRONT, aliases: [] }] } });
  w.settle();
  w.work();
  w.nodeDown('n1');
  w.pass();
  const [pending] = w.running('web');
  equal([pending!.nodeId, pending!.status, pending!.addresses], ['', { state: 'pending', message: 'no suitable node (1 node not available for new tasks)', timestampMs: T0 }, {}]);
  w.nodeUp('n1');
  w.now += 10;
  w.pass();
  equal([w.task(pending!.id).nodeId, w.task(pending!.id).status.state, w.task(pending!.id).addresses], ['n1', 'assigned', { [FRONT]: '10.0.1.3/24' }]);
});

t('a removed node: its tasks are orphaned and give their addresses back; the slot is refilled', () => {
  const w = world(['n1', 'n2']).addService('web', { spec: { networks: [{ target: FRONT, aliases: [] }] } });
  w.settle();
  w.work();
  const [old] = w.tasks('web');
  w.commit(remove('node', 'n1'));
  w.now += 5;
  w.pass();
  const was = w.task(old!.id);
  equal([was.desiredState, was.status, was.addresses], ['shutdown', { state: 'orphaned', message: 'node removed', timestampMs: T0 + 5 }, {}]);
  equal(w.running('web').map((x) => [x.nodeId, x.addresses]), [['n2', { [FRONT]: '10.0.1.2/24' }]], 'its address was free again in the same pass');
});

// Ended tasks and the restart policy.

t('an ended task gives its addresses back once; one that ended on its own is marked shutdown', () => {
  const w = world(['n1']).addService('web', { spec: { networks: [{ target: FRONT, aliases: [] }], restart: { ...RESTART_NOW, condition: 'none' } } });
  w.settle();
  w.work();
  const [x] = w.tasks('web');
  w.report(x!.id, 'failed');
  const out = w.pass();
  equal(out.changes.map((c) => `${c.op} ${c.kind}`), ['update task', 'update ipam']);
  equal([w.task(x!.id).desiredState, w.task(x!.id).status.state, w.task(x!.id).addresses], ['shutdown', 'failed', {}]);
  equal(w.ipam(FRONT), { '10.0.1.1': 'gateway' });
  is(w.settle(), 0);
});

t('restart delay: the replacement comes once the delay after the end passed; wakeAtMs says when', () => {
  const w = world(['n1']).addService('web', { spec: { restart: { condition: 'any', delayMs: 5000, maxAttempts: 0, windowMs: 0 } } });
  w.settle();
  w.work();
  const [a] = w.tasks('web');
  w.report(a!.id, 'failed', T0 + 1000);
  w.now = T0 + 2000;
  is(w.pass().wakeAtMs, T0 + 6000);
  equal(w.running('web'), []);
  w.now = T0 + 5999;
  equal(w.pass(), { changes: [], wakeAtMs: T0 + 6000 });
  w.now = T0 + 6000;
  const out = w.pass();
  is(out.wakeAtMs, undefined);
  const [b] = w.running('web');
  equal([b!.slot, b!.createdAtMs, b!.status.state], [1, T0 + 6000, 'assigned']);
});

t('restart conditions: any restarts whatever ended, on-failure only failed or rejected, none never', () => {
  const cases: [RestartCondition, TaskState, boolean][] = [
    ['any', 'complete', true],
    ['any', 'failed', true],
    ['on-failure', 'complete', false],
    ['on-failure', 'failed', true],
    ['on-failure', 'rejected', true],
    ['none', 'failed', false],
    ['none', 'complete', false],
  ];
  for (const [condition, end, restarts] of cases) {
    const w = world(['n1']).addService('web', { spec: { restart: { ...RESTART_NOW, condition, delayMs: 100 } } });
    w.settle();
    w.work();
    const [x] = w.tasks('web');
    w.report(x!.id, end);
    const out = w.pass();
    is(out.wakeAtMs, restarts ? T0 + 100 : undefined, `${condition}/${end}`);
    w.now += 100;
    w.settle();
    is(w.running('web').length, restarts ? 1 : 0, `${condition}/${end}`);
    equal([w.task(x!.id).desiredState, w.task(x!.id).status.state], ['shutdown', end], `${condition}/${end}: shown as it ended`);
  }
});

type RestartCondition = 'none' | 'on-failure' | 'any';

/** Fail the slot's running task up to `times` times, gapMs apart; how many tasks the slot had in all. */
function failRepeatedly(w: World, times: number, gapMs = 1000): number {
  const seen = new Set(w.tasks('web').map((x) => x.id));
  for (let i = 0; i < times; i++) {
    const [x] = w.running('web');
    if (!x) break;
    w.work();
    w.now += gapMs;
    w.report(x.id, 'failed');
    w.settle();
    for (const y of w.tasks('web')) seen.add(y.id);
  }
  return seen.size;
}

t('max attempts: restarts stop after N; counted back over the window from the last end', () => {
  const w = world(['n1']).addService('web', { spec: { restart: { ...RESTART_NOW, maxAttempts: 2 } } });
  w.settle();
  is(failRepeatedly(w, 5), 3, 'the first run and 2 restarts');
  equal(w.running('web'), []);
  is(w.pass().wakeAtMs, undefined);

  const v = world(['n1']).addService('web', { spec: { restart: { ...RESTART_NOW, maxAttempts: 1, windowMs: 10_000 } } });
  v.settle();
  v.work();
  v.now += 1000;
  v.report(v.running('web')[0]!.id, 'failed');
  v.settle();
  is(v.running('web').length, 1, 'first end: a restart');
  v.work();
  v.now += 20_000;
  v.report(v.running('web')[0]!.id, 'failed');
  v.settle();
  is(v.running('web').length, 1, 'the earlier end is outside the window: another restart');
  v.work();
  v.now += 2000;
  v.report(v.running('web')[0]!.id, 'failed');
  v.settle();
  is(v.running('web').length, 0, 'one restart within the window already');
  v.now += 60_000;
  is(v.settle(), 0, 'the answer does not change with the time of looking');
  v.bump('web');
  v.pass();
  equal(v.running('web').map((x) => x.generation), [2], 'a service update starts the slot again');
});

t('history: at most TASK_HISTORY_LIMIT tasks per slot, the oldest ended ones go; more when max attempts needs them', () => {
  const w = world(['n1']).addService('web');
  w.settle();
  failRepeatedly(w, 8);
  const ts = w.tasks('web');
  is(ts.length, TASK_HISTORY_LIMIT);
  equal(ts.map((x) => x.id), [5, 6, 7, 8, 9].map(taskId), 'the newest five');
  equal(ts.map((x) => x.status.state), ['failed', 'failed', 'failed', 'failed', 'assigned']);

  const v = world(['n1']).addService('web', { spec: { restart: { ...RESTART_NOW, maxAttempts: 7 } } });
  v.settle();
  failRepeatedly(v, 10);
  is(v.tasks('web').length, 8, 'seven restarts and the first run are remembered');
  equal(v.running('web'), [], 'and so the eighth end is the last');
});

// Constraints.

t('no node satisfies the constraints: pending with swarmkit\'s explanation; placed once a node fits', () => {
  const w = world([]).addNode('n1').addNode('n2', { status: { state: 'down', message: '' } }).addNode('n3', { availability: 'drain' }).addNode('n4', { availability: 'pause' });
  w.addService('web', { mode: { replicated: 2 }, spec: { constraints: ['node.labels.zone==east'], networks: [{ target: FRONT, aliases: [] }] } });
  w.pass();
  const msg = 'no suitable node (3 nodes not available for new tasks; scheduling constraints not satisfied on 1 node)';
  equal(w.tasks('web').map((x) => [x.slot, x.nodeId, x.status, x.addresses]), [
    [1, '', { state: 'pending', message: msg, timestampMs: T0 }, {}],
    [2, '', { state: 'pending', message: msg, timestampMs: T0 }, {}],
  ]);
  w.now += 1000;
  equal(w.pass(), { changes: [] }, 'the same answer is not written again');
  w.nodeUp('n2');
  w.pass();
  is(w.tasks('web')[0]!.status.message, 'no suitable node (2 nodes not available for new tasks; scheduling constraints not satisfied on 2 nodes)');
  w.addNode('n5', { labels: { zone: 'East' } });
  w.pass();
  equal(w.tasks('web').map((x) => [x.nodeId, x.status.state, x.status.message, x.addresses[FRONT]]), [
    ['n5', 'assigned', 'scheduled', '10.0.1.2/24'],
    ['n5', 'assigned', 'scheduled', '10.0.1.3/24'],
  ]);
});

t('pending messages: no nodes at all, constraints only, an invalid stored constraint', () => {
  const w = new World().addService('a');
  w.pass();
  is(w.tasks('a')[0]!.status.message, 'no suitable node');
  w.addNode('n1').addService('b', { spec: { constraints: ['node.role==manager'] } });
  w.pass();
  is(w.tasks('b')[0]!.status.message, 'no suitable node (scheduling constraints not satisfied on 1 node)');
  w.addService('c', { spec: { constraints: ['node.ip==10.0.0.1'] } });
  w.pass();
  is(w.tasks('c')[0]!.status.message, 'no suitable node (invalid constraint "node.ip==10.0.0.1": expected node.id, node.hostname, node.role or node.labels.<key> with == or !=)');
});

t('a node no longer matching the constraints: its replicated task moves', () => {
  const w = world([]).addNode('n1', { labels: { zone: 'east' } }).addNode('n2', { labels: { zone: 'east' } });
  w.addService('web', { spec: { constraints: ['node.labels.zone==east'] } });
  w.settle();
  w.work();
  w.setNode('n1', { labels: { zone: 'west' } });
  w.pass();
  equal(w.tasks('web').map((x) => [x.nodeId, x.desiredState]), [['n1', 'shutdown'], ['n2', 'running']]);
});

// Rolling updates.

/** Per slot, the tasks wanted running: never two of the current generation, never two at all unless start-first. */
function slotsOf(w: World, id: string): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  for (const x of w.running(id)) (out[x.slot!] ??= []).push(`g${x.generation}:${x.status.state}`);
  return out;
}

t('rolling update, stop-first: one slot at a time, refilled once its old task stopped', () => {
  const w = world().addService('web', { mode: { replicated: 3 }, spec: { networks: [{ target: FRONT, aliases: [] }] } });
  w.settle();
  w.work();
  w.bump('web');
  w.pass();
  equal(slotsOf(w, 'web'), { 2: ['g1:running'], 3: ['g1:running'] }, 'slot 1 told to stop');
  is(w.settle(), 0, 'nothing more until it stopped');
  w.work();
  w.pass();
  equal(slotsOf(w, 'web'), { 1: ['g2:assigned'], 2: ['g1:running'], 3: ['g1:running'] }, 'slot 1 refilled, at generation 2');
  is(w.settle(), 0, 'slot 2 waits until the new one runs');
  const trace: string[] = [];
  const done = () => w.running('web').filter((x) => x.generation === 2 && x.status.state === 'running').length === 3;
  for (let i = 0; i < 10 && !done(); i++) {
    w.work();
    w.settle();
    trace.push(JSON.stringify(slotsOf(w, 'web')));
  }
  equal(trace, [
    '{"1":["g2:running"],"3":["g1:running"]}',
    '{"1":["g2:running"],"2":["g2:assigned"],"3":["g1:running"]}',
    '{"1":["g2:running"],"2":["g2:running"]}',
    '{"1":["g2:running"],"2":["g2:running"],"3":["g2:assigned"]}',
    '{"1":["g2:running"],"2":["g2:running"],"3":["g2:running"]}',
  ]);
  equal(w.tasks('web').filter((x) => x.generation === 1).map((x) => [x.desiredState, x.status.state, x.addresses]), [
    ['shutdown', 'shutdown', {}], ['shutdown', 'shutdown', {}], ['shutdown', 'shutdown', {}],
  ]);
  equal(placement(w.running('web')), { 1: 'n1', 2: 'n2', 3: 'n3' }, 'the same spread');
});

t('rolling update, start-first: the new task starts beside the old one, which stops once the new one runs', () => {
  const w = world(['n1', 'n2']).addService('web', { mode: { replicated: 2 }, spec: { updateOrder: 'start-first', networks: [{ target: FRONT, aliases: [] }] } });
  w.settle();
  w.work();
  w.bump('web');
  w.pass();
  equal(slotsOf(w, 'web'), { 1: ['g1:running', 'g2:assigned'], 2: ['g1:running'] });
  w.now += 1000;
  is(w.settle(), 0, 'no second new task while the first is not running');
  w.work();
  w.pass();
  equal(slotsOf(w, 'web'), { 1: ['g2:running'], 2: ['g1:running'] }, 'the old one of slot 1 told to stop');
  is(w.settle(), 0, 'slot 2 waits until it stopped');
  w.work();
  w.pass();
  equal(slotsOf(w, 'web'), { 1: ['g2:running'], 2: ['g1:running', 'g2:assigned'] });
  w.work();
  w.settle();
  w.work();
  w.settle();
  equal(slotsOf(w, 'web'), { 1: ['g2:running'], 2: ['g2:running'] });
  equal(w.tasks('web').length, 4);
});

t('rolling update of a global service: one node at a time', () => {
  const w = world().addService('mon', { mode: { global: true } });
  w.settle();
  w.work();
  w.bump('mon');
  const gens = () => w.running('mon').map((x) => `${x.nodeId}:g${x.generation}`).sort();
  w.pass();
  equal(gens(), ['n2:g1', 'n3:g1']);
  w.work();
  w.pass();
  equal(gens(), ['n1:g2', 'n2:g1', 'n3:g1']);
  for (let i = 0; i < 6; i++) {
    w.work();
    w.settle();
  }
  equal(gens(), ['n1:g2', 'n2:g2', 'n3:g2']);
});

t('rolling update: a stopping old task whose node goes down no longer holds the slot', () => {
  const w = world(['n1', 'n2']).addService('web');
  w.settle();
  w.work();
  w.bump('web');
  w.pass();
  equal(w.running('web'), []);
  w.nodeDown('n1');
  w.pass();
  equal(w.running('web').map((x) => [x.nodeId, x.generation]), [['n2', 2]]);
});

// Addresses.

t('ingress: a task of a service publishing a port through the routing mesh gets an ingress address too', () => {
  const w = world(['n1']).addNetwork('ingress', '10.0.0.0/24', true);
  w.addService('web', { spec: { networks: [{ target: FRONT, aliases: [] }], ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'ingress' }] } });
  w.addService('host', { spec: { networks: [{ target: FRONT, aliases: [] }], ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8081, publishMode: 'host' }] } });
  w.addService('lone', { spec: { ports: [{ protocol: 'udp', targetPort: 53, publishedPort: 53, publishMode: 'ingress' }] } });
  w.settle();
  // Services are handled in id order: host, lone, web.
  equal(w.tasks('host')[0]!.addresses, { [FRONT]: '10.0.1.2/24' });
  equal(w.tasks('lone')[0]!.addresses, { ingress: '10.0.0.2/24' });
  equal(w.tasks('web')[0]!.addresses, { [FRONT]: '10.0.1.3/24', ingress: '10.0.0.3/24' });
});

t('a full subnet: the task stays pending naming the network, takes none of the other addresses; placed once one is free', () => {
  const w = world(['n1']).addNetwork('tiny', '10.0.9.0/29');
  w.addService('a', { mode: { replicated: 5 }, spec: { networks: [{ target: 'tiny', aliases: [] }] } });
  w.settle();
  is(w.running('a').filter((x) => x.status.state === 'assigned').length, 5, '.2 to .6');
  w.addService('b', { spec: { networks: [{ target: FRONT, aliases: [] }, { target: 'tiny', aliases: [] }] } });
  w.pass();
  const [b] = w.tasks('b');
  equal([b!.nodeId, b!.status.state, b!.status.message, b!.addresses], ['', 'pending', 'network tiny: subnet 10.0.9.0/29 has no free address left', {}]);
  equal(w.ipam(FRONT), { '10.0.1.1': 'gateway' }, 'all or nothing');
  w.work();
  w.scale('a', 4);
  w.pass();
  w.work();
  w.now += 10;
  w.pass();
  equal([w.task(b!.id).status.state, w.task(b!.id).addresses], ['assigned', { [FRONT]: '10.0.1.2/24', tiny: '10.0.9.6/29' }], 'the address slot 5 gave back, in the same pass');
});

// Removed services.

t('a removed service: its tasks are marked remove and deleted once stopped (at once if pending or on a down node)', () => {
  const w = world(['n1', 'n2']).addService('web', { mode: { replicated: 3 }, spec: { networks: [{ target: FRONT, aliases: [] }] } });
  w.addService('never', { spec: { constraints: ['node.hostname==nowhere'] } });
  w.settle();
  w.work();
  w.nodeDown('n2');
  w.settle();
  w.work();
  const onN1 = w.tasks('web').filter((x) => x.nodeId === 'n1').map((x) => x.id);
  w.commit(remove('service', 'web'), remove('service', 'never'));
  w.pass();
  equal(w.tasks('never'), []);
  equal(w.store.tasks().map((x) => [x.id, x.desiredState]), onN1.map((id) => [id, 'remove']));
  equal(Object.keys(w.ipam(FRONT)).length, 1 + onN1.length, 'the task on the down node gave its address back');
  is(w.settle(), 0);
  w.work();
  w.pass();
  equal(w.store.tasks(), []);
  equal(w.ipam(FRONT), { '10.0.1.1': 'gateway' });
});

// Seeded random simulation.

/** What must hold after every settled step of the simulation. */
function checkInvariants(w: World, where: string): void {
  for (const s of w.store.list('service')) {
    const wanted = w.running(s.id);
    if ('replicated' in s.mode) {
      const n = s.mode.replicated;
      const slots = new Map<number, Task[]>();
      for (const x of wanted) slots.set(x.slot!, [...(slots.get(x.slot!) ?? []), x]);
      for (const [slot, ts] of slots) {
        ok(slot >= 1 && slot <= n, `${where}: ${s.id} slot ${slot} above ${n}`);
        ok(ts.filter((x) => x.generation === s.generation).length <= 1, `${where}: ${s.id}.${slot} has two current tasks`);
        ok(ts.length <= 2, `${where}: ${s.id}.${slot} has ${ts.length} tasks wanted running`);
      }
    } else {
      const perNode = new Map<string, number>();
      for (const x of wanted) perNode.set(x.nodeId, (perNode.get(x.nodeId) ?? 0) + 1);
      for (const [node, c] of perNode) ok(c <= 2, `${where}: ${s.id} has ${c} tasks on ${node}`);
    }
    for (const x of wanted) {
      const node: Node | undefined = w.store.get('node', x.nodeId);
      ok(x.nodeId === '' || node !== undefined, `${where}: ${x.id} wanted running on a removed node`);
      ok(node?.availability !== 'drain', `${where}: ${x.id} wanted running on a drained node`);
    }
    const ended = new Map<string, number>();
    for (const x of w.tasks(s.id).filter(isTerminal)) ended.set(String(x.slot ?? x.nodeId), (ended.get(String(x.slot ?? x.nodeId)) ?? 0) + 1);
    for (const [slot, c] of ended) ok(c <= TASK_HISTORY_LIMIT, `${where}: ${s.id}.${slot} keeps ${c} ended tasks`);
  }
}

const SIM_SERVICES: readonly [string, ServiceOver][] = [
  ['web', { mode: { replicated: 3 }, spec: { networks: [{ target: FRONT, aliases: [] }], restart: { condition: 'any', delayMs: 2000, maxAttempts: 0, windowMs: 0 } } }],
  ['api', { mode: { replicated: 2 }, spec: { updateOrder: 'start-first', networks: [{ target: 'tiny', aliases: [] }], restart: { condition: 'on-failure', delayMs: 0, maxAttempts: 3, windowMs: 0 } } }],
  ['mon', { mode: { global: true }, spec: { constraints: ['node.labels.zone!=west'], networks: [{ target: FRONT, aliases: [] }] } }],
  ['job', { mode: { replicated: 2 }, spec: { networks: [{ target: 'tiny', aliases: [] }], restart: { condition: 'none', delayMs: 0, maxAttempts: 0, windowMs: 0 } } }],
];

function randomStep(w: World, r: Rand, step: number): string {
  const pick = <T>(xs: readonly T[]): T | undefined => (xs.length === 0 ? undefined : xs[r.int(xs.length)]);
  const nodes = w.store.list('node').map((n) => n.id);
  const roll = r.int(14);
  if (roll === 0 && nodes.length < 6) {
    const id = `m${step}`;
    w.addNode(id, { labels: r.int(3) ? { zone: pick(['east', 'west'])! } : {} });
    return `add ${id}`;
  }
  const node = pick(nodes);
  if (roll === 1 && node) {
    if (r.int(3) === 0) {
      w.setNode(node, { labels: { zone: pick(['east', 'west'])! } });
      return `labels ${node}`;
    }
    w.setNode(node, { availability: pick(['active', 'pause', 'drain'] as const)! });
    return `availability ${node}`;
  }
  if (roll === 2 && node) {
    const down = w.store.get('node', node)!.status.state === 'down';
    if (down) w.nodeUp(node);
    else w.nodeDown(node);
    return `${down ? 'up' : 'down'} ${node}`;
  }
  if (roll === 3 && node && nodes.length > 1) {
    w.commit(remove('node', node));
    return `remove ${node}`;
  }
  const svc = pick(w.store.list('service'));
  if (roll === 4 && svc && 'replicated' in svc.mode) {
    w.scale(svc.id, r.int(6));
    return `scale ${svc.id}`;
  }
  if (roll === 5 && svc) {
    w.bump(svc.id);
    return `update ${svc.id}`;
  }
  if (roll === 6) {
    const x = pick(w.store.tasks().filter((y) => y.status.state === 'running'));
    if (x) w.report(x.id, pick(['failed', 'complete', 'rejected'] as const)!);
    return 'a task ends';
  }
  if (roll === 7) {
    w.now += r.int(10_000);
    return 'time passes';
  }
  if (roll === 8 && svc && r.int(4) === 0) {
    w.commit(remove('service', svc.id));
    return `remove ${svc.id}`;
  }
  const missing = SIM_SERVICES.filter(([id]) => !w.store.get('service', id));
  if (roll === 9 && missing.length > 0) {
    const [id, over] = pick(missing)!;
    w.addService(id, over);
    return `create ${id}`;
  }
  w.work();
  return 'workers';
}

t('seeded random simulation: a fixpoint after every step, the invariants hold', () => {
  const r = seededRand(SEED);
  const w = world(['n1', 'n2', 'n3']).addNetwork('tiny', '10.0.9.0/28');
  for (const [id, over] of SIM_SERVICES) w.addService(id, over);
  const log: string[] = [];
  for (let step = 0; step < 400; step++) {
    log.push(randomStep(w, r, step));
    const where = `seed ${SEED} step ${step} (${log.slice(-5).join(', ')})`;
    try {
      w.settle(12);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    checkInvariants(w, where);
  }
  ok(w.made > 50, `seed ${SEED}: only ${w.made} tasks made`);
  // Heal the cluster and update every service: with well-behaved workers it all ends up running, at the new generation.
  for (const n of w.store.list('node')) w.setNode(n.id, { availability: 'active', status: { state: 'ready', message: '' }, labels: { zone: 'east' } });
  for (const [id, over] of SIM_SERVICES) if (!w.store.get('service', id)) w.addService(id, over);
  for (const svc of w.store.list('service')) w.bump(svc.id);
  const healthy = () =>
    w.store.list('service').every((svc) => {
      const want = 'replicated' in svc.mode ? svc.mode.replicated : w.store.count('node');
      const up = w.running(svc.id).filter((x) => x.generation === svc.generation && x.status.state === 'running');
      return up.length === want && w.running(svc.id).length === want;
    });
  for (let i = 0; i < 40 && !healthy(); i++) {
    w.now += 60_000;
    w.work();
    w.settle(12);
    checkInvariants(w, `seed ${SEED} healing round ${i}`);
  }
  ok(healthy(), `seed ${SEED}: healed and updated, every service runs what it asks for`);
});

t.run();
