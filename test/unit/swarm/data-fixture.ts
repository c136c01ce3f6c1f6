// A store as the leader keeps it, for the tests of the encrypted overlays'
// control plane (issue 7): a LeaderOps stand-in whose read() is a real Store
// and whose commit() applies the command to it (as attach-ops.test.ts has),
// the real NetworkOps and AttachOps on top, and helpers that write nodes and
// service tasks straight into the store.
import { ManualClock } from '../../../shared/clock.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import type { DatapathReport, NetworkCreateRequest } from '../../../agent/api/types.js';
import { Store, create, encodeCommand, remove, update, type Command } from '../../../agent/cluster/store/index.js';
import type { Node, Task, TaskState } from '../../../agent/cluster/store/types.js';
import { AttachOps } from '../../../agent/swarm/attach-ops.js';
import { conflict, invalid, notFound } from '../../../agent/swarm/errors.js';
import type { LeaderOps } from '../../../agent/swarm/leader-ops.js';
import { NetworkOps } from '../../../agent/swarm/network-ops.js';
import { CLUSTER_ID_KEY } from '../../../agent/swarm/store-ids.js';

export const HOUR = 3_600_000;
export const PERIOD_MS = 12 * HOUR;

/** What NetworkOps and AttachOps need of LeaderOps, over a real Store. */
export class Leader {
  readonly store = new Store();
  readonly commits: Command[] = [];
  #index = 0;

  async read(): Promise<Store> {
    return this.store;
  }

  /** Apply at once; refusals mapped as LeaderOps.commit maps them. */
  async commit(cmd: Command): Promise<void> {
    const r = this.applyNow(cmd);
    if (!r.ok) {
      if (r.error.code === 'STORE_STALE_VERSION') throw conflict(`update out of sequence: ${r.error.message}`);
      if (r.error.code === 'STORE_NOT_FOUND') throw notFound(r.error.message);
      if (r.error.code === 'STORE_CONFLICT') throw conflict(r.error.message);
      throw invalid(r.error.message);
    }
  }

  applyNow(cmd: Command): ReturnType<Store['apply']> {
    this.commits.push(cmd);
    return this.store.apply(++this.#index, encodeCommand(cmd));
  }

  get ops(): LeaderOps {
    return this as unknown as LeaderOps;
  }
}

export interface World {
  clock: ManualClock;
  rand: Rand;
  leader: Leader;
  store: Store;
  reports: Map<string, DatapathReport>;
  networks: NetworkOps;
  attach: AttachOps;
  /** network create; the id. */
  net(req: NetworkCreateRequest): Promise<string>;
  /** A node record (id, hostname h-<id>, addr 10.0.0.N:2377, its own public key). */
  node(id: string, over?: Partial<Omit<Node, 'meta'>>): void;
  removeNode(id: string): void;
  /** A service task on nodeId with addresses (network id -> CIDR). */
  task(id: string, nodeId: string, addresses: Record<string, string>, desiredState?: TaskState): void;
  setTask(id: string, change: Partial<Omit<Task, 'meta'>>): void;
  removeTask(id: string): void;
}

export async function world(seed: number, keyRotationMs = PERIOD_MS): Promise<World> {
  const clock = new ManualClock();
  const rand = seededRand(seed);
  const leader = new Leader();
  await leader.commit(
    create('cluster', { id: CLUSTER_ID_KEY, name: 'default', defaultAddrPool: ['10.0.0.0/8'], subnetSize: 24, keyRotationMs, heartbeatMs: 5000, dataPathPort: 4789 }),
  );
  const reports = new Map<string, DatapathReport>();
  const networks = new NetworkOps(leader.ops, rand.fork(), clock, () => reports);
  let n = 0;
  const w: World = {
    clock,
    rand,
    leader,
    store: leader.store,
    reports,
    networks,
    attach: new AttachOps(leader.ops, clock),
    net: async (req) => (await networks.create(req)).Id,
    node(id, over = {}) {
      n++;
      const key = new Uint8Array(32).fill(n);
      leader.applyNow(
        create('node', {
          id,
          role: 'worker',
          availability: 'active',
          hostname: `h-${id}`,
          addr: `10.0.0.${n}:2377`,
          dataAddr: `192.168.0.${n}`,
          publicKey: key,
          labels: {},
          status: { state: 'ready', message: '' },
          ...over,
        }),
      );
    },
    removeNode(id) {
      const x = leader.store.get('node', id)!;
      leader.applyNow(remove('node', id, x.meta.version));
    },
    task(id, nodeId, addresses, desiredState = 'running') {
      leader.applyNow(create('task', { id, serviceId: 'svc', nodeId, desiredState, status: { state: 'running', message: '' }, addresses }));
    },
    setTask(id, change) {
      const { meta, ...t } = leader.store.get('task', id)!;
      leader.applyNow(update('task', { ...t, ...change }, meta.version));
    },
    removeTask(id) {
      leader.applyNow(remove('task', id, leader.store.get('task', id)!.meta.version));
    },
  };
  return w;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
