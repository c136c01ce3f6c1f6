// The objects of the replicated store (DESIGN §2, desired state), modelled on
// swarmkit's api/objects.proto and the Docker Engine API, cut down to what the
// agent uses. Everything is a plain record of strings, integers, booleans and
// byte strings so it encodes to CBOR as is and two replicas that applied the
// same log hold equal values. Times are wall-clock milliseconds chosen by the
// proposer and carried in the command: apply never reads a clock.

/** Written by the store on every create and update; a proposer never sets it. */
export interface Meta {
  /** Raft index of the last write; an update must carry the version it read. */
  version: number;
  createdAtIndex: number;
  updatedAtIndex: number;
}

export type NodeRole = 'manager' | 'worker';
export type NodeAvailability = 'active' | 'pause' | 'drain';
/** swarmkit NodeStatus.State. */
export type NodeState = 'unknown' | 'down' | 'ready' | 'disconnected';

export interface Node {
  id: string;
  role: NodeRole;
  availability: NodeAvailability;
  /** Not unique: two machines may share a hostname (as in Docker). */
  hostname: string;
  /** Advertise address, host:port, for control and gossip. */
  addr: string;
  /** VTEP address data frames are sent to. */
  dataAddr: string;
  /** X25519 static key of the node (DESIGN §1, Noise). */
  publicKey: Uint8Array;
  /** Node certificate signed by the cluster CA, once issued. */
  certificate?: Uint8Array;
  /** node.labels.* of placement constraints. */
  labels: Record<string, string>;
  status: { state: NodeState; message: string };
  /** Wall ms the node joined (proposer's clock). */
  joinedAtMs?: number;
  /** Engine version the node last reported. */
  engineVersion?: string;
  meta: Meta;
}

export type NetworkDriver = 'overlay' | 'bridge';

export interface IpamConfig {
  subnet: string;
  gateway: string;
  ipRange?: string;
}

export interface Network {
  id: string;
  /** Unique among networks. */
  name: string;
  driver: NetworkDriver;
  /** VXLAN network identifier, set for overlays once allocated. */
  vni?: number;
  ipam: IpamConfig;
  /** Driver options, e.g. `encrypted`, `com.docker.network.driver.mtu`. */
  options: Record<string, string>;
  labels: Record<string, string>;
  attachable: boolean;
  ingress: boolean;
  internal: boolean;
  encrypted: boolean;
  mtu?: number;
  /** Wall ms of `network create` (proposer's clock). */
  createdAtMs?: number;
  meta: Meta;
}

export type ServiceMode = { replicated: number } | { global: true };
export type EndpointMode = 'vip' | 'dnsrr';
export type Protocol = 'tcp' | 'udp';
/** `ingress` goes through the routing mesh, `host` binds on the task's node only. */
export type PublishMode = 'ingress' | 'host';

export interface PortConfig {
  protocol: Protocol;
  targetPort: number;
  /** Absent: the leader picks one from the dynamic range before proposing. */
  publishedPort?: number;
  publishMode: PublishMode;
  /** `proxy-protocol=v2` (issue 10): the routing mesh sends a PROXY protocol v2 header first; tcp in ingress mode only. */
  proxyProtocol?: 'v2';
}

export interface NetworkAttachment {
  /** Network id. */
  target: string;
  aliases: string[];
}

/** Docker's --restart-condition, --restart-delay, --restart-max-attempts, --restart-window. */
export interface RestartPolicy {
  condition: 'none' | 'on-failure' | 'any';
  delayMs: number;
  /** 0 means unlimited, as in Docker. */
  maxAttempts: number;
  windowMs: number;
}

export interface ServiceSpec {
  command: string[];
  /** KEY=VALUE, as `docker service create --env`. */
  env: string[];
  networks: NetworkAttachment[];
  ports: PortConfig[];
  endpointMode: EndpointMode;
  /** Placement constraints, e.g. `node.role==manager`. */
  constraints: string[];
  restart: RestartPolicy;
  /** docker's --update-order; absent: stop-first. */
  updateOrder?: 'stop-first' | 'start-first';
}

export interface Service {
  id: string;
  /** Unique among services. */
  name: string;
  mode: ServiceMode;
  spec: ServiceSpec;
  /** Network id -> VIP in CIDR form (`10.0.1.2/24`), endpoint mode vip only. */
  vips: Record<string, string>;
  /** Goes up by one with every change of spec (and every --force): tasks of an older one are replaced, one at a time. */
  generation: number;
  /** docker's ForceUpdate counter. */
  forceUpdate: number;
  /** Wall ms of create and of the last update (proposer's clock). */
  createdAtMs?: number;
  updatedAtMs?: number;
  meta: Meta;
}

/** swarmkit TaskState, lower-cased; ordered as in the task lifecycle. */
export type TaskState =
  | 'new' | 'pending' | 'assigned' | 'accepted' | 'preparing' | 'ready' | 'starting'
  | 'running' | 'complete' | 'shutdown' | 'failed' | 'rejected' | 'remove' | 'orphaned';

