// The orchestrator's test world (orchestrator.test.ts, orchestrator-ingress.test.ts):
// a real Store holds the cluster and every pass of reconcile is applied to it
// as one batch, so versions, schemas and one change per object are checked by
// the store itself; a few lines stand in for the workers, reporting task
// states between passes.
import { Store, batch, create, encodeCommand, remove, update, type Change } from '../../../agent/cluster/store/index.js';
import type { Draft, ServiceSpec, Task, TaskState } from '../../../agent/cluster/store/types.js';
import { defaultGateway } from '../../../agent/network/ipam.js';
import { ipamId } from '../../../agent/swarm/network-ops.js';
import { LB_OWNER_PREFIX, isTerminal, reconcile, type ReconcileOutput } from '../../../agent/swarm/orchestrator.js';
import { equal, is } from '../../harness.js';

export const T0 = 1_700_000_000_000;
export const RESTART_NOW = { condition: 'any', delayMs: 0, maxAttempts: 0, windowMs: 0 } as const;

export type ServiceOver = Partial<Omit<Draft<'service'>, 'spec'>> & { spec?: Partial<ServiceSpec> };

export function strip<T extends { meta: unknown }>(o: T): Omit<T, 'meta'> {
  const { meta: _meta, ...rest } = o;
  return rest;
}

/** Task ids in creation order: t000...1, t000...2 (25 of [0-9a-z]). */
export function taskId(n: number): string {
  return `t${String(n).padStart(24, '0')}`;
}

/**
 * A cluster in a real Store, a wall clock moved by hand, and the workers'
 * part played by hand. Every pass is checked against the address invariants
 * (checkAddresses) unless told not to: a test that writes records no task
 * could have left turns it off.
 */
export class World {
  readonly store = new Store();
  now = T0;
  readonly #checkAddresses: boolean;
  #index = 0;
  #ids = 0;
  #vni = 4096;

  constructor(opts: { checkAddresses?: boolean } = {}) {
    this.#checkAddresses = opts.checkAddresses ?? true;
  }

