// Shapes of the local API (HTTP/1.1 + JSON over a Unix socket), modelled on
// the Docker Engine API. Fields are only ever added, never renamed.

export const API_VERSION = '1.0';

export interface VersionInfo {
  Version: string;
  ApiVersion: string;
  Os: string;
  Arch: string;
  Runtime: string;
}

export interface SystemInfo {
  Name: string;
  Pid: number;
  StateDir: string;
  NamePrefix: string;
  Runtime: string;
  Swarm: SwarmInfo;
}

export type LocalNodeState = 'inactive' | 'pending' | 'active' | 'error' | 'locked';

/** `Swarm` in /info, as docker's: what this node knows of its swarm. */
export interface SwarmInfo {
  LocalNodeState: LocalNodeState;
  /** Empty when inactive. */
  NodeID: string;
  /** This node's advertise address (host only). */
  NodeAddr: string;
  /** True on a manager. */
  ControlAvailable: boolean;
  /** Why the state is 'error' or 'pending' (e.g. this node was removed), else empty. */
  Error: string;
  /** Managers this node knows of, as host:port. */
  RemoteManagers: { NodeID: string; Addr: string }[];
  /** On managers: counts from the store; 0 elsewhere. */
  Nodes: number;
  Managers: number;
  /** On managers; undefined elsewhere. */
  Cluster?: { ID: string };
  /** Once gossip runs: the members this node sees, the keyring generations it holds, and what it dropped. */
  Gossip?: {
    Addr: string;
    Members: { NodeID: string; Addr: string; State: string; Incarnation: number }[];
    KeyGenerations: number[];
    Dropped: { unknownKey: number; badTag: number; tooShort: number; badVersion: number; Malformed: number };
  };
  /** On managers: this replica's view of Raft (how far it has caught up, whom it follows). */
  Raft?: { Term: number; Commit: number; Applied: number; LeaderID: string; Voters: string[] };
}

/** POST /swarm/init body (docker's SwarmInitRequest). Answer: the node id, a JSON string. */
export interface SwarmInitRequest {
  /** ADDR[:PORT], default 0.0.0.0:2377. ADDR may be an interface name. */
  ListenAddr?: string;
  /** ADDR[:PORT]; chosen from this host's addresses when there is exactly one candidate. */
  AdvertiseAddr?: string;
  DataPathAddr?: string;
  /** UDP port of VXLAN, default 4789. */
  DataPathPort?: number;
  /** CIDRs, default ["10.0.0.0/8"]. */
  DefaultAddrPool?: string[];
  /** Prefix length of each network's subnet, default 24. */
  SubnetSize?: number;
  ForceNewCluster?: boolean;
  Spec?: SwarmSpecInput;
}

/** POST /swarm/join body (docker's SwarmJoinRequest). Answer: {Role} (the role the token granted). */
export interface SwarmJoinRequest {
  ListenAddr?: string;
  AdvertiseAddr?: string;
  DataPathAddr?: string;
  /** Managers to try, HOST[:PORT] (port 2377 when absent). */
  RemoteAddrs: string[];
  JoinToken: string;
}

/** What `swarm update` may change; absent fields keep their value. */
export interface SwarmSpecInput {
  Dispatcher?: { HeartbeatPeriodMs?: number };
  CAConfig?: { NodeCertExpiryMs?: number };
  EncryptionConfig?: { KeyRotationMs?: number };
}

/** GET /swarm (managers only), docker's Swarm object. */
export interface SwarmInspect {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  UpdatedAt: string;
  Spec: {
    Name: string;
    Dispatcher: { HeartbeatPeriodMs: number };
    CAConfig: { NodeCertExpiryMs: number };
    EncryptionConfig: { KeyRotationMs: number };
  };
  /** SHA-256 digest of the CA root, base36: the middle part of every join token. */
  CaDigest: string;
  JoinTokens: { Worker: string; Manager: string };
  DefaultAddrPool: string[];
  SubnetSize: number;
  DataPathPort: number;
}

