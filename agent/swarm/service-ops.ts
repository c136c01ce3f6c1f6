// Services on the leader (issue 8): create, list, inspect, update and remove
// services; list tasks; take task status from the nodes that run them; and
// gather a service's logs from those nodes. A service and its VIPs (one
// address per network in vip mode, owner `vip:<id>`) are written in one
// batch; the tasks are the orchestrator's (orchestrator.ts, run by
// orchestrator-loop.ts). Writes run under NetworkOps.exclusive with every
// other writer of IPAM records, so two never take the same address.
import type { Clock } from '../../shared/clock.js';
import type { Rand } from '../../shared/rand.js';
import type { DatapathReport, ServiceCreateRequest, ServiceInspect, ServiceLogs, ServiceUpdateRequest, TaskInspect } from '../api/types.js';
import { encodeBase36 } from '../cluster/ca/base36.js';
import { batch, create, remove, update, type Change, type Store } from '../cluster/store/index.js';
import type { IpamAllocation, Service, Task, TaskState } from '../cluster/store/types.js';
import { AddressSpace, IpamError } from '../network/ipam.js';
import { conflict, denied, invalid, notFound } from './errors.js';
import type { LeaderOps } from './leader-ops.js';
import { ipamId } from './network-ops.js';
import { isTerminal } from './orchestrator.js';
import { allocatePorts, checkIngress, checkServiceName, modeOf, replicas, serviceNetworkIds, specOf, updatedSpec } from './service-spec.js';
import { resolveServiceRef, serviceView, taskView } from './service-views.js';

const ID_BYTES = 16;
/** States a node may report, in lifecycle order: a report never moves a task back. */
const REPORTABLE: readonly TaskState[] = ['preparing', 'starting', 'running', 'complete', 'failed', 'rejected', 'shutdown'];
const ORDER: readonly TaskState[] = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running'];
/** Each node's answer to a logs request is bounded by this. */
const LOGS_TIMEOUT_MS = 5_000;

export function vipOwner(serviceId: string): string {
  return `vip:${serviceId}`;
}

export interface TaskStatusReport {
  nodeId: string;
  taskId: string;
  state: TaskState;
  message: string;
  err?: string;
  exitCode?: number;
  timestampMs: number;
}

/** What a node answers to a `logs` request: per task, the bytes from the offset asked for. */
export type NodeLogs = { taskId: string; data: string; next: number }[];

export interface ServiceOpsDeps {
  leader: LeaderOps;
  rand: Rand;
  clock: Clock;
  /** Ask a node over its dispatcher session (the leader's end); rejects if it has none. */
  callNode(nodeId: string, method: string, args: unknown, timeoutMs: number): Promise<unknown>;
}

export class ServiceOps {
  readonly #d: ServiceOpsDeps;

  constructor(d: ServiceOpsDeps) {
    this.#d = d;
  }

