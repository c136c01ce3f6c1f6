// What the metrics collector reads of each plane (issue 11): the narrow,
// read-only part of the daemon's objects, so that the daemon hands over the
// real ones and tests hand over stand-ins. Everything is read at scrape time;
// nothing here is written, and nothing is counted twice: the planes already
// count (forwarder.ts, secure/stats.ts, swim/outputs.ts, dns-server.ts).
import type { SwarmInfo } from '../api/types.js';
import type { Key, Network, Node } from '../cluster/store/types.js';
import type { ForwarderStats, NetworkStats } from '../datapath/forwarder.js';
import type { PeerStatus, SecureStats } from '../datapath/secure/stats.js';
import type { DnsStats } from '../discovery/dns-server.js';
import type { DiscoveryView } from '../discovery/records.js';
import type { SwimStats } from '../gossip/swim/outputs.js';

/** The store of a manager: the node list and the keys with their creation times. */
export interface StoreView {
  list(kind: 'node'): readonly Node[];
  list(kind: 'key'): readonly Key[];
  list(kind: 'network'): readonly Network[];
}

/** swarm/swarm-node.ts's SwarmNode. */
export interface SwarmPlane {
  /** /info's Swarm: this node's state, and on managers Raft; once gossip runs, its members and drops. */
  info(): SwarmInfo;
  /** The data keys this node holds (its last assignment). */
  readonly assignment: { readonly dataKeys: readonly { networkId: string; keys: readonly { generation: number }[] }[] } | undefined;
  readonly gossip: { readonly stats: { packetsIn: number; packetsOut: number }; readonly swim: { stats(): SwimStats } } | undefined;
  /** Set on managers only. */
  readonly manager: { readonly store: StoreView } | undefined;
}

/** datapath/data-plane.ts's DataPlane. */
export interface DataPlaneView {
  readonly forwarder: { stats(): ForwarderStats; vnis(): number[]; networkStats(vni: number): NetworkStats | undefined };
  readonly secure: { stats(): SecureStats; status(vni: number): PeerStatus[] } | undefined;
  /** Frames of encrypted networks dropped for want of a secure plane. */
  readonly unsealable: number;
}

/** A local endpoint (or the ingress sandbox): its netns and its overlays. */
export interface LocalEndpoint {
  readonly netns: string;
  readonly networks: readonly { readonly networkId: string; readonly name: string; readonly vni: number }[];
}

/** endpoint/endpoint-manager.ts's EndpointManager. */
export interface EndpointsView {
  readonly records: readonly LocalEndpoint[];
  readonly ingress: LocalEndpoint | undefined;
}

/** The routing mesh's services as the assignment gives them. */
export interface IngressView {
  readonly services: readonly { readonly name: string; readonly ports: readonly { readonly protocol: string; readonly published: number; readonly proxyProtocol?: string }[] }[];
}

export interface MetricsPlanes {
  swarm: SwarmPlane;
  data: DataPlaneView;
  /** The resolver, once it runs (the first endpoint makes the gwbridge it listens on). */
  dns(): { readonly stats: DnsStats } | undefined;
  endpoints: EndpointsView;
  /** The service records: which service and network a VIP is. */
  records: DiscoveryView;
  ingress(): IngressView | undefined;
}

/** Network names by id and by VNI, from what this node knows: its endpoints, and on managers the store. */
export class NetworkNames {
  readonly #byId = new Map<string, string>();
  readonly #byVni = new Map<number, string>();

  constructor(p: Pick<MetricsPlanes, 'swarm' | 'endpoints'>) {
    for (const n of p.swarm.manager?.store.list('network') ?? []) this.#learn(n.id, n.name, n.vni);
    const eps = [...p.endpoints.records, ...(p.endpoints.ingress ? [p.endpoints.ingress] : [])];
    for (const ep of eps) for (const n of ep.networks) this.#learn(n.networkId, n.name, n.vni);
  }

  #learn(id: string, name: string, vni: number | undefined): void {
    this.#byId.set(id, name);
    if (vni !== undefined) this.#byVni.set(vni, name);
  }

  /** The network's name; its id when this node does not know it. */
  byId(id: string): string {
    return this.#byId.get(id) ?? id;
  }

  /** The name of the network of a VNI; `vni-N` when this node does not know it. */
  byVni(vni: number): string {
    return this.#byVni.get(vni) ?? `vni-${vni}`;
  }
}