/**
 * POST /swarm/update?version=N[&rotateWorkerToken=true][&rotateManagerToken=true]
 * body SwarmSpecInput. version is SwarmInspect.Version.Index. Answer: {}.
 */

export type NodeRoleName = 'manager' | 'worker';
export type NodeAvailabilityName = 'active' | 'pause' | 'drain';

/** GET /nodes (array) and GET /nodes/:id, docker's Node object. :id may be an id, a unique id prefix or a hostname. */
export interface NodeInspect {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  UpdatedAt: string;
  Spec: { Role: NodeRoleName; Availability: NodeAvailabilityName; Labels: Record<string, string> };
  Description: { Hostname: string; Platform: { OS: string; Architecture: string }; Engine: { EngineVersion: string } };
  Status: { State: 'unknown' | 'down' | 'ready' | 'disconnected'; Message: string; Addr: string };
  /** Present on managers' nodes. */
  ManagerStatus?: { Leader: boolean; Reachability: 'reachable' | 'unreachable' | 'unknown'; Addr: string };
  /** Certificate validity of the node (Unix ms), when issued. */
  Certificate?: { Serial: string; NotAfterMs: number };
  /** The node's encrypted data path as it last reported it to the leader (with its heartbeats); absent when it has not. */
  DataPath?: NodeDataPath;
  /** The node's gossip plane as it last reported it (issue 11): its view of the members and its drops. */
  Gossip?: NodeGossipHealth;
}

/** A node's gossip, as it sees it: State is healthy while every member it knows is alive. */
export interface NodeGossipHealth {
  State: 'healthy' | 'degraded';
  MembersAlive: number;
  MembersSuspect: number;
  MembersDead: number;
  /** Probes that got no answer, directly or through helpers, since the agent started. */
  ProbeFailures: number;
  KeyGenerations: number[];
  /** Datagrams dropped: unknown key, bad tag, malformed. */
  Dropped: number;
}

/** What a node says of its gossip plane with its heartbeats. */
export interface GossipReport {
  alive: number;
  suspect: number;
  dead: number;
  probeFailures: number;
  keyGenerations: number[];
  dropped: number;
}

// ---- encrypted data path status (issue 7) ---------------------------------------------

/** A peer session on an encrypted overlay, as the node that holds it sees it. */
export type DatapathPeerState = 'up' | 'handshaking' | 'failed' | 'no-key';

/** One peer session in a node's report. */
export interface DatapathPeerReport {
  nodeId: string;
  state: DatapathPeerState;
  /** Why it is not up ('' when up). */
  reason: string;
  /** Wall ms of the last completed handshake, null if none yet. */
  lastHandshakeWallMs: number | null;
  txBytes: number;
  rxBytes: number;
}

/**
 * What a node's data path says of its encrypted overlays, sent to the leader
 * with each dispatcher heartbeat (control plane `heartbeat` body
 * `{datapath?}`). The leader keeps the latest per node in memory only.
 */
export interface DatapathReport {
  networks: { networkId: string; peers: DatapathPeerReport[] }[];
  /** The data path as a whole is broken on this node (e.g. it could not start). */
  error?: string;
  /** Ingress ports this node cannot serve (issue 10): another program holds them. */
  portErrors?: PortErrorReport[];
  /** The node's gossip plane (issue 11). */
  gossip?: GossipReport;
}

/** One published port a node does not serve, and why. */
export interface PortErrorReport {
  serviceId: string;
  /** `8080/tcp`. */
  port: string;
  error: string;
}

/** A peer session as `node inspect` and `network inspect` show it (`wg show`'s columns). */
export interface DatapathPeerView {
  NodeID: string;
  /** '' when the node is not (or no longer) in the swarm. */
  Hostname: string;
  /** DatapathPeerState; in NetworkInspect.Peers also 'unknown' (no report from that node). */
  State: string;
  Reason: string;
  /** RFC 3339, null if there was no handshake yet. */
  LastHandshake: string | null;
  TxBytes: number;
  RxBytes: number;
}