  #exclusive<T>(f: () => Promise<T>): Promise<T> {
    return this.#d.leader.networks.exclusive(f);
  }

  create(req: ServiceCreateRequest): Promise<{ ID: string; Warnings: string[] }> {
    return this.#exclusive(async () => {
      const name = checkServiceName(req.Name);
      const mode = modeOf(req.Mode);
      const store = await this.#d.leader.read();
      const networks = store.list('network');
      const spec = specOf(req, networks);
      if (store.findByName('service', name)) throw conflict(`service ${name} already exists`);
      spec.ports = allocatePorts(spec.ports, store.list('service'), undefined);
      // Its networks (serviceNetworkIds) take ingress for ingress-mode ports: there must be one.
      checkIngress(spec, networks);
      const id = encodeBase36(this.#d.rand.bytes(ID_BYTES)).slice(0, 25);
      const now = Math.floor(this.#d.clock.wallMs());
      const vips = new Vips(store);
      const draft: Omit<Service, 'meta'> = {
        id,
        name,
        mode,
        spec,
        vips: spec.endpointMode === 'vip' ? vips.set(id, {}, serviceNetworkIds(spec, networks)) : {},
        generation: 1,
        forceUpdate: 0,
        createdAtMs: now,
        updatedAtMs: now,
      };
      await this.#d.leader.commit(batch(create('service', draft), ...vips.changes()));
      return { ID: id, Warnings: [] };
    });
  }

  async list(): Promise<ServiceInspect[]> {
    const store = await this.#d.leader.read();
    return store
      .list('service')
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((s) => withPortErrors(serviceView(s, store), store, this.#d.leader.datapathReports()));
  }

  async inspect(ref: string): Promise<ServiceInspect> {
    const store = await this.#d.leader.read();
    return withPortErrors(serviceView(this.#service(store, ref), store), store, this.#d.leader.datapathReports());
  }

  update(ref: string, req: ServiceUpdateRequest): Promise<{ Warnings: string[] }> {
    return this.#exclusive(async () => {
      const store = await this.#d.leader.read();
      const s = this.#service(store, ref);
      const networks = store.list('network');
      let mode = s.mode;
      if (req.Replicas !== undefined) {
        if (!('replicated' in s.mode)) throw invalid('replicas can only be used with replicated mode');
        mode = { replicated: replicas(req.Replicas) };
      }
      const spec = updatedSpec(s.spec, req, networks);
      spec.ports = allocatePorts(spec.ports, store.list('service'), s.id);
      checkIngress(spec, networks);
      const changed = JSON.stringify(spec) !== JSON.stringify(s.spec);
      const force = req.Force === true;
      const vips = new Vips(store);
      const { meta, ...rest } = s;
      const next: Omit<Service, 'meta'> = {
        ...rest,
        mode,
        spec,
        vips: spec.endpointMode === 'vip' ? vips.set(s.id, s.vips, serviceNetworkIds(spec, networks)) : s.vips,
        generation: s.generation + (changed || force ? 1 : 0),
        forceUpdate: s.forceUpdate + (force ? 1 : 0),
        updatedAtMs: Math.floor(this.#d.clock.wallMs()),
      };
      await this.#d.leader.commit(batch(update('service', next, meta.version), ...vips.changes()));
      return { Warnings: [] };
    });
  }

  /** The service goes at once with its VIPs; its tasks are stopped and removed by the orchestrator. */
  remove(ref: string): Promise<void> {
    return this.#exclusive(async () => {
      const store = await this.#d.leader.read();
      const s = this.#service(store, ref);
      const vips = new Vips(store);
      vips.set(s.id, s.vips, []);
      await this.#d.leader.commit(batch(remove('service', s.id, s.meta.version), ...vips.changes()));
    });
  }

  /** Tasks of a service (or of a node), each slot's newest first. */
  async tasks(filter: { service?: string; node?: string }): Promise<TaskInspect[]> {
    const store = await this.#d.leader.read();
    const service = filter.service !== undefined ? this.#service(store, filter.service) : undefined;
    const nodeId = filter.node !== undefined ? this.#d.leader.nodeRef(store, filter.node).id : undefined;
    return store
      .tasks()
      .filter((t) => t.serviceId !== undefined && (service === undefined || t.serviceId === service.id) && (nodeId === undefined || t.nodeId === nodeId))
      .flatMap((t) => {
        const s = store.get('service', t.serviceId!);
        return s ? [taskView(t, s, store)] : [];
      })
      .sort(taskOrder);
  }

  /** A node reports what became of one of its tasks. */
  taskStatus(r: TaskStatusReport): Promise<void> {
    return this.#exclusive(async () => {
      if (!REPORTABLE.includes(r.state)) throw invalid(`taskStatus: state ${JSON.stringify(r.state)} is not one a node reports`);
      const store = await this.#d.leader.read();
      const t = store.get('task', r.taskId);
      if (!t) return;
      if (t.nodeId !== r.nodeId) throw denied(`taskStatus: task ${r.taskId} belongs to another node`);
      if (isTerminal(t) || (ORDER.indexOf(r.state) >= 0 && ORDER.indexOf(r.state) < ORDER.indexOf(t.status.state))) return;
      const { meta, ...rest } = t;
      const status: Task['status'] = { state: r.state, message: r.message, timestampMs: r.timestampMs };
      if (r.err !== undefined) status.err = r.err;
      if (r.exitCode !== undefined) status.exitCode = r.exitCode;
      await this.#d.leader.commit(update('task', { ...rest, status }, meta.version));
    });
  }

  /**
   * Each task's log from the offsets given, gathered from the nodes that ran
   * them (in parallel; a node without a session adds nothing). tail: on a
   * first read, only the last N lines of each.
   */
  async logs(ref: string, offsets: Readonly<Record<string, number>>, tail: number | undefined): Promise<ServiceLogs> {
    const store = await this.#d.leader.read();
    const s = this.#service(store, ref);
    const byNode = new Map<string, Task[]>();
    for (const t of store.tasks()) {
      if (t.serviceId !== s.id || t.nodeId === '') continue;
      byNode.set(t.nodeId, [...(byNode.get(t.nodeId) ?? []), t]);
    }
    const chunks: ServiceLogs['Chunks'] = [];
    await Promise.all(
      [...byNode].map(async ([nodeId, tasks]) => {
        let got: NodeLogs;
        try {
          const ask = tasks.map((t) => ({ taskId: t.id, offset: offsets[t.id] ?? 0 }));
          got = (await this.#d.callNode(nodeId, 'logs', { tasks: ask, ...(tail !== undefined ? { tail } : {}) }, LOGS_TIMEOUT_MS)) as NodeLogs;
        } catch {
          return;
        }
        const hostname = store.get('node', nodeId)?.hostname ?? nodeId;
        for (const c of Array.isArray(got) ? got : []) {
          const t = tasks.find((x) => x.id === c.taskId);
          if (!t || typeof c.data !== 'string' || typeof c.next !== 'number') continue;
          chunks.push({ TaskID: t.id, ContainerName: taskView(t, s, store).ContainerName, NodeID: nodeId, Hostname: hostname, Data: c.data, Next: c.next });
        }
      }),
    );
    chunks.sort((a, b) => (a.ContainerName < b.ContainerName ? -1 : a.ContainerName > b.ContainerName ? 1 : 0));
    return { Chunks: chunks };
  }

  #service(store: Store, ref: string): Service {
    const r = resolveServiceRef(store.list('service'), ref);
    if ('error' in r) throw r.error === 'not-found' ? notFound(r.message) : invalid(r.message);
    return r;
  }
}

