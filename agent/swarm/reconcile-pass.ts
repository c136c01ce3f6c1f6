// One reconcile pass's working state (orchestrator.ts decides, this keeps
// the books): working copies of the tasks with the scheduler's per-node
// counts kept in step with every edit, the networks' address spaces with
// each allocation and release folded in, the routing mesh's per-node
// addresses, and at the end the one batch of store changes that says it
// all, writing nothing that would not change an object. Pure.
import { create, remove, update, type Change } from '../cluster/store/index.js';
import type { Draft, IpamAllocation, Network, Node, Service, Task, TaskState } from '../cluster/store/types.js';
import { AddressSpace, IpamError } from '../network/ipam.js';
import { attachmentOwner } from './attach-ops.js';
import { ipamId } from './network-ops.js';

export interface ReconcileInput {
  services: readonly Service[];
  /** Every task in the store; those without serviceId (standalone attachments) are ignored. */
  tasks: readonly Task[];
  nodes: readonly Node[];
  networks: readonly Network[];
  /** The networks' IPAM records, id = ipamId(networkId). */
  ipams: readonly IpamAllocation[];
  /** Wall-clock ms. */
  nowMs: number;
  /** A fresh task id (25 of [0-9a-z]). */
  newId(): string;
}

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['complete', 'shutdown', 'failed', 'rejected', 'orphaned', 'remove']);

/** The task has ended (by its status): it runs no more and never will. */
export function isTerminal(t: Pick<Task, 'status'>): boolean {
  return TERMINAL_STATES.has(t.status.state);
}

/** Owner of a node's routing-mesh address in the ingress network's IPAM record. */
export const LB_OWNER_PREFIX = 'lb:';
export const lbOwner = (nodeId: string): string => `${LB_OWNER_PREFIX}${nodeId}`;

/** Tasks made in this pass sort after every stored one (above any Raft index). */
const MADE_IN_PASS = 2 ** 52;

export type TaskDraft = Draft<'task'>;

/** One service task as this pass sees it: the stored one and the working copy. */
export interface Entry {
  readonly orig: Task | undefined;
  /** Creation order: meta.createdAtIndex, or MADE_IN_PASS + n for new ones. */
  readonly order: number;
  t: TaskDraft;
  removed: boolean;
}

export function byId<T extends { id: string }>(a: T, b: T): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => [k, canonical(o[k])]));
  }
  return v;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function strip<T extends { meta: unknown }>(o: T): Omit<T, 'meta'> {
  const { meta: _meta, ...rest } = o;
  return rest;
}

/** Never handed to a node: no worker knows of it. */
export const unassigned = (t: TaskDraft): boolean => t.status.state === 'pending' || t.status.state === 'new';

/** The state of one reconcile: working copies of the tasks, the address spaces, node load. */
export class Pass {
  readonly now: number;
  readonly nodes: ReadonlyMap<string, Node>;
  readonly sortedNodes: readonly Node[];
  readonly entries: Entry[] = [];
  /** The routing mesh's network, if there is one. */
  readonly ingress: Network | undefined;
  wakeAt = Infinity;
  readonly #input: ReconcileInput;
  readonly #networks: ReadonlyMap<string, Network>;
  readonly #ipams: ReadonlyMap<string, IpamAllocation>;
  readonly #spaces = new Map<string, AddressSpace | string>();
  readonly #dirty = new Set<string>();
  /** Tasks counted by the scheduler: `nodeId` and `serviceId\0nodeId` -> count. */
  readonly #load = new Map<string, number>();
  #made = 0;

  constructor(i: ReconcileInput) {
    this.#input = i;
    this.now = i.nowMs;
    this.sortedNodes = [...i.nodes].sort(byId);
    this.nodes = new Map(this.sortedNodes.map((n) => [n.id, n]));
    this.#networks = new Map(i.networks.map((n) => [n.id, n]));
    this.#ipams = new Map(i.ipams.map((r) => [r.id, r]));
    this.ingress = [...i.networks].sort(byId).find((n) => n.ingress);
    for (const t of [...i.tasks].sort(byId)) {
      if (t.serviceId === undefined) continue;
      const e: Entry = { orig: t, order: t.meta.createdAtIndex, t: strip(t), removed: false };
      this.entries.push(e);
      this.#count(e, 1);
    }
  }

  // Task edits: every one goes through mutate so the scheduler's counts follow.