/** NodeInspect.DataPath: the node's latest report, one entry per encrypted overlay it reported on. */
export interface NodeDataPath {
  Networks: { NetworkID: string; Name: string; Peers: DatapathPeerView[] }[];
  Error?: string;
}

/**
 * One row of NetworkInspect.Peers: a node with endpoints on the encrypted
 * network, or reporting on it. The row sums up that node's sessions with the
 * network's other nodes: the worst state (failed, no-key, handshaking, up),
 * the reason of the worst, the oldest of the last handshakes (null while one
 * has none), the byte counts added up; Sessions has them one by one.
 */
export interface NetworkPeer extends DatapathPeerView {
  Sessions: DatapathPeerView[];
}

/**
 * POST /nodes/:id/update?version=N body {Role?, Availability?, Labels?}: the
 * changed fields of Spec. version is NodeInspect.Version.Index. Answer: {}.
 * DELETE /nodes/:id[?force=true]. Answer: {}.
 * POST /swarm/leave[?force=true]. Answer: {}.
 */
export interface NodeUpdateRequest {
  Role?: NodeRoleName;
  Availability?: NodeAvailabilityName;
  Labels?: Record<string, string>;
}

/** The body of every error response. */
export interface ErrorBody {
  message: string;
}

// ---- networks (docker's Network objects) ---------------------------------------------

export type NetworkDriverName = 'overlay' | 'bridge';

/** One IPAM pool of a network, docker's IPAMConfig. */
export interface IpamPoolConfig {
  Subnet: string;
  Gateway: string;
  IPRange?: string;
}

/** POST /networks/create body (docker's NetworkCreateRequest). Answer: {Id, Warning}. */
export interface NetworkCreateRequest {
  Name: string;
  /** Default overlay. */
  Driver?: NetworkDriverName;
  Attachable?: boolean;
  Ingress?: boolean;
  Internal?: boolean;
  /** At most one pool; each field optional (the leader allocates what is missing). */
  IPAM?: { Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] };
  /** Driver options as docker's keys: encrypted, com.docker.network.driver.mtu, com.docker.network.bridge.name, ... */
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

/**
 * GET /networks (array), GET /networks/:ref (id, unique id prefix or name).
 * DELETE /networks/:ref answers {}. POST /networks/prune answers {NetworksDeleted: names}.
 */
