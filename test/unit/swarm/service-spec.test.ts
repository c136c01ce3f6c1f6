// Service specs on the leader (agent/swarm/service-spec.ts): docker's
// defaults, every refusal in one line, published ports from the dynamic
// range without collisions, and updates that change only what they name.
import { suite, is, equal, throws, match } from '../../harness.js';
import type { Network, Service, ServiceSpec } from '../../../agent/cluster/store/types.js';
import { RemoteError } from '../../../agent/swarm/rpc.js';
import { allocatePorts, checkIngress, checkServiceName, DEFAULT_RESTART, modeOf, serviceNetworkIds, specOf, updatedSpec } from '../../../agent/swarm/service-spec.js';

const t = suite('swarm/service-spec');
const META = { version: 1, createdAtIndex: 1, updatedAtIndex: 1 };

function net(id: string, name: string, extra: Partial<Network> = {}): Network {
  return { id, name, driver: 'overlay', vni: 4096, ipam: { subnet: '10.0.1.0/24', gateway: '10.0.1.1' }, options: {}, labels: {}, attachable: false, ingress: false, internal: false, encrypted: false, meta: META, ...extra };
}
const NETS = [net('n1front0000000000000000001', 'front'), net('n2back00000000000000000002', 'back'), net('n3ingress000000000000000003', 'ingress', { ingress: true })];

function svc(id: string, name: string, ports: ServiceSpec['ports']): Service {
  return { id, name, mode: { replicated: 1 }, spec: { command: ['x'], env: [], networks: [], ports, endpointMode: 'vip', constraints: [], restart: DEFAULT_RESTART }, vips: {}, generation: 1, forceUpdate: 0, meta: META };
}

function refused(f: () => unknown, re: RegExp): void {
  try {
    f();
  } catch (e) {
    is(e instanceof RemoteError, true, `a RemoteError: ${String(e)}`);
    match((e as Error).message, re);
    return;
  }
  throw new Error(`expected a refusal matching ${re}`);
}

t('defaults: one replica, vip, restart any after 5 s, stop-first', () => {
  const s = specOf({ Name: 'web', Command: ['sleep', '1'] }, NETS);
  equal(modeOf(undefined), { replicated: 1 });
  equal(s, { command: ['sleep', '1'], env: [], networks: [], ports: [], endpointMode: 'vip', constraints: [], restart: { condition: 'any', delayMs: 5_000, maxAttempts: 0, windowMs: 0 } });
  equal(modeOf({ Global: {} }), { global: true });
  equal(modeOf({ Replicated: { Replicas: 3 } }), { replicated: 3 });
});

t('refusals, one line each', () => {
  refused(() => checkServiceName('bad_name'), /invalid service name "bad_name"/);
  refused(() => checkServiceName('-x'), /DNS name component/);
  is(checkServiceName('web-1'), 'web-1');
  refused(() => specOf({ Name: 'w', Command: [] }, NETS), /a command is required/);
  refused(() => specOf({ Name: 'w', Command: ['x'], Networks: ['nosuch'] }, NETS), /^network nosuch not found$/);
  refused(() => specOf({ Name: 'w', Command: ['x'], Networks: ['ingress'] }, NETS), /cannot be explicitly attached to the ingress network "ingress"/);
  refused(() => specOf({ Name: 'w', Command: ['x'], Networks: ['front', 'n1front'] }, NETS), /network front is given twice/);
  refused(() => specOf({ Name: 'w', Command: ['x'], Env: ['NOVALUE'] }, NETS), /invalid environment variable "NOVALUE": expected KEY=VALUE/);
  refused(() => specOf({ Name: 'w', Command: ['x'], Constraints: ['node.colour==red'] }, NETS), /constraint/);
  refused(() => specOf({ Name: 'w', Command: ['x'], EndpointMode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] }, NETS), /dnsrr/);
  refused(() => specOf({ Name: 'w', Command: ['x'], Ports: [{ Protocol: 'tcp', TargetPort: 0, PublishMode: 'ingress' }] }, NETS), /invalid target port 0/);
  refused(() => modeOf({ Replicated: { Replicas: -1 } }), /replicas: expected an integer from 0/);
});

