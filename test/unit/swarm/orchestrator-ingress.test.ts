// The orchestrator's routing-mesh step (agent/swarm/orchestrator.ts,
// ingressLbs; issue 10, REFERENCE "one LB IP per node per network"): with an
// ingress network every node in the store holds exactly one address owned
// `lb:<node id>` in its IPAM record; a node gone gives its address back; a
// pass over a settled cluster changes nothing. Driven as orchestrator.test.ts
// drives reconcile (orchestrator-world.ts): a real Store, every pass's changes
// applied as one batch.
import { suite, equal, is, ok } from '../../harness.js';
import { LB_OWNER_PREFIX, lbOwner, type ReconcileOutput } from '../../../agent/swarm/orchestrator.js';
import { World } from './orchestrator-world.js';

const t = suite('swarm/orchestrator-ingress');
const INGRESS = 'ingress';
/** A World whose passes are not checked against the task address invariants: one test leaves a record of a task that is not there. */
const world = () => new World({ checkAddresses: false });

const kinds = (out: ReconcileOutput) => out.changes.map((c) => `${c.op} ${c.kind}`);

t('lbOwner names the node', () => {
  is(lbOwner('n1'), 'lb:n1');
  is(LB_OWNER_PREFIX, 'lb:');
});

t('with an ingress network every node gets exactly one lb address, in one IPAM update; a second pass changes nothing', () => {
  const w = world().addNetwork('front', '10.0.1.0/24').addNetwork(INGRESS, '10.0.0.0/24', true);
  for (const n of ['n2', 'n1', 'n3']) w.addNode(n);
  const out = w.pass();
  equal(kinds(out), ['update ipam']);
  equal(w.ipam(INGRESS), { '10.0.0.1': 'gateway', '10.0.0.2': 'lb:n1', '10.0.0.3': 'lb:n2', '10.0.0.4': 'lb:n3' }, 'in node id order');
  equal(w.ipam('front'), { '10.0.1.1': 'gateway' }, 'only the ingress network');
  equal(w.pass(), { changes: [] });
  // A node that joins gets one; the others keep theirs.
  w.addNode('n0');
  equal(kinds(w.pass()), ['update ipam']);
  equal(w.lbs(INGRESS), { n0: ['10.0.0.5'], n1: ['10.0.0.2'], n2: ['10.0.0.3'], n3: ['10.0.0.4'] });
  equal(w.pass(), { changes: [] });
});

t('a node no longer in the store gives its address back; the others keep theirs', () => {
  const w = world().addNetwork(INGRESS, '10.0.0.0/24', true).addNode('n1').addNode('n2').addNode('n3');
  w.pass();
  w.removeNode('n2');
  equal(kinds(w.pass()), ['update ipam']);
  equal(w.ipam(INGRESS), { '10.0.0.1': 'gateway', '10.0.0.2': 'lb:n1', '10.0.0.4': 'lb:n3' });
  equal(w.pass(), { changes: [] });
});

t('a record an earlier leader left wrong: a second address of one node and one of a node long gone are given back', () => {
  const w = world().addNetwork(INGRESS, '10.0.0.0/24', true).addNode('n1');
  w.setIpam(INGRESS, { '10.0.0.1': 'gateway', '10.0.0.7': 'lb:n1', '10.0.0.9': 'lb:n1', '10.0.0.8': 'lb:ghost', '10.0.0.10': 'task:elsewhere' });
  equal(kinds(w.pass()), ['update ipam']);
  equal(w.lbs(INGRESS), { n1: ['10.0.0.7'] });
  is(w.ipam(INGRESS)['10.0.0.10'], 'task:elsewhere', 'other owners untouched');
  equal(w.pass(), { changes: [] });
});

t("lb addresses and the tasks' ingress addresses never collide; a full subnet leaves a node without one and the tasks are not refused for it", () => {
  // A /29: .1 the gateway, .2-.6 to share.
  const w = world().addNetwork(INGRESS, '10.0.0.0/29', true).addNode('n1').addNode('n2');
  w.addService('web', { spec: { ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'ingress' }] } });
  w.pass();
  const [task] = w.store.tasks({ serviceId: 'web' });
  equal(task!.addresses, { [INGRESS]: '10.0.0.2/29' }, "the task's address first (services before lbs in a pass)");
  equal(w.lbs(INGRESS), { n1: ['10.0.0.3'], n2: ['10.0.0.4'] });
  w.addNode('n3').addNode('n4').addNode('n5');
  w.pass();
  equal(w.lbs(INGRESS), { n1: ['10.0.0.3'], n2: ['10.0.0.4'], n3: ['10.0.0.5'], n4: ['10.0.0.6'] }, 'n5: none left');
  equal(w.pass(), { changes: [] }, 'still a fixpoint');
  // n1 goes: its address is n5's in the same pass.
  w.removeNode('n1');
  w.pass();
  equal(w.lbs(INGRESS), { n2: ['10.0.0.4'], n3: ['10.0.0.5'], n4: ['10.0.0.6'], n5: ['10.0.0.3'] });
});

t('no ingress network: no lb addresses anywhere, nothing written', () => {
  const w = world().addNetwork('front', '10.0.1.0/24').addNode('n1').addNode('n2');
  equal(w.pass(), { changes: [] });
  equal(w.ipam('front'), { '10.0.1.1': 'gateway' });
  ok(w.store.list('ipam').every((r) => Object.values(r.addresses).every((o) => !o.startsWith(LB_OWNER_PREFIX))));
});

t.run();
