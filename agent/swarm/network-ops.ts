// Network objects on the leader (issue 6): create with IPAM (a subnet from
// the default address pool unless given, the gateway, a VNI from 4096 up),
// list, inspect, remove and prune. Every write is one committed store batch:
// the network, its address allocation and (encrypted) its data keys together
// (data-keys.ts). Writes are serialized with the key rotator
// (NetworkOps.exclusive), which also keeps two creates from taking the same
// VNI or subnet. The data path that
// carries these networks is built on the nodes from the store and NetworkDB.
import type { Clock } from '../../shared/clock.js';
import type { Rand } from '../../shared/rand.js';
import type { DatapathReport, NetworkCreateRequest, NetworkInspect } from '../api/types.js';
import { encodeBase36 } from '../cluster/ca/base36.js';
import { batch, create, remove, type Command, type Store } from '../cluster/store/index.js';
import type { Network } from '../cluster/store/types.js';
import { AddressSpace, allocateSubnet, allocateVni, checkUserPool, defaultGateway, IpamError } from '../network/ipam.js';
import { overlaps, parseCidr } from './cidr.js';
import { dropDataKeys, firstDataKey } from './data-keys.js';
import { networkPeers } from './datapath-report.js';
import { conflict, invalid, notFound } from './errors.js';
import type { LeaderOps } from './leader-ops.js';
import { CLUSTER_ID_KEY } from './store-ids.js';
import { networkView, resolveNetworkRef } from './views.js';

/** docker's network name rule (moby/daemon/network.go, validNetworkName): starts alphanumeric. */
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const MTU_OPTION = 'com.docker.network.driver.mtu';
/** Network ids are 25 base36 characters, as swarmkit's. */
const ID_BYTES = 16;

export function ipamId(networkId: string): string {
  return `ipam-${networkId}`;
}

export class NetworkOps {
  readonly #leader: LeaderOps;
  readonly #rand: Rand;
  readonly #clock: Clock;
  readonly #reports: () => ReadonlyMap<string, DatapathReport>;
  #writes: Promise<unknown> = Promise.resolve();

  /** reports: the nodes' latest data path reports, for inspect's Peers. */
  constructor(leader: LeaderOps, rand: Rand, clock: Clock, reports: () => ReadonlyMap<string, DatapathReport> = () => new Map()) {
    this.#leader = leader;
    this.#rand = rand;
    this.#clock = clock;
    this.#reports = reports;
  }

