// Store services and tasks as the API shows them (docker's Service and Task
// objects, cut down; agent/api/types.ts).
import type { AttachAnswer, PortSpec, ServiceInspect, TaskInspect } from '../api/types.js';
import type { Store } from '../cluster/store/index.js';
import type { PortConfig, Service, Task } from '../cluster/store/types.js';
import { attachAnswer } from './attach-ops.js';
import { isTerminal, lbOwner, taskContainerName, taskSlotName } from './orchestrator.js';
import { ipamId } from './network-ops.js';
import { serviceNetworkIds } from './service-spec.js';

function iso(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toISOString();
}

function portView(p: PortConfig): PortSpec {
  return { Protocol: p.protocol, TargetPort: p.targetPort, ...(p.publishedPort !== undefined ? { PublishedPort: p.publishedPort } : {}), PublishMode: p.publishMode, ...(p.proxyProtocol !== undefined ? { ProxyProtocol: p.proxyProtocol } : {}) };
}

/** The service a reference names, docker's way: exact id, exact name, then a unique id prefix. */
export function resolveServiceRef(services: readonly Service[], ref: string): Service | { error: 'not-found' | 'ambiguous'; message: string } {
  const exact = services.find((s) => s.id === ref) ?? services.find((s) => s.name === ref);
  if (exact) return exact;
  const byPrefix = ref.length > 0 ? services.filter((s) => s.id.startsWith(ref)) : [];
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) return { error: 'ambiguous', message: `service ${ref} is ambiguous (${byPrefix.length} matches)` };
  return { error: 'not-found', message: `service ${ref} not found` };
}

export function serviceView(s: Service, store: Store): ServiceInspect {
  const ports = s.spec.ports.map(portView);
  const wanted = store.tasks().filter((t) => t.serviceId === s.id && t.desiredState === 'running');
  const running = wanted.filter((t) => t.status.state === 'running').length;
  // Global: the tasks the orchestrator wants running (one per node it placed on), as docker counts them.
  const desired = 'replicated' in s.mode ? s.mode.replicated : wanted.length;
  return {
    ID: s.id,
    Version: { Index: s.meta.version },
    CreatedAt: iso(s.createdAtMs),
    UpdatedAt: iso(s.updatedAtMs),
    Spec: {
      Name: s.name,
      Labels: {},
      TaskTemplate: {
        ContainerSpec: { Command: [...s.spec.command], Env: [...s.spec.env] },
        RestartPolicy: { Condition: s.spec.restart.condition, DelayMs: s.spec.restart.delayMs, MaxAttempts: s.spec.restart.maxAttempts, WindowMs: s.spec.restart.windowMs },
        Placement: { Constraints: [...s.spec.constraints] },
        Networks: s.spec.networks.map((n) => ({ Target: n.target, Aliases: [...n.aliases] })),
        ForceUpdate: s.forceUpdate,
      },
      Mode: 'replicated' in s.mode ? { Replicated: { Replicas: s.mode.replicated } } : { Global: {} },
      UpdateConfig: { Parallelism: 1, Order: s.spec.updateOrder ?? 'stop-first' },
      EndpointSpec: { Mode: s.spec.endpointMode, Ports: ports },
    },
    Endpoint: {
      Spec: { Mode: s.spec.endpointMode, Ports: ports },
      Ports: ports.filter((p) => p.PublishedPort !== undefined),
      VirtualIPs: Object.entries(s.vips)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([NetworkID, Addr]) => ({ NetworkID, Addr })),
    },
    ServiceStatus: { RunningTasks: running, DesiredTasks: desired },
  };
}

export function taskView(t: Task, s: Service, store: Store): TaskInspect {
  const v: TaskInspect = {
    ID: t.id,
    Name: taskSlotName(s.name, t),
    ContainerName: taskContainerName(s.name, t),
    ServiceID: s.id,
    ServiceName: s.name,
    NodeID: t.nodeId,
    NodeHostname: t.nodeId === '' ? '' : (store.get('node', t.nodeId)?.hostname ?? ''),
    DesiredState: t.desiredState,
    Status: { State: t.status.state, Message: t.status.message, Timestamp: iso(t.status.timestampMs) },
    CreatedAt: iso(t.createdAtMs),
    NetworksAttachments: Object.entries(t.addresses).map(([nid, a]) => ({ NetworkID: nid, Name: store.get('network', nid)?.name ?? '', Addresses: [a] })),
  };
  if (t.slot !== undefined) v.Slot = t.slot;
  if (t.status.err !== undefined) v.Status.Err = t.status.err;
  if (t.status.exitCode !== undefined) v.Status.ExitCode = t.status.exitCode;
  return v;
}

