// The orchestrator's routing-mesh step (agent/swarm/orchestrator.ts,
// ingressLbs; issue 10, REFERENCE "one LB IP per node per network"): with an
// ingress network every node in the store holds exactly one address owned
// `lb:<node id>` in its IPAM record; a node gone gives its address back; a
// pass over a settled cluster changes nothing. Driven as orchestrator.test.ts
// drives reconcile: a real Store, every pass's changes applied as one batch.
import { suite, equal, is, ok } from '../../harness.js';
import { Store, batch, create, encodeCommand, remove, update, type Change } from '../../../agent/cluster/store/index.js';
import type { Draft } from '../../../agent/cluster/store/types.js';
import { defaultGateway } from '../../../agent/network/ipam.js';
import { ipamId } from '../../../agent/swarm/network-ops.js';
import { LB_OWNER_PREFIX, lbOwner, reconcile, type ReconcileOutput } from '../../../agent/swarm/orchestrator.js';

const t = suite('swarm/orchestrator-ingress');
const T0 = 1_700_000_000_000;
const INGRESS = 'ingress';

class World {
  readonly store = new Store();
  #index = 0;
  #ids = 0;
  #vni = 4096;

  commit(...changes: Change[]): void {
    if (changes.length === 0) return;
    const r = this.store.apply(++this.#index, encodeCommand(batch(...changes)));
    if (!r.ok) throw r.error;
  }

  addNode(id: string): this {
    this.commit(
      create('node', {
        id, role: 'worker', availability: 'active', hostname: `host-${id}`, addr: '192.0.2.1:2377', dataAddr: '192.0.2.1',
        publicKey: new Uint8Array(32), labels: {}, status: { state: 'ready', message: '' },
      }),
    );
    return this;
  }

  removeNode(id: string): void {
    this.commit(remove('node', id, this.store.get('node', id)!.meta.version));
  }

  addNetwork(id: string, subnet: string, ingress = false): this {
    const gateway = defaultGateway(subnet);
    this.commit(
      create('network', {
        id, name: id, driver: 'overlay', vni: this.#vni++, ipam: { subnet, gateway }, options: {}, labels: {},
        attachable: false, ingress, internal: false, encrypted: false,
      }),
      create('ipam', { id: ipamId(id), networkId: id, pool: subnet, subnet, addresses: { [gateway]: 'gateway' } }),
    );
    return this;
  }

  addService(id: string, over: Partial<Draft<'service'>['spec']> = {}): this {
    this.commit(
      create('service', {
        id, name: id, mode: { replicated: 1 },
        spec: { command: ['sleep', 'inf'], env: [], networks: [], ports: [], endpointMode: 'vip', constraints: [], restart: { condition: 'any', delayMs: 0, maxAttempts: 0, windowMs: 0 }, ...over },
        vips: {}, generation: 1, forceUpdate: 0,
      }),
    );
    return this;
  }

  /** Write the IPAM record of a network as given (a state an earlier leader left). */
  setIpam(networkId: string, addresses: Record<string, string>): void {
    const r = this.store.get('ipam', ipamId(networkId))!;
    const { meta, ...rest } = r;
    this.commit(update('ipam', { ...rest, addresses }, meta.version));
  }

  pass(): ReconcileOutput {
    const run = () => {
      let n = this.#ids;
      const out = reconcile({
        services: this.store.list('service'),
        tasks: this.store.tasks(),
        nodes: this.store.list('node'),
        networks: this.store.list('network'),
        ipams: this.store.list('ipam'),
        nowMs: T0,
        newId: () => `t${String(++n).padStart(24, '0')}`,
      });
      return [out, n] as const;
    };
    const [out, n] = run();
    equal(run()[0], out, 'the same input gives the same output');
    this.#ids = n;
    this.commit(...out.changes);
    return out;
  }

  ipam(networkId: string): Record<string, string> {
    return this.store.get('ipam', ipamId(networkId))!.addresses;
  }

  /** node id -> its lb addresses on the network. */
  lbs(networkId: string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [a, owner] of Object.entries(this.ipam(networkId))) {
      if (!owner.startsWith(LB_OWNER_PREFIX)) continue;
      (out[owner.slice(LB_OWNER_PREFIX.length)] ??= []).push(a);
    }
    return out;
  }
}

const kinds = (out: ReconcileOutput) => out.changes.map((c) => `${c.op} ${c.kind}`);

t('lbOwner names the node', () => {
  is(lbOwner('n1'), 'lb:n1');
  is(LB_OWNER_PREFIX, 'lb:');
});

t('with an ingress network every node gets exactly one lb address, in one IPAM update; a second pass changes nothing', () => {
  const w = new World().addNetwork('front', '10.0.1.0/24').addNetwork(INGRESS, '10.0.0.0/24', true);
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
  const w = new World().addNetwork(INGRESS, '10.0.0.0/24', true).addNode('n1').addNode('n2').addNode('n3');
  w.pass();
  w.removeNode('n2');
  equal(kinds(w.pass()), ['update ipam']);
  equal(w.ipam(INGRESS), { '10.0.0.1': 'gateway', '10.0.0.2': 'lb:n1', '10.0.0.4': 'lb:n3' });
  equal(w.pass(), { changes: [] });
});

t('a record an earlier leader left wrong: a second address of one node and one of a node long gone are given back', () => {
  const w = new World().addNetwork(INGRESS, '10.0.0.0/24', true).addNode('n1');
  w.setIpam(INGRESS, { '10.0.0.1': 'gateway', '10.0.0.7': 'lb:n1', '10.0.0.9': 'lb:n1', '10.0.0.8': 'lb:ghost', '10.0.0.10': 'task:elsewhere' });
  equal(kinds(w.pass()), ['update ipam']);
  equal(w.lbs(INGRESS), { n1: ['10.0.0.7'] });
  is(w.ipam(INGRESS)['10.0.0.10'], 'task:elsewhere', 'other owners untouched');
  equal(w.pass(), { changes: [] });
});

t("lb addresses and the tasks' ingress addresses never collide; a full subnet leaves a node without one and the tasks are not refused for it", () => {
  // A /29: .1 the gateway, .2-.6 to share.
  const w = new World().addNetwork(INGRESS, '10.0.0.0/29', true).addNode('n1').addNode('n2');
  w.addService('web', { ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'ingress' }] });
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
  const w = new World().addNetwork('front', '10.0.1.0/24').addNode('n1').addNode('n2');
  equal(w.pass(), { changes: [] });
  equal(w.ipam('front'), { '10.0.1.1': 'gateway' });
  ok(w.store.list('ipam').every((r) => Object.values(r.addresses).every((o) => !o.startsWith(LB_OWNER_PREFIX))));
});

t.run();
