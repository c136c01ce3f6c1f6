// Attachments on the leader (issue 6): a node asks for an address for one of
// its endpoints on an overlay, as docker's standalone containers get an
// "attachment task" from the managers. The task (id = the endpoint id, on
// the asking node) and the network's IPAM record change in one committed
// batch, so two nodes can never be handed the same address. Detaching frees
// the address; the task goes with its last address.
import type { Clock } from '../../shared/clock.js';
import type { AttachAnswer } from '../api/types.js';
import { batch, create, remove, update, type Change, type Store } from '../cluster/store/index.js';
import type { IpamAllocation, Network, Task } from '../cluster/store/types.js';
import { AddressSpace, IpamError } from '../network/ipam.js';
import { conflict, denied, invalid, notFound } from './errors.js';
import type { LeaderOps } from './leader-ops.js';
import { ipamId } from './network-ops.js';
import { resolveNetworkRef } from './views.js';

export interface AttachRequest {
  /** The asking node (set from its certificate, never from the request). */
  nodeId: string;
  /** The endpoint's id: the task this attachment belongs to. */
  taskId: string;
  /** The endpoint's --name ('' for none). */
  name: string;
  /** Network name, id or unique id prefix. */
  network: string;
  /** A user's --ip. */
  ip?: string;
}

export interface DetachRequest {
  nodeId: string;
  taskId: string;
  /** Network id; absent: every network of the task (the endpoint is gone). */
  network?: string;
}

const TASK_ID_RE = /^[0-9a-z]{12,64}$/;

export function attachmentOwner(taskId: string): string {
  return `task:${taskId}`;
}

export class AttachOps {
  readonly #leader: LeaderOps;
  readonly #clock: Clock;

  constructor(leader: LeaderOps, clock: Clock) {
    this.#leader = leader;
    this.#clock = clock;
  }

  attach(r: AttachRequest): Promise<AttachAnswer> {
    return this.#serial(() => this.#attach(r));
  }

  detach(r: DetachRequest): Promise<void> {
    return this.#serial(() => this.#detach(r));
  }

  /**
   * One writer of IPAM records at a time (NetworkOps.exclusive, shared with
   * services and the orchestrator): each reads the record its batch updates,
   * so two in flight at once would make the later batch stale.
   */
  #serial<T>(f: () => Promise<T>): Promise<T> {
    return this.#leader.networks.exclusive(f);
  }

  async #attach(r: AttachRequest): Promise<AttachAnswer> {
    if (!TASK_ID_RE.test(r.taskId)) throw invalid(`attach: taskId: expected 12-64 of [0-9a-z], got ${JSON.stringify(r.taskId)}`);
    const store = await this.#leader.read();
    const ref = resolveNetworkRef(store.list('network'), r.network);
    if ('error' in ref) throw ref.error === 'not-found' ? notFound(ref.message) : invalid(ref.message);
    const n: Network = ref;
    // docker: "Could not attach to network ingress: rpc error: code = PermissionDenied desc = network ingress not manually attachable".
    if (!n.attachable || n.ingress) throw denied(`Could not attach to network ${r.network}: network ${n.name} not manually attachable`);
    if (n.vni === undefined) throw invalid(`network ${n.name} has no VNI yet`);
    const task = store.get('task', r.taskId);
    if (task && task.nodeId !== r.nodeId) throw denied(`attach: endpoint ${r.taskId} belongs to another node`);
    const have = task?.addresses[n.id];
    if (have !== undefined) return attachAnswer(n, have);
    const ipam = store.get('ipam', ipamId(n.id));
    if (!ipam) throw invalid(`network ${n.name} has no address allocation record`);
    const space = new AddressSpace(n.ipam, ipam.addresses);
    let address: string;
    try {
      address = space.allocate(attachmentOwner(r.taskId), r.ip);
    } catch (e) {
      if (e instanceof IpamError) {
        if (e.code === 'EADDRINUSE') throw conflict(`Address already in use: ${r.ip} on network ${n.name}`);
        throw e.code === 'ESUBNETFULL' ? conflict(`network ${n.name}: ${e.message}`) : invalid(e.message);
      }
      throw e;
    }
    const now = Math.floor(this.#clock.wallMs());
    const next: Omit<Task, 'meta'> = task
      ? { ...strip(task), addresses: { ...task.addresses, [n.id]: address } }
      : {
          id: r.taskId,
          nodeId: r.nodeId,
          ...(r.name !== '' ? { name: r.name } : {}),
          desiredState: 'running',
          status: { state: 'running', message: 'attachment', timestampMs: now },
          addresses: { [n.id]: address },
        };
    await this.#leader.commit(batch(task ? update('task', next, task.meta.version) : create('task', next), ipamUpdate(ipam, space)));
    return attachAnswer(n, address);
  }

  async #detach(r: DetachRequest): Promise<void> {
    const store = await this.#leader.read();
    const task = store.get('task', r.taskId);
    if (!task) return;
    if (task.nodeId !== r.nodeId) throw denied(`detach: endpoint ${r.taskId} belongs to another node`);
    const nets = r.network === undefined ? Object.keys(task.addresses) : Object.hasOwn(task.addresses, r.network) ? [r.network] : [];
    const changes: Change[] = [];
    for (const nid of nets) {
      const c = release(store, nid, task.addresses[nid]!);
      if (c) changes.push(c);
    }
    const left = Object.fromEntries(Object.entries(task.addresses).filter(([nid]) => !nets.includes(nid)));
    if (Object.keys(left).length === 0 && !task.serviceId) changes.push(remove('task', task.id, task.meta.version));
    else if (nets.length > 0) changes.push(update('task', { ...strip(task), addresses: left }, task.meta.version));
    if (changes.length > 0) await this.#leader.commit(batch(...changes));
  }
}

/** What a node is told of one of its endpoints' (or tasks') networks. */
export function attachAnswer(n: Network, address: string): AttachAnswer {
  return {
    NetworkID: n.id,
    Name: n.name,
    VNI: n.vni!,
    Subnet: n.ipam.subnet,
    Gateway: n.ipam.gateway,
    Address: address,
    ...(n.mtu !== undefined ? { MTU: n.mtu } : {}),
    Encrypted: n.encrypted,
    Internal: n.internal,
  };
}

function release(store: Store, nid: string, address: string): Change | undefined {
  const n = store.get('network', nid);
  const ipam = store.get('ipam', ipamId(nid));
  if (!n || !ipam) return undefined;
  const space = new AddressSpace(n.ipam, ipam.addresses);
  return space.release(address) ? ipamUpdate(ipam, space) : undefined;
}

function ipamUpdate(ipam: IpamAllocation, space: AddressSpace): Change {
  const { meta, ...rest } = ipam;
  return update('ipam', { ...rest, addresses: space.inUse() }, meta.version);
}

function strip(t: Task): Omit<Task, 'meta'> {
  const { meta: _meta, ...rest } = t;
  return rest;
}