  #counts(e: Entry): boolean {
    const t = e.t;
    return !e.removed && t.nodeId !== '' && t.desiredState === 'running' && !isTerminal(t);
  }

  #count(e: Entry, d: 1 | -1): void {
    if (!this.#counts(e)) return;
    for (const k of [e.t.nodeId, `${e.t.serviceId}\0${e.t.nodeId}`]) this.#load.set(k, (this.#load.get(k) ?? 0) + d);
  }

  mutate(e: Entry, f: (t: TaskDraft) => Partial<TaskDraft>): void {
    this.#count(e, -1);
    e.t = { ...e.t, ...f(e.t) };
    this.#count(e, 1);
  }

  /** [tasks of the service on the node, tasks of all services on it]. */
  load(serviceId: string, nodeId: string): [number, number] {
    return [this.#load.get(`${serviceId}\0${nodeId}`) ?? 0, this.#load.get(nodeId) ?? 0];
  }

  make(t: TaskDraft): Entry {
    const e: Entry = { orig: undefined, order: MADE_IN_PASS + this.#made++, t, removed: false };
    this.entries.push(e);
    this.#count(e, 1);
    return e;
  }

  /** Delete the task record (its addresses go back). */
  drop(e: Entry): void {
    this.release(e);
    this.#count(e, -1);
    e.removed = true;
  }

  /** Ask the task to stop; one no node ever got is deleted instead. */
  shutdown(e: Entry): void {
    if (e.removed) return;
    if (unassigned(e.t)) return this.drop(e);
    if (e.t.desiredState === 'running') this.mutate(e, () => ({ desiredState: 'shutdown' }));
  }

  status(e: Entry, state: TaskState, message: string): void {
    const s = e.t.status;
    if (s.state === state && s.message === message) return;
    this.mutate(e, () => ({ status: { state, message, timestampMs: this.now } }));
  }

  // Addresses.

  #space(nid: string): AddressSpace | string {
    let sp = this.#spaces.get(nid);
    if (sp !== undefined) return sp;
    const n = this.#networks.get(nid);
    const rec = this.#ipams.get(ipamId(nid));
    if (!n) sp = `network ${nid} not found`;
    else if (!rec) sp = `network ${n.name} has no address allocation record`;
    else {
      try {
        sp = new AddressSpace(n.ipam, rec.addresses);
      } catch (e) {
        if (!(e instanceof IpamError)) throw e;
        sp = `network ${n.name}: ${e.message}`;
      }
    }
    this.#spaces.set(nid, sp);
    return sp;
  }

  /** Give every address of the task back (those still recorded as its own). */
  release(e: Entry): void {
    const owner = attachmentOwner(e.t.id);
    for (const [nid, address] of Object.entries(e.t.addresses)) {
      const sp = this.#space(nid);
      if (typeof sp === 'string') continue;
      try {
        if (sp.ownerOf(address) === owner && sp.release(address)) this.#dirty.add(nid);
      } catch (err) {
        if (!(err instanceof IpamError)) throw err;
      }
    }
    if (Object.keys(e.t.addresses).length > 0) this.mutate(e, () => ({ addresses: {} }));
  }

  /** An address on each network for task `id`, all or none; a string says why none. */
  allocate(id: string, nets: readonly string[]): Record<string, string> | string {
    const got: [string, AddressSpace, string][] = [];
    for (const nid of nets) {
      const sp = this.#space(nid);
      let why: string | undefined;
      if (typeof sp === 'string') why = sp;
      else {
        try {
          got.push([nid, sp, sp.allocate(attachmentOwner(id))]);
        } catch (err) {
          if (!(err instanceof IpamError)) throw err;
          why = `network ${this.#networks.get(nid)!.name}: ${err.message}`;
        }
      }
      if (why !== undefined) {
        for (const [, s, a] of got) s.release(a);
        return why;
      }
    }
    for (const [nid] of got) this.#dirty.add(nid);
    return Object.fromEntries(got.map(([nid, , a]) => [nid, a]));
  }

  /**
   * The routing mesh's per-node address (REFERENCE: one LB IP per node per
   * network): every node in the store holds one on the ingress network,
   * owned `lb:<node id>`; a node gone from the store gives its back.
   */
  ingressLbs(): void {
    if (!this.ingress) return;
    const sp = this.#space(this.ingress.id);
    if (typeof sp === 'string') return;
    const held = new Set<string>();
    for (const [address, owner] of Object.entries(sp.inUse())) {
      if (!owner.startsWith(LB_OWNER_PREFIX)) continue;
      const id = owner.slice(LB_OWNER_PREFIX.length);
      if (this.nodes.has(id) && !held.has(id)) held.add(id);
      else if (sp.release(address)) this.#dirty.add(this.ingress.id);
    }
    for (const n of this.sortedNodes) {
      if (held.has(n.id)) continue;
      try {
        sp.allocate(lbOwner(n.id));
        this.#dirty.add(this.ingress.id);
      } catch (err) {
        if (!(err instanceof IpamError)) throw err;
        // A full ingress subnet: the node's mesh waits for an address; tasks are not refused for it.
      }
    }
  }

  changes(): Change[] {
    const out: Change[] = [];
    for (const e of this.entries) {
      if (e.orig === undefined) {
        if (!e.removed) out.push(create('task', e.t));
      } else if (e.removed) out.push(remove('task', e.orig.id, e.orig.meta.version));
      else if (!same(e.t, strip(e.orig))) out.push(update('task', e.t, e.orig.meta.version));
    }
    for (const nid of [...this.#dirty].sort()) {
      const rec = this.#ipams.get(ipamId(nid))!;
      const addresses = (this.#space(nid) as AddressSpace).inUse();
      if (!same(addresses, rec.addresses)) out.push(update('ipam', { ...strip(rec), addresses }, rec.meta.version));
    }
    return out;
  }

  newId(): string {
    return this.#input.newId();
  }
}