export interface TaskStatus {
  state: TaskState;
  message: string;
  err?: string;
  /** When the node observed this state (wall ms, from the reporter). */
  timestampMs?: number;
  /** The command's exit code, once it ended. */
  exitCode?: number;
}

export interface Task {
  id: string;
  /** Absent for a standalone endpoint (`agent run`). */
  serviceId?: string;
  /** Replica slot of a replicated service (1-based, as Docker's name.N). */
  slot?: number;
  /** A standalone endpoint's `--name` (node-local in docker; kept here for discovery). */
  name?: string;
  nodeId: string;
  /** What a standalone task runs; service tasks take it from the service spec. */
  command?: string[];
  desiredState: TaskState;
  status: TaskStatus;
  /** Network id -> task address in CIDR form. */
  addresses: Record<string, string>;
  /** The service generation the task was made for (service tasks). */
  generation?: number;
  /** Wall ms the leader made it (proposer's clock). */
  createdAtMs?: number;
  meta: Meta;
}

/**
 * Addresses handed out in one subnet: the network's, or a pool carved from the
 * default address pool. `addresses` maps an address to its owner, e.g.
 * `gateway`, `vip:<serviceId>`, `task:<taskId>`, `lb:<nodeId>`.
 */
export interface IpamAllocation {
  id: string;
  networkId?: string;
  /** The pool the subnet came from (a defaultAddrPool entry), or the subnet itself when user-given. */
  pool: string;
  subnet: string;
  addresses: Record<string, string>;
  meta: Meta;
}

export type KeyKind = 'gossip' | 'data';

/** A gossip keyring key, or a network's data key (the PSK of its sessions, DESIGN §4). */
export interface Key {
  id: string;
  kind: KeyKind;
  /** Set for data keys. */
  networkId?: string;
  /** Increases by one per rotation; peers keep the previous one until all have the new. */
  generation: number;
  key: Uint8Array;
  createdAtMs: number;
  meta: Meta;
}

/** Join tokens (`SWMTKN-1-...`), one for workers and one for managers. */
export interface Token {
  id: string;
  worker: string;
  manager: string;
  meta: Meta;
}

/** The cluster-wide settings (swarmkit's Cluster object). */
export interface ClusterSettings {
  id: string;
  /** Unique; swarmkit names its one cluster `default`. */
  name: string;
  /** --default-addr-pool, CIDRs subnets are carved from. */
  defaultAddrPool: string[];
  /** --default-addr-pool-mask-length. */
  subnetSize: number;
  /** Data and gossip key rotation period (12 h by default, DESIGN §1). */
  keyRotationMs: number;
  /** Dispatcher heartbeat period (5 s by default, DESIGN §2). */
  heartbeatMs: number;
  /** --data-path-port. */
  dataPathPort: number;
  /** Cluster CA (Ed25519); the key is absent when the CA is external. */
  rootCa?: { certificate: Uint8Array; key?: Uint8Array };
  /** Lifetime of node certificates (90 days by default, `swarm update --cert-expiry`). */
  certExpiryMs?: number;
  /** Wall ms of `swarm init` and of the last settings change. */
  createdAtMs?: number;
  updatedAtMs?: number;
  meta: Meta;
}

/** Every kind of object, by the name commands, watches and snapshots use. */
export interface Objects {
  node: Node;
  network: Network;
  service: Service;
  task: Task;
  ipam: IpamAllocation;
  key: Key;
  token: Token;
  cluster: ClusterSettings;
}

export type Kind = keyof Objects;

/** The kinds in their fixed order (snapshot layout, command tags). Only ever appended. */
export const KINDS = ['node', 'network', 'service', 'task', 'ipam', 'key', 'token', 'cluster'] as const satisfies readonly Kind[];

/** An object as a proposer writes it: everything but meta. */
export type Draft<K extends Kind> = Omit<Objects[K], 'meta'>;

/** Kinds whose `name` is unique (nodes' hostnames are not, as in Docker). */
export type NamedKind = 'network' | 'service' | 'cluster';
export const NAMED_KINDS: ReadonlySet<Kind> = new Set<Kind>(['network', 'service', 'cluster']);

/** How messages name a kind. */
export const KIND_LABEL: Readonly<Record<Kind, string>> = {
  node: 'node',
  network: 'network',
  service: 'service',
  task: 'task',
  ipam: 'ipam allocation',
  key: 'key',
  token: 'token',
  cluster: 'cluster settings',
};

/** The human handle of an object for messages: a unique name, a hostname, or nothing. */
export function displayName(kind: Kind, o: object): string | undefined {
  const r = o as { name?: unknown; hostname?: unknown };
  if (NAMED_KINDS.has(kind) && typeof r.name === 'string') return r.name;
  if (kind === 'node' && typeof r.hostname === 'string') return r.hostname;
  return undefined;
}