t('published ports: taken ones refused with the owner, blank ones from 30000 up, tcp and udp apart', () => {
  const others = [svc('s1aaaaaaaaaaaaaaaaaaaaaaa', 'web', [{ protocol: 'tcp', targetPort: 80, publishedPort: 30000, publishMode: 'ingress' }])];
  refused(() => allocatePorts([{ protocol: 'tcp', targetPort: 80, publishedPort: 30000, publishMode: 'ingress' }], others, undefined), /port '30000' is already in use by service 'web' \(s1aaaaaaaaaaaaaaaaaaaaaaa\) as an ingress port/);
  equal(allocatePorts([{ protocol: 'tcp', targetPort: 80, publishedPort: 30000, publishMode: 'ingress' }], others, 's1aaaaaaaaaaaaaaaaaaaaaaa'), [{ protocol: 'tcp', targetPort: 80, publishedPort: 30000, publishMode: 'ingress' }], 'its own port is not a conflict on update');
  equal(
    allocatePorts([{ protocol: 'tcp', targetPort: 80, publishMode: 'ingress' }, { protocol: 'tcp', targetPort: 81, publishMode: 'ingress' }, { protocol: 'udp', targetPort: 53, publishMode: 'ingress' }], others, undefined).map((p) => `${p.publishedPort}/${p.protocol}`),
    ['30001/tcp', '30002/tcp', '30000/udp'],
  );
  refused(() => allocatePorts([{ protocol: 'udp', targetPort: 1, publishedPort: 9, publishMode: 'ingress' }, { protocol: 'udp', targetPort: 2, publishedPort: 9, publishMode: 'ingress' }], [], undefined), /duplicate published port 9\/udp/);
  equal(allocatePorts([{ protocol: 'tcp', targetPort: 80, publishMode: 'host' }], [], undefined), [{ protocol: 'tcp', targetPort: 80, publishMode: 'host' }], 'host mode: no port chosen');
});

t('updates change only what they name', () => {
  const old = specOf({ Name: 'w', Command: ['x'], Networks: ['front'], Env: ['A=1', 'B=2'], Constraints: ['node.role==worker'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] }, NETS);
  const next = updatedSpec(old, { NetworksAdd: ['back'], NetworksRm: ['front'], EnvAdd: ['A=9', 'C=3'], EnvRm: ['B'], PortsRm: [{ PublishedPort: 8080 }], PortsAdd: [{ Protocol: 'udp', TargetPort: 53, PublishedPort: 5353, PublishMode: 'ingress' }], ConstraintsRm: ['node.role==worker'], ConstraintsAdd: ['node.hostname!=h1'], RestartPolicy: { Condition: 'on-failure' }, UpdateOrder: 'start-first' }, NETS);
  equal(next.networks, [{ target: 'n2back00000000000000000002', aliases: [] }]);
  equal(next.env, ['A=9', 'C=3']);
  equal(next.ports, [{ protocol: 'udp', targetPort: 53, publishedPort: 5353, publishMode: 'ingress' }]);
  equal(next.constraints, ['node.hostname!=h1']);
  equal(next.restart, { ...DEFAULT_RESTART, condition: 'on-failure' });
  is(next.updateOrder, 'start-first');
  equal(next.command, ['x']);
  equal(updatedSpec(old, {}, NETS), old, 'an empty update is no change');
  // docker's --publish-rm 80 (by target port) with --publish-add 8082:80: the removal goes first.
  const twice = specOf({ Name: 'w', Command: ['x'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }, { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8081, PublishMode: 'ingress' }, { Protocol: 'tcp', TargetPort: 81, PublishedPort: 9091, PublishMode: 'ingress' }] }, NETS);
  const moved = updatedSpec(twice, { PortsRm: [{ TargetPort: 80 }], PortsAdd: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8082, PublishMode: 'ingress' }] }, NETS);
  equal(moved.ports.map((p) => `${p.publishedPort}:${p.targetPort}`), ['9091:81', '8082:80']);
  refused(() => updatedSpec(old, { NetworksAdd: ['front'] }, NETS), /already attached to network front/);
  refused(() => updatedSpec(old, { NetworksRm: ['back'] }, NETS), /network back is not attached/);
  throws(() => updatedSpec(old, { Command: [] }, NETS));
});