  commit(...changes: Change[]): void {
    if (changes.length === 0) return;
    const r = this.store.apply(++this.#index, encodeCommand(batch(...changes)));
    if (!r.ok) throw r.error;
  }

  addNode(id: string, over: Partial<Draft<'node'>> = {}): this {
    this.commit(
      create('node', {
        id, role: 'worker', availability: 'active', hostname: `host-${id}`, addr: '192.0.2.1:2377', dataAddr: '192.0.2.1',
        publicKey: new Uint8Array(32), labels: {}, status: { state: 'ready', message: '' }, ...over,
      }),
    );
    return this;
  }

  setNode(id: string, over: Partial<Draft<'node'>>): void {
    const n = this.store.get('node', id)!;
    this.commit(update('node', { ...strip(n), ...over }, n.meta.version));
  }

  nodeDown(id: string): void {
    this.setNode(id, { status: { state: 'down', message: 'heartbeat failure' } });
  }

  nodeUp(id: string): void {
    this.setNode(id, { status: { state: 'ready', message: '' } });
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

  addService(id: string, over: ServiceOver = {}): this {
    const { spec, ...rest } = over;
    this.commit(
      create('service', {
        id, name: id, mode: { replicated: 1 },
        spec: { command: ['sleep', 'inf'], env: [], networks: [], ports: [], endpointMode: 'vip', constraints: [], restart: { ...RESTART_NOW }, ...spec },
        vips: {}, generation: 1, forceUpdate: 0, ...rest,
      }),
    );
    return this;
  }

  setService(id: string, f: (s: Draft<'service'>) => Draft<'service'>): void {
    const s = this.store.get('service', id)!;
    this.commit(update('service', f(structuredClone(strip(s))), s.meta.version));
  }

  scale(id: string, replicas: number): void {
    this.setService(id, (s) => ({ ...s, mode: { replicated: replicas } }));
  }

  /** `service update`: a new generation. */
  bump(id: string): void {
    this.setService(id, (s) => ({ ...s, generation: s.generation + 1, spec: { ...s.spec, env: [`G=${s.generation + 1}`] } }));
  }

  /** One reconcile, applied; checked for determinism and for the address invariants. */
  pass(): ReconcileOutput {
    const run = (): [ReconcileOutput, number] => {
      let n = this.#ids;
      const out = reconcile({
        services: this.store.list('service'),
        tasks: this.store.tasks(),
        nodes: this.store.list('node'),
        networks: this.store.list('network'),
        ipams: this.store.list('ipam'),
        nowMs: this.now,
        newId: () => taskId(++n),
      });
      return [out, n];
    };
    const [out, n] = run();
    equal(run()[0], out, 'the same input gives the same output');
    this.#ids = n;
    this.commit(...out.changes);
    if (this.#checkAddresses) checkAddresses(this.store);
    return out;
  }

  /** Passes until one changes nothing; the number of passes that did. */
  settle(max = 10): number {
    for (let i = 0; i < max; i++) if (this.pass().changes.length === 0) return i;
    throw new Error(`no fixpoint after ${max} passes`);
  }

  /** Tasks made so far. */
  get made(): number {
    return this.#ids;
  }

  task(id: string): Task {
    return this.store.get('task', id)!;
  }

  tasks(serviceId: string): Task[] {
    return this.store.tasks({ serviceId });
  }

  /** Tasks the service wants running. */
  running(serviceId: string): Task[] {
    return this.tasks(serviceId).filter((x) => x.desiredState === 'running');
  }

  report(id: string, state: TaskState, at = this.now): void {
    const x = this.task(id);
    this.commit(update('task', { ...strip(x), status: { state, message: state, timestampMs: at } }, x.meta.version));
  }

  /** The workers of ready nodes: start what they are given, stop what they are told to. */
  work(): void {
    const changes: Change[] = [];
    for (const x of this.store.tasks()) {
      if (x.serviceId === undefined || isTerminal(x) || this.store.get('node', x.nodeId)?.status.state !== 'ready') continue;
      const state = x.desiredState === 'running' ? (x.status.state === 'assigned' ? 'running' : undefined) : 'shutdown';
      if (state) changes.push(update('task', { ...strip(x), status: { state, message: state, timestampMs: this.now } }, x.meta.version));
    }
    this.commit(...changes);
  }

  ipam(networkId: string): Record<string, string> {
    return this.store.get('ipam', ipamId(networkId))!.addresses;
  }

  /** Write the IPAM record of a network as given (a state an earlier leader left). */
  setIpam(networkId: string, addresses: Record<string, string>): void {
    const r = this.store.get('ipam', ipamId(networkId))!;
    const { meta, ...rest } = r;
    this.commit(update('ipam', { ...rest, addresses }, meta.version));
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

/**
 * Every address a task holds is recorded as its own in the network's IPAM
 * record, and every task:<id> entry of a record is an address that task
 * holds: so no address is held twice and none leaks. Pending tasks hold
 * none; ended tasks have given theirs back.
 */
export function checkAddresses(store: Store): void {
  for (const x of store.tasks()) {
    if (x.status.state === 'pending' || (isTerminal(x) && x.serviceId !== undefined)) equal(x.addresses, {}, `task ${x.id} (${x.status.state}) holds no address`);
    for (const [nid, cidr] of Object.entries(x.addresses)) {
      const owner = store.get('ipam', ipamId(nid))?.addresses[cidr.split('/')[0]!];
      is(owner, `task:${x.id}`, `${cidr} on ${nid} is recorded for task ${x.id}`);
    }
  }
  for (const rec of store.list('ipam')) {
    for (const [addr, owner] of Object.entries(rec.addresses)) {
      if (!owner.startsWith('task:')) continue;
      const x = store.get('task', owner.slice(5));
      is(x?.addresses[rec.networkId!]?.split('/')[0], addr, `${addr} on ${rec.networkId} is held by its owner ${owner}`);
    }
  }
}
