// What a node is told of the routing mesh (agent/swarm/service-views.ts,
// issue 10): ingressAssignment (its lb address on the ingress network and
// every service's ingress-mode ports) and each assigned task's host-mode
// ports, read from a real Store.
import { suite, equal, is } from '../../harness.js';
import { Store, batch, create, encodeCommand, type Change } from '../../../agent/cluster/store/index.js';
import type { Draft, PortConfig } from '../../../agent/cluster/store/types.js';
import { ipamId } from '../../../agent/swarm/network-ops.js';
import { lbOwner } from '../../../agent/swarm/orchestrator.js';
import { assignedTasks, ingressAssignment } from '../../../agent/swarm/service-views.js';

const t = suite('swarm/service-views-mesh');
const ING = 'ingressnet000000000000000';

function world() {
  const store = new Store();
  let index = 0;
  const commit = (...changes: Change[]) => {
    const r = store.apply(++index, encodeCommand(batch(...changes)));
    if (!r.ok) throw r.error;
  };
  const network = (id: string, o: { ingress?: boolean; vni?: number; subnet?: string; addresses?: Record<string, string> } = {}) => {
    const subnet = o.subnet ?? '10.0.0.0/24';
    const gateway = subnet.replace(/0\/\d+$/, '1');
    commit(
      create('network', {
        id, name: id === ING ? 'ingress' : id, driver: 'overlay', ...(o.vni === undefined ? {} : { vni: o.vni }), ipam: { subnet, gateway }, options: {}, labels: {},
        attachable: false, ingress: o.ingress ?? false, internal: false, encrypted: false,
      }),
      create('ipam', { id: ipamId(id), networkId: id, pool: subnet, subnet, addresses: { [gateway]: 'gateway', ...o.addresses } }),
    );
  };
  const service = (id: string, ports: PortConfig[], networks: string[] = []) =>
    commit(
      create('service', {
        id, name: `name-${id}`, mode: { replicated: 1 },
        spec: { command: ['sleep', 'inf'], env: [], networks: networks.map((target) => ({ target, aliases: [] })), ports, endpointMode: 'vip', constraints: [], restart: { condition: 'any', delayMs: 0, maxAttempts: 0, windowMs: 0 } },
        vips: {}, generation: 1, forceUpdate: 0,
      }),
    );
  const task = (id: string, serviceId: string, nodeId: string, addresses: Record<string, string> = {}) =>
    commit(create('task', { id, serviceId, slot: 1, nodeId, desiredState: 'running', status: { state: 'assigned', message: '' }, addresses, generation: 1 } satisfies Draft<'task'>));
  return { store, network, service, task };
}

const ingressPort = (publishedPort: number | undefined, over: Partial<PortConfig> = {}): PortConfig => ({ protocol: 'tcp', targetPort: 80, ...(publishedPort === undefined ? {} : { publishedPort }), publishMode: 'ingress', ...over });
const hostPort = (publishedPort: number, over: Partial<PortConfig> = {}): PortConfig => ({ protocol: 'tcp', targetPort: 80, publishedPort, publishMode: 'host', ...over });

t('undefined without an ingress network, with one not yet given a VNI, and for a node without its lb address', () => {
  const w = world();
  w.network('front', { vni: 4097, addresses: { '10.0.0.5': lbOwner('n1') } });
  w.service('s1', [ingressPort(8080)]);
  is(ingressAssignment(w.store, 'n1'), undefined, 'no ingress network (an lb entry elsewhere means nothing)');
  w.network(ING, { ingress: true, subnet: '10.255.0.0/16', addresses: { '10.255.0.2': lbOwner('n1') } });
  is(ingressAssignment(w.store, 'n1'), undefined, 'no VNI yet');
});

t("the node's lb address as the network's Address (with the subnet's prefix); only services with ingress-mode published ports, by id, proxy-protocol kept", () => {
  const w = world();
  w.network(ING, { ingress: true, vni: 4096, subnet: '10.255.0.0/16', addresses: { '10.255.0.3': lbOwner('n1'), '10.255.0.4': lbOwner('n2'), '10.255.0.9': 'task:x' } });
  w.service('zeta', [ingressPort(8080), ingressPort(5353, { protocol: 'udp', targetPort: 53 })]);
  w.service('alpha', [hostPort(9000), ingressPort(8443, { targetPort: 443, proxyProtocol: 'v2' }), ingressPort(undefined)]);
  w.service('hostonly', [hostPort(9100)]);
  w.service('none', []);
  is(ingressAssignment(w.store, 'n3'), undefined, 'n3 has no lb address yet');
  equal(ingressAssignment(w.store, 'n1'), {
    network: { NetworkID: ING, Name: 'ingress', VNI: 4096, Subnet: '10.255.0.0/16', Gateway: '10.255.0.1', Address: '10.255.0.3/16', Encrypted: false, Internal: false },
    services: [
      { id: 'alpha', name: 'name-alpha', ports: [{ protocol: 'tcp', published: 8443, target: 443, proxyProtocol: 'v2' }] },
      {
        id: 'zeta',
        name: 'name-zeta',
        ports: [
          { protocol: 'tcp', published: 8080, target: 80 },
          { protocol: 'udp', published: 5353, target: 53 },
        ],
      },
    ],
  });
  is(ingressAssignment(w.store, 'n2')!.network.Address, '10.255.0.4/16');
});

t('an ingress network with no ingress services: the address, no services', () => {
  const w = world();
  w.network(ING, { ingress: true, vni: 4096, addresses: { '10.0.0.2': lbOwner('n1') } });
  w.service('s', [hostPort(9000)]);
  equal(ingressAssignment(w.store, 'n1')!.services, []);
});

t("assignedTasks: a task's hostPorts are its service's host-mode ports only; none: an empty list", () => {
  const w = world();
  w.network(ING, { ingress: true, vni: 4096, addresses: { '10.0.0.2': lbOwner('n1') } });
  w.service('mixed', [hostPort(9000), hostPort(9001, { protocol: 'udp', targetPort: 91 }), ingressPort(8080)], []);
  w.service('plain', []);
  w.task('task1', 'mixed', 'n1', { [ING]: '10.0.0.7/24' });
  w.task('task2', 'plain', 'n1');
  w.task('task3', 'mixed', 'n2');
  const ts = assignedTasks(w.store, 'n1');
  equal(ts.map((x) => [x.id, x.hostPorts]), [
    [
      'task1',
      [
        { protocol: 'tcp', published: 9000, target: 80 },
        { protocol: 'udp', published: 9001, target: 91 },
      ],
    ],
    ['task2', []],
  ]);
  equal(ts[0]!.networks.map((n) => n.Address), ['10.0.0.7/24'], 'the task still sits on ingress with its own address');
});

t.run();