  /**
   * Run f with no other network write of this leader, nor key rotation
   * (key-rotator.ts), in flight: each reads the networks and keys its batch
   * changes, so interleaved they would refuse each other or leave a key
   * behind (or two creates would take the same VNI).
   */
  exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(f, f);
    this.#writes = run.catch(() => {});
    return run;
  }

  create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    return this.exclusive(() => this.#create(req));
  }

  async #create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    const name = req.Name;
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw invalid(`invalid network name ${JSON.stringify(name)}: it must start with a letter or digit and hold only [a-zA-Z0-9_.-]`);
    }
    const driver = req.Driver ?? 'overlay';
    if (driver !== 'overlay') throw invalid(`driver ${driver}: only overlay networks are kept by the swarm (node-local bridge networks come with the data path)`);
    if (req.Ingress && req.Attachable) throw invalid('an ingress network cannot be attachable');
    const pools = req.IPAM?.Config ?? [];
    if (pools.length > 1) throw invalid(`one IPAM pool per network is supported, got ${pools.length}`);
    const pool = pools[0] ?? {};
    if (!pool.Subnet && (pool.Gateway || pool.IPRange)) throw invalid('every ip-range or gateway must have a corresponding subnet');
    const options = { ...(req.Options ?? {}) };
    const mtu = mtuOf(options);

    const store = await this.#leader.read();
    const networks = store.list('network');
    if (store.findByName('network', name)) throw conflict(`network with name ${name} already exists`);
    const ingress = networks.find((n) => n.ingress);
    if (req.Ingress && ingress) throw conflict(`network ${ingress.name} is already the ingress network; only one may exist`);
    const c = store.get('cluster', CLUSTER_ID_KEY);
    if (!c) throw invalid('the swarm is not initialized yet');

    const taken = networks.map((n) => n.ipam.subnet);
    const id = encodeBase36(this.#rand.bytes(ID_BYTES)).slice(0, 25);
    let space: AddressSpace;
    let vni: number;
    let poolName: string;
    try {
      if (pool.Subnet) {
        const cfg = checkUserPool({ subnet: pool.Subnet, ...(pool.Gateway ? { gateway: pool.Gateway } : {}), ...(pool.IPRange ? { ipRange: pool.IPRange } : {}) }, taken);
        space = new AddressSpace(cfg);
        poolName = cfg.subnet;
      } else {
        const subnet = allocateSubnet(c.defaultAddrPool, c.subnetSize, taken);
        space = new AddressSpace({ subnet, gateway: defaultGateway(subnet) });
        poolName = c.defaultAddrPool.find((p) => overlaps(parseCidr(p), parseCidr(subnet))) ?? subnet;
      }
      vni = allocateVni(networks.map((n) => n.vni).filter((v): v is number => v !== undefined));
    } catch (e) {
      if (e instanceof IpamError) throw e.code === 'EOVERLAP' ? conflict(e.message) : invalid(e.message);
      throw e;
    }
    const draft: Omit<Network, 'meta'> = {
      id,
      name,
      driver: 'overlay',
      vni,
      ipam: space.config(),
      options,
      labels: { ...(req.Labels ?? {}) },
      attachable: req.Attachable ?? false,
      ingress: req.Ingress ?? false,
      internal: req.Internal ?? false,
      encrypted: Object.hasOwn(options, 'encrypted'),
      ...(mtu !== undefined ? { mtu } : {}),
      createdAtMs: Math.floor(this.#clock.wallMs()),
    };
    await this.#leader.commit(
      batch(
        create('network', draft),
        create('ipam', { id: ipamId(id), networkId: id, pool: poolName, subnet: space.subnet, addresses: space.inUse() }),
        ...(draft.encrypted ? [firstDataKey(id, this.#rand, this.#clock.wallMs())] : []),
      ),
    );
    return { Id: id, Warning: '' };
  }

  async list(): Promise<NetworkInspect[]> {
    const store = await this.#leader.read();
    return store
      .list('network')
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(networkView);
  }

  /** The network; an encrypted one with its Peers, as the nodes last reported (datapath-report.ts). */
  async inspect(ref: string): Promise<NetworkInspect> {
    const store = await this.#leader.read();
    const n = this.#network(store, ref);
    const v = networkView(n);
    if (n.encrypted) v.Peers = networkPeers(store, n, this.#reports());
    return v;
  }

  remove(ref: string): Promise<void> {
    return this.exclusive(async () => {
      const store = await this.#leader.read();
      const n = this.#network(store, ref);
      this.#mustBeUnused(store, n);
      await this.#leader.commit(removal(store, n));
    });
  }

  /**
   * Remove every network nothing uses (the ingress network stays, as docker's
   * prune keeps it). labels: docker's `--filter label=K` / `label=K=V`; a
   * network is pruned only if it matches every one.
   */
  prune(labels: readonly string[] = []): Promise<{ NetworksDeleted: string[] }> {
    return this.exclusive(() => this.#prune(labels));
  }

  async #prune(labels: readonly string[]): Promise<{ NetworksDeleted: string[] }> {
    const store = await this.#leader.read();
    const gone: string[] = [];
    for (const n of store.list('network')) {
      if (n.ingress || this.#users(store, n).length > 0 || !labels.every((l) => hasLabel(n, l))) continue;
      try {
        await this.#leader.commit(removal(store, n));
        gone.push(n.name);
      } catch {
        // Changed or taken meanwhile: it is in use now, keep it.
      }
    }
    return { NetworksDeleted: gone.sort() };
  }

  #network(store: Store, ref: string): Network {
    const r = resolveNetworkRef(store.list('network'), ref);
    if ('error' in r) throw r.error === 'not-found' ? notFound(r.message) : invalid(r.message);
    return r;
  }

  /** What keeps a network alive: tasks with an address on it, services attached to it or (ingress) publishing ports. */
  #users(store: Store, n: Network): string[] {
    const users: string[] = [];
    for (const s of store.list('service')) {
      if (s.spec.networks.some((a) => a.target === n.id)) users.push(`service ${s.name}`);
      else if (n.ingress && s.spec.ports.some((p) => p.publishMode === 'ingress')) users.push(`service ${s.name} (published ports)`);
    }
    for (const t of store.tasks()) if (Object.hasOwn(t.addresses, n.id) && t.desiredState !== 'remove') users.push(`task ${t.id}`);
    return users;
  }

  #mustBeUnused(store: Store, n: Network): void {
    const users = this.#users(store, n);
    if (users.length > 0) throw conflict(`error while removing network: network ${n.name} id ${n.id} has active endpoints (${users.slice(0, 3).join(', ')}${users.length > 3 ? ', ...' : ''})`);
  }
}

/** The batch that removes a network: the network, its address allocation and its data keys. */
function removal(store: Store, n: Network): Command {
  const ipam = store.get('ipam', ipamId(n.id));
  return batch(remove('network', n.id, n.meta.version), ...(ipam ? [remove('ipam', ipam.id, ipam.meta.version)] : []), ...dropDataKeys(store, n.id));
}

/** docker's label filter: `K` (present) or `K=V` (present with that value). */
function hasLabel(n: Network, filter: string): boolean {
  const i = filter.indexOf('=');
  if (i < 0) return Object.hasOwn(n.labels, filter);
  return n.labels[filter.slice(0, i)] === filter.slice(i + 1);
}

function mtuOf(options: Record<string, string>): number | undefined {
  const v = options[MTU_OPTION];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  // 68: the IPv4 minimum (RFC 791); 65535: the largest IPv4 datagram.
  if (!Number.isInteger(n) || n < 68 || n > 65535) throw invalid(`--opt ${MTU_OPTION}: expected an integer MTU from 68 to 65535, got ${JSON.stringify(v)}`);
  return n;
}