export interface NetworkInspect {
  Name: string;
  Id: string;
  /** RFC 3339. */
  Created: string;
  /** 'swarm' for overlays, 'local' for bridges. */
  Scope: 'swarm' | 'local';
  Driver: NetworkDriverName;
  EnableIPv6: boolean;
  IPAM: { Driver: 'default'; Options: null; Config: IpamPoolConfig[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** VXLAN network identifier of an overlay. */
  VNI?: number;
  /** Encrypted overlays, from network inspect: each node on it and how its encrypted sessions fare (as the nodes report them). */
  Peers?: NetworkPeer[];
  /** From network inspect: this node's endpoints, tasks and sandboxes on the network, by endpoint id (docker's: the local node's only). */
  Containers?: Record<string, NetworkContainer>;
}

/** One local endpoint on a network, as docker's network inspect shows it. */
export interface NetworkContainer {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  /** CIDR form. */
  IPv4Address: string;
  IPv6Address: '';
}

/** What a node learns when the managers give one of its endpoints an address on an overlay (leader op `attach`). */
export interface AttachAnswer {
  NetworkID: string;
  Name: string;
  VNI: number;
  Subnet: string;
  Gateway: string;
  /** The endpoint's address, CIDR form. */
  Address: string;
  /** Set when the network was created with com.docker.network.driver.mtu. */
  MTU?: number;
  Encrypted: boolean;
  Internal: boolean;
}

/** One port of a standalone endpoint (`agent run -p 8080:80/udp`): published on all of the node's addresses. */
export interface RunPort {
  Protocol: 'tcp' | 'udp' | 'sctp';
  TargetPort: number;
  PublishedPort: number;
}

/**
 * Standalone endpoints (`agent run`, docker's standalone containers).
 * POST /containers/run {Name?, Networks, IP?, Cmd, Ports?} answers {Id, Warnings}.
 * GET /containers/json?all=1 answers ContainerSummary[]; GET /containers/:ref/json a ContainerInspect.
 * DELETE /containers/:ref?force=1 answers {}. GET /containers/:ref/logs?offset=N answers ContainerLogs.
 * POST /networks/:ref/connect {Container?, NetNs?, Name?, IPv4Address?}; POST /networks/:ref/disconnect {Container}.
 */
export interface ContainerRunRequest {
  Name?: string;
  Networks: string[];
  IP?: string;
  Cmd: string[];
  /** `-p`: each published port+protocol at most once. */
  Ports?: RunPort[];
}

export interface ContainerSummary {
  Id: string;
  Name: string;
  Command: string[];
  /** Wall ms. */
  CreatedMs: number;
  /** 'running' or 'exited'. */
  State: 'running' | 'exited';
  ExitCode: number | null;
  /** Network names, in the order the interfaces were made. */
  Networks: string[];
  /** Set for `network connect --netns PATH` endpoints. */
  NetNsPath?: string;
  /** Its published ports (`agent run -p`); empty when none. */
  Ports: RunPort[];
}

export interface ContainerNetwork {
  NetworkID: string;
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
  Interface: string;
  MTU: number;
}

export interface ContainerInspect extends ContainerSummary {
  Pid: number;
  /** Name of its netns (under /run/netns). */
  Netns: string;
  NetworkSettings: {
    Networks: Record<string, ContainerNetwork>;
    /** The gwbridge interface (egress, default route). */
    Gateway?: { IPAddress: string; IPPrefixLen: number; Gateway: string; Interface: string };
  };
}

export interface ContainerLogs {
  /** UTF-8 text from Offset (at most 64 KiB). */
  Data: string;
  /** Where the next read starts (bytes into the log). */
  Offset: number;
  Running: boolean;
  ExitCode: number | null;
}

export interface NetworkConnectRequest {
  /** A container name or id. */
  Container?: string;
  /** A netns path of another runtime (`--netns`). */
  NetNs?: string;
  /** Name for a --netns endpoint (default: the path's last part). */
  Name?: string;
  IPv4Address?: string;
}

// ---- services and tasks (issue 8; docker's Service and Task objects, cut down) --------

export type ServiceModeSpec = { Replicated: { Replicas: number } } | { Global: Record<string, never> };

/** One published port: `-p 8080:80/udp`, or the long form (docker's PortConfig). */
export interface PortSpec {
  Protocol: 'tcp' | 'udp';
  TargetPort: number;
  /** Absent: the leader picks one from 30000-32767, as docker. */
  PublishedPort?: number;
  PublishMode: 'ingress' | 'host';
  /** Long form `proxy-protocol=v2` (ours, issue 10): the routing mesh sends a PROXY protocol v2 header first. tcp and ingress mode only. */
  ProxyProtocol?: 'v2';
}

export interface RestartPolicySpec {
  Condition: 'none' | 'on-failure' | 'any';
  /** Milliseconds (docker's API has nanoseconds; the CLI takes durations). */
  DelayMs: number;
  /** 0: unlimited. */
  MaxAttempts: number;
  /** Milliseconds; 0: the whole life of the service. */
  WindowMs: number;
}

/** POST /services/create. Answer: {ID, Warnings}. Omitted fields take docker's defaults. */
export interface ServiceCreateRequest {
  Name: string;
  /** Default {Replicated: {Replicas: 1}}. */
  Mode?: ServiceModeSpec;
  Command: string[];
  /** KEY=VALUE. */
  Env?: string[];
  /** Network names, ids or unique id prefixes; overlays only. */
  Networks?: string[];
  Ports?: PortSpec[];
  /** Default vip. */
  EndpointMode?: 'vip' | 'dnsrr';
  /** node.role==worker, node.hostname!=h1, node.id==ID, node.labels.k==v. */
  Constraints?: string[];
  /** Default {Condition: 'any', DelayMs: 5000, MaxAttempts: 0, WindowMs: 0}. */
  RestartPolicy?: Partial<RestartPolicySpec>;
  /** Default stop-first. */
  UpdateOrder?: 'stop-first' | 'start-first';
}

/** POST /services/:ref/update. Each field changes only what it names. Answer: {Warnings}. */
export interface ServiceUpdateRequest {
  /** Replicated services only. */
  Replicas?: number;
  NetworksAdd?: string[];
  NetworksRm?: string[];
  PortsAdd?: PortSpec[];
  /** Ports to remove, by published port (and protocol when given); `--publish-rm 8080` or `8080/udp` or `8080:80`. */
  PortsRm?: { PublishedPort?: number; TargetPort?: number; Protocol?: 'tcp' | 'udp' }[];
  EnvAdd?: string[];
  /** Names of variables to remove. */
  EnvRm?: string[];
  ConstraintsAdd?: string[];
  ConstraintsRm?: string[];
  RestartPolicy?: Partial<RestartPolicySpec>;
  UpdateOrder?: 'stop-first' | 'start-first';
  Command?: string[];
  /** Replace every task even if nothing changed (docker's --force). */
  Force?: boolean;
}

/** GET /services (array), GET /services/:ref (id, unique id prefix or name). DELETE /services/:ref answers {}. */
export interface ServiceInspect {
  ID: string;
  Version: { Index: number };
  /** RFC 3339. */
  CreatedAt: string;
  UpdatedAt: string;
  Spec: {
    Name: string;
    Labels: Record<string, string>;
    TaskTemplate: {
      ContainerSpec: { Command: string[]; Env: string[] };
      RestartPolicy: RestartPolicySpec;
      Placement: { Constraints: string[] };
      Networks: { Target: string; Aliases: string[] }[];
      ForceUpdate: number;
    };
    Mode: ServiceModeSpec;
    UpdateConfig: { Parallelism: 1; Order: 'stop-first' | 'start-first' };
    EndpointSpec: { Mode: 'vip' | 'dnsrr'; Ports: PortSpec[] };
  };
  Endpoint: {
    Spec: { Mode: 'vip' | 'dnsrr'; Ports: PortSpec[] };
    /** With every published port chosen. */
    Ports: PortSpec[];
    /** One per network in vip mode; CIDR form. */
    VirtualIPs: { NetworkID: string; Addr: string }[];
  };
  /** docker's ?status=true: tasks running now, and how many are wanted (replicas, or eligible nodes for global). */
  ServiceStatus: { RunningTasks: number; DesiredTasks: number };
  /** Published ports some node cannot serve (issue 10), as the nodes last reported. */
  PortErrors?: { NodeID: string; Hostname: string; Port: string; Error: string }[];
}

/** GET /tasks?service=REF (or ?node=REF): the tasks, newest first within each slot. */
export interface TaskInspect {
  ID: string;
  /** docker's `service ps` name: web.1 (replicated) or web.<node id> (global). */
  Name: string;
  /** The task's container name: web.1.<task id>, what `agent exec` and `agent ps` know it by. */
  ContainerName: string;
  ServiceID: string;
  ServiceName: string;
  Slot?: number;
  /** '' while pending. */
  NodeID: string;
  NodeHostname: string;
  DesiredState: string;
  Status: { State: string; Message: string; Err?: string; ExitCode?: number; Timestamp: string };
  CreatedAt: string;
  NetworksAttachments: { NetworkID: string; Name: string; Addresses: string[] }[];
}

/** GET /services/:ref/logs?offsets=JSON&tail=N: a chunk per task of the service that has a log (at most 64 KiB each). */
export interface ServiceLogs {
  Chunks: { TaskID: string; ContainerName: string; NodeID: string; Hostname: string; Data: string; Next: number }[];
}