/** A task this node should run now: placed here (not pending: a global task may wait on its node for an address), wanted running, not ended. */
export function runsOn(t: Task, nodeId: string): boolean {
  return t.serviceId !== undefined && t.nodeId === nodeId && t.desiredState === 'running' && t.status.state !== 'pending' && !isTerminal(t);
}

/** A task as a node is told to run it (the assignment's `tasks`). */
export interface AssignedTask {
  id: string;
  /** web.1.<id>: what `agent ps` and `agent exec` know it by. */
  name: string;
  serviceId: string;
  serviceName: string;
  slot?: number;
  command: string[];
  env: string[];
  /** One per network, in the service's order (ingress last). */
  networks: AttachAnswer[];
  /** The service's VIP on each of those networks (plain IPv4), vip mode only: what its DNS record points at. */
  vips: Record<string, string>;
  /** Its host-mode ports (issue 10): published on this node, straight to this task. Absent from an older leader's: none. */
  hostPorts?: AssignedPort[];
}

/** A published port as a node applies it. */
export interface AssignedPort {
  protocol: 'tcp' | 'udp';
  published: number;
  target: number;
  /** Send a PROXY protocol v2 header first (ingress mode, tcp). */
  proxyProtocol?: 'v2';
}

/** What every node needs for the routing mesh (issue 10): its address on the ingress network and every ingress port. */
export interface IngressAssignment {
  /** The ingress network, with this node's load-balancer address as Address. */
  network: AttachAnswer;
  /** The services publishing in ingress mode, by id. */
  services: { id: string; name: string; ports: AssignedPort[] }[];
}

function assignedPort(p: PortConfig): AssignedPort {
  return { protocol: p.protocol, published: p.publishedPort!, target: p.targetPort, ...(p.proxyProtocol !== undefined ? { proxyProtocol: p.proxyProtocol } : {}) };
}

/** The routing mesh as node nodeId applies it; undefined while there is no ingress network or no address for the node yet. */
export function ingressAssignment(store: Store, nodeId: string): IngressAssignment | undefined {
  const n = store.list('network').find((x) => x.ingress);
  if (!n || n.vni === undefined) return undefined;
  const owner = lbOwner(nodeId);
  const address = Object.entries(store.get('ipam', ipamId(n.id))?.addresses ?? {}).find(([, o]) => o === owner)?.[0];
  if (address === undefined) return undefined;
  const prefix = n.ipam.subnet.split('/')[1]!;
  const services = store
    .list('service')
    .map((s) => ({ id: s.id, name: s.name, ports: s.spec.ports.filter((p) => p.publishMode === 'ingress' && p.publishedPort !== undefined).map(assignedPort) }))
    .filter((s) => s.ports.length > 0)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  return { network: attachAnswer(n, `${address}/${prefix}`), services };
}

/** The tasks node nodeId should run now, with what it needs to plumb them. */
export function assignedTasks(store: Store, nodeId: string): AssignedTask[] {
  const out: AssignedTask[] = [];
  for (const t of store.tasks()) {
    if (!runsOn(t, nodeId)) continue;
    const s = store.get('service', t.serviceId!);
    if (!s) continue;
    // The service's order (ingress last), not the store's (canonical CBOR sorts map keys): eth0 is the first --network.
    const networks: AttachAnswer[] = [];
    for (const nid of serviceNetworkIds(s.spec, store.list('network'))) {
      const n = store.get('network', nid);
      const address = t.addresses[nid];
      if (n && n.vni !== undefined && address !== undefined) networks.push(attachAnswer(n, address));
    }
    out.push({
      id: t.id,
      name: taskContainerName(s.name, t),
      serviceId: s.id,
      serviceName: s.name,
      ...(t.slot !== undefined ? { slot: t.slot } : {}),
      command: [...s.spec.command],
      env: [...s.spec.env],
      networks,
      vips: Object.fromEntries(Object.entries(s.vips).map(([nid, cidr]) => [nid, cidr.split('/')[0]!])),
      hostPorts: s.spec.ports.filter((p) => p.publishMode === 'host' && p.publishedPort !== undefined).map(assignedPort),
    });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}
