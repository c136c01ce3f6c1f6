// Service records (issue 9, DESIGN §2): what DNS and the VIP load balancer
// know of each running endpoint on a network. One record per (network,
// endpoint), published in NetworkDB's `svc` table by the node that runs the
// endpoint while it runs, so every node's view follows task state.

/** One endpoint on one network, as published in NetworkDB table `services` (key: the endpoint or task id). */
export interface ServiceRecord {
  /** Container name: a task's `web.1.<task id>`, a standalone endpoint's --name. */
  name: string;
  /** Its address on the network (plain IPv4). */
  ip: string;
  /** Tasks: the service's name (unique in the swarm). */
  service?: string;
  /** Tasks of a vip-mode service: the service's VIP on this network (plain IPv4). Absent: dnsrr. */
  vip?: string;
}

/** What the resolver and the load balancer read: every node's records, by network. */
export interface DiscoveryView {
  /** The records of network nid (running endpoints and tasks of every node), endpoint id order. */
  records(nid: string): readonly ServiceRecord[];
  /** A network's id by its name (for `<service>.<network>`). */
  networkId(name: string): string | undefined;
}

/** Who asks: a local endpoint, by its address on the gwbridge, and the networks it is on (its order). */
export interface Asker {
  name: string;
  networks: readonly string[];
  /** On internal networks only (`--internal`): names not ours are not forwarded out for it (docker's resolver does the same). */
  internal?: boolean;
}