/** Replicated slots in order, each slot's newest task first; global tasks by node. */
function taskOrder(a: TaskInspect, b: TaskInspect): number {
  if (a.ServiceName !== b.ServiceName) return a.ServiceName < b.ServiceName ? -1 : 1;
  if ((a.Slot ?? 0) !== (b.Slot ?? 0)) return (a.Slot ?? 0) - (b.Slot ?? 0);
  if (a.Slot === undefined && a.NodeID !== b.NodeID) return a.NodeID < b.NodeID ? -1 : 1;
  return a.CreatedAt > b.CreatedAt ? -1 : a.CreatedAt < b.CreatedAt ? 1 : a.ID < b.ID ? -1 : 1;
}

/** VIP allocations of one write, folded into one update per IPAM record. */
class Vips {
  readonly #store: Store;
  readonly #spaces = new Map<string, { ipam: IpamAllocation; space: AddressSpace }>();

  constructor(store: Store) {
    this.#store = store;
  }

  /** The service's VIPs on exactly `networkIds`: kept where it has one, new where not, released elsewhere. */
  set(serviceId: string, have: Readonly<Record<string, string>>, networkIds: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [nid, addr] of Object.entries(have)) {
      if (networkIds.includes(nid)) out[nid] = addr;
      else this.#space(nid)?.release(addr);
    }
    for (const nid of networkIds) {
      if (out[nid] !== undefined) continue;
      const space = this.#space(nid);
      if (!space) throw invalid(`network ${nid} has no address allocation record`);
      try {
        out[nid] = space.allocate(vipOwner(serviceId));
      } catch (e) {
        if (e instanceof IpamError && e.code === 'ESUBNETFULL') throw conflict(`network ${this.#store.get('network', nid)?.name ?? nid}: ${e.message}`);
        throw e;
      }
    }
    return out;
  }

  changes(): Change[] {
    return [...this.#spaces.values()].map(({ ipam, space }) => {
      const { meta, ...rest } = ipam;
      return update('ipam', { ...rest, addresses: space.inUse() }, meta.version);
    });
  }

  #space(nid: string): AddressSpace | undefined {
    const have = this.#spaces.get(nid);
    if (have) return have.space;
    const n = this.#store.get('network', nid);
    const ipam = this.#store.get('ipam', ipamId(nid));
    if (!n || !ipam) return undefined;
    const space = new AddressSpace(n.ipam, ipam.addresses);
    this.#spaces.set(nid, { ipam, space });
    return space;
  }
}

/** The nodes' latest word on the service's ingress ports they cannot serve (issue 10), by node hostname. */
function withPortErrors(v: ServiceInspect, store: Store, reports: ReadonlyMap<string, DatapathReport>): ServiceInspect {
  const errors: NonNullable<ServiceInspect['PortErrors']> = [];
  for (const [nodeId, r] of reports) {
    for (const e of r.portErrors ?? []) if (e.serviceId === v.ID) errors.push({ NodeID: nodeId, Hostname: store.get('node', nodeId)?.hostname ?? '', Port: e.port, Error: e.error });
  }
  errors.sort((a, b) => (a.Hostname < b.Hostname ? -1 : a.Hostname > b.Hostname ? 1 : a.Port < b.Port ? -1 : 1));
  return errors.length > 0 ? { ...v, PortErrors: errors } : v;
}