t('a service that publishes through the mesh sits on ingress too, last', () => {
  const s = specOf({ Name: 'w', Command: ['x'], Networks: ['back', 'front'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishMode: 'ingress' }] }, NETS);
  equal(serviceNetworkIds(s, NETS), ['n2back00000000000000000002', 'n1front0000000000000000001', 'n3ingress000000000000000003']);
  const h = specOf({ Name: 'w', Command: ['x'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishMode: 'host' }] }, NETS);
  equal(serviceNetworkIds(h, NETS), [], 'host mode: no ingress');
});

t('proxy-protocol=v2 (issue 10): kept on a tcp ingress port through create, update and allocation; refused elsewhere in one line', () => {
  const proxied = { Protocol: 'tcp', TargetPort: 443, PublishedPort: 8443, PublishMode: 'ingress', ProxyProtocol: 'v2' } as const;
  const s = specOf({ Name: 'w', Command: ['x'], Ports: [proxied, { Protocol: 'tcp', TargetPort: 80, PublishMode: 'ingress' }] }, NETS);
  equal(s.ports, [{ protocol: 'tcp', targetPort: 443, publishedPort: 8443, publishMode: 'ingress', proxyProtocol: 'v2' }, { protocol: 'tcp', targetPort: 80, publishMode: 'ingress' }]);
  equal(allocatePorts(s.ports, [], undefined).map((p) => [p.publishedPort, p.proxyProtocol]), [[8443, 'v2'], [30000, undefined]], 'allocation keeps it; no key when not asked');
  // --publish-add of the same published port without it replaces the port, and so drops it; with it, adds it back.
  const plain = updatedSpec(s, { PortsAdd: [{ Protocol: 'tcp', TargetPort: 443, PublishedPort: 8443, PublishMode: 'ingress' }] }, NETS);
  equal(plain.ports.find((p) => p.publishedPort === 8443), { protocol: 'tcp', targetPort: 443, publishedPort: 8443, publishMode: 'ingress' });
  equal(updatedSpec(plain, { PortsAdd: [proxied] }, NETS).ports.find((p) => p.publishedPort === 8443)?.proxyProtocol, 'v2');
  equal(updatedSpec(s, { PortsRm: [{ PublishedPort: 8443 }] }, NETS).ports, [{ protocol: 'tcp', targetPort: 80, publishMode: 'ingress' }], '--publish-rm takes it with its port');
  const needs = /^proxy-protocol=v2 needs a tcp port published in ingress mode$/;
  refused(() => specOf({ Name: 'w', Command: ['x'], Ports: [{ ...proxied, Protocol: 'udp' }] }, NETS), needs);
  refused(() => specOf({ Name: 'w', Command: ['x'], Ports: [{ ...proxied, PublishMode: 'host' }] }, NETS), needs);
  refused(() => updatedSpec(s, { PortsAdd: [{ ...proxied, PublishMode: 'host' }] }, NETS), needs);
  refused(() => specOf({ Name: 'w', Command: ['x'], Ports: [{ ...proxied, ProxyProtocol: 'v1' as 'v2' }] }, NETS), /^invalid proxy protocol "v1": expected v2$/);
});

t("no ingress network: ingress-mode ports refused in docker's words; host-mode ports and no ports need none", () => {
  const plain = NETS.filter((n) => !n.ingress);
  const ingress = specOf({ Name: 'w', Command: ['x'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishMode: 'ingress' }] }, plain);
  refused(() => checkIngress(ingress, plain), /^service needs ingress network, but no ingress network is present$/);
  checkIngress(ingress, NETS);
  checkIngress(specOf({ Name: 'w', Command: ['x'], Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }] }, plain), plain);
  checkIngress(specOf({ Name: 'w', Command: ['x'], Networks: ['front'] }, plain), plain);
  equal(serviceNetworkIds(ingress, plain), [], 'the networks themselves are still computed without it (the orchestrator reads them so)');
});

t.run();
