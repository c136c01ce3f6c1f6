// The node's Linux plumbing for overlay networks (DESIGN §3), as the daemon
// sees it: the Plumbing seam, the specs it takes, and the pure helpers behind
// names and addresses. HostPlumbing (plumbing-host.ts) drives iproute2, nft,
// sysctl and ethtool; FakePlumbing (plumbing-fake.ts) models the same in memory.
//
//   host netns ── <pipe>   169.254.x.1/30 ═══ veth ═══ pipe 169.254.x.2/30 ─┐
//    │            <gwbr>   172.18.0.1/16                                    │
//    │              └ <gw port> ═══ veth ═══ eth-gw (endpoint netns)        │
//    ├─ sandbox netns:  br0 ── vx0 (vxlan id VNI local .2 remote .1) ───────┘
//    │                   └ <sandbox port> ═══ veth ═══ ethN (endpoint netns)
//    └─ endpoint netns: lo, ethN, eth-gw, default route via the gwbridge
import { formatIPv4, maskOf, parseIPv4 } from '../swarm/cidr.js';
import { VNI_MAX } from '../network/vni.js';

/** IANA's VXLAN port (RFC 7348 §5), on both ends of every pipe: vx0 in the sandbox and the agent's socket on the host end. */
export const PIPE_PORT = 4789;
/**
 * Bytes a frame of the overlay MTU gains on its way through the pipe: the
 * inner Ethernet header (14), VXLAN (8), UDP (8), outer IPv4 (20) (RFC 7348 §5).
 * The pipe veth's MTU is overlay MTU + this (pipeMtu in plumbing-plan.ts).
 */
export const VXLAN_OVERHEAD = 50;
/** 169.254.64.0/18 holds 4096 /30 blocks, one per sandbox. */
export const PIPE_BLOCKS = 4096;
const PIPE_BASE = 0xa9fe_4000; // 169.254.64.0
export const PIPE_ADDR_PREFIX_LEN = 30;
export const MTU_MIN = 68; // RFC 791: every IPv4 host must take a 68-byte datagram
/** The pipe carries overlay MTU + VXLAN_OVERHEAD and a veth MTU tops out at 65535. */
export const MTU_MAX = 65_535 - VXLAN_OVERHEAD;
/** The sandbox's end of the pipe, its bridge and its VXLAN device: fixed, the sandbox is ours alone. */
export const SANDBOX_IFS = { pipe: 'pipe', bridge: 'br0', vxlan: 'vx0' } as const;
export const GW_IFNAME = 'eth-gw';
/** What the daemon uses unless told otherwise (docker's docker_gwbridge, renamed). */
export const GWBRIDGE_DEFAULTS = { name: 'agent_gwbridge', subnet: '172.18.0.0/16', natTable: 'agent_nat' } as const;

export interface GwbridgeSpec {
  /** The netns "the host" lives in; undefined = the current one. */
  hostNetns?: string;
  /** The bridge, e.g. agent_gwbridge. */
  name: string;
  /** Only when the bridge is made here; default 172.18.0.0/16. */
  subnet?: string;
  /** Only when the bridge is made here; default the subnet's first address. */
  gateway?: string;
  /** Only when the bridge is made here; default the kernel's (1500). */
  mtu?: number;
  /**
   * docker's enable_icc; default false. Linux bridges have no such switch:
   * it is port isolation, which addGwIface sets per port from its `isolated`
   * (= !icc). Recorded here so FakePlumbing can refuse a port that disagrees.
   */
  icc?: boolean;
  /** Masquerade the subnet's traffic leaving through any other interface; default true. */
  masquerade?: boolean;
  /** The nft table (family ip) holding the masquerade rule; default agent_nat. */
  natTable?: string;
}

export interface GwbridgeInfo {
  /** The bridge's subnet in CIDR form (its own, when it already existed). */
  subnet: string;
  gateway: string;
  /** Whether this call made the bridge; the caller removes only what it made. */
  created: boolean;
}

export interface GwbridgeRemoval {
  hostNetns?: string;
  /** The bridge to delete; undefined keeps it (the user made it). */
  bridge?: string;
  /** The nft table to delete; undefined when there is none of ours. */
  natTable?: string;
}

export interface SandboxRef {
  hostNetns?: string;
  /** The sandbox netns, e.g. <namePrefix>-n<vni>. */
  netns: string;
  /** The host-side end of the pipe veth, e.g. ag-p<vni>. */
  hostLink: string;
}

export interface SandboxSpec extends SandboxRef {
  /** Which /30 of 169.254.64.0/18 the pipe gets, 0-4095 (pipeAddrs). */
  pipeIndex: number;
  vni: number;
  /** The overlay MTU: br0, vx0 and every endpoint's interface on this network. */
  mtu: number;
}

export interface OverlayIfaceRef {
  sandboxNetns: string;
  /** The sandbox end of the endpoint's veth, e.g. v<12 chars of endpoint id>. */
  sandboxLink: string;
}

export interface OverlayIfaceSpec extends OverlayIfaceRef {
  endpointNetns: string;
  /** The endpoint's end, eth0, eth1, ... */
  ifname: string;
  /** The endpoint's IPv4 in CIDR form, e.g. 10.0.1.2/24. */
  address: string;
  /** e.g. macForIPv4 of the address. */
  mac: string;
  /** The overlay MTU, as the sandbox was made with. */
  mtu: number;
}

export interface GwIfaceRef {
  hostNetns?: string;
  /** The host end of the endpoint's gwbridge veth, e.g. ag-g<10 chars>. */
  hostLink: string;
}

export interface GwIfaceSpec extends GwIfaceRef {
  /** The gwbridge's name. */
  bridge: string;
  endpointNetns: string;
  /** The endpoint's end; default eth-gw. */
  ifname?: string;
  /** The endpoint's gwbridge address in CIDR form, e.g. 172.18.0.2/16. */
  address: string;
  /** The gwbridge's address: the endpoint's default route. */
  gateway: string;
  /** Whether the endpoint's default route goes via the gateway (default true; false for one on internal networks only). */
  defaultRoute?: boolean;
  /** Bridge port isolation (icc off): the port talks to the host only, never to another isolated port. */
  isolated: boolean;
  /** Default the kernel's (1500). */
  mtu?: number;
}

/** An endpoint's default route: via gateway on ifname, or (no gateway) none, so it reaches only the subnets of its links. */
export interface DefaultRouteSpec {
  endpointNetns: string;
  /** Default eth-gw. */
  ifname?: string;
  gateway?: string;
}

export interface ListSpec {
  hostNetns?: string;
  /** Named netns whose name starts with this. */
  netnsPrefix: string;
  /** Links in the host netns whose name starts with this. */
  linkPrefix: string;
}

export interface Listing {
  /** Sorted. */
  netns: string[];
  /** Sorted. */
  links: string[];
}

/**
 * What the daemon asks of the node. Contract (plumbing-contract.ts, run
 * against both implementations):
 * - a create replaces leftovers of the same names (a crash mid-way), and a
 *   create that fails takes back what it made, as far as it can;
 * - a remove of something already gone succeeds; when it resolves, the
 *   removed links are gone from both netns of their veth pair;
 * - a bad spec throws before anything is touched, naming the field;
 * - every error is one line: `<method> <subject>: <what failed>: <why>`.
 */
export interface Plumbing {
  /** Makes the gwbridge unless a link of that name exists (then only brings it up); ensures ip_forward and the masquerade rule. */
  ensureGwbridge(spec: GwbridgeSpec): Promise<GwbridgeInfo>;
  removeGwbridge(spec: GwbridgeRemoval): Promise<void>;
  createSandbox(spec: SandboxSpec): Promise<void>;
  /** Whether the sandbox exists complete, as createSandbox(spec) would make it (to adopt it after a restart). */
  sandboxReady(spec: SandboxSpec): Promise<boolean>;
  /** Deletes the host end of the pipe, every link in the sandbox (endpoints' interfaces on it go at once) and the netns. Only netns and hostLink are read. */
  deleteSandbox(ref: SandboxRef | SandboxSpec): Promise<void>;
  /** A netns with lo up and IPv6 off; with forwarding, it routes between its interfaces (the ingress sandbox). */
  createEndpoint(netns: string, opts?: { forwarding?: boolean }): Promise<void>;
  /** Deletes every link in it (so their peers go at once) and the netns. */
  deleteEndpoint(netns: string): Promise<void>;
  /** Names a netns another runtime made (a path such as /var/run/docker/netns/X or /proc/PID/ns/net) as `netns`. */
  adoptNetns(path: string, netns: string): Promise<void>;
  /** Drops the name adoptNetns gave; the netns and its other links stay. */
  releaseNetns(netns: string): Promise<void>;
  addOverlayIface(spec: OverlayIfaceSpec): Promise<void>;
  removeOverlayIface(ref: OverlayIfaceRef): Promise<void>;
  addGwIface(spec: GwIfaceSpec): Promise<void>;
  removeGwIface(ref: GwIfaceRef): Promise<void>;
  /** Sets or removes the endpoint's default route (idempotent). */
  setDefaultRoute(spec: DefaultRouteSpec): Promise<void>;
  /** The gateway of the netns's default route, if it has one. */
  defaultRoute(netns: string): Promise<string | undefined>;
  /** Whether `link` exists in the named netns (false when the netns does not). */
  hasLink(netns: string, link: string): Promise<boolean>;
  list(spec: ListSpec): Promise<Listing>;
}

// --- validation (STYLE habit 9: name the field, say what was expected, show what came) ---

// Conservative: what iproute2's batch parser, nft and /run/netns all take as one plain word.
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const IFNAME_MAX = 15; // IFNAMSIZ - 1
const NETNS_MAX = 64;
const NFT_NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function checkNetns(field: string, v: string): string {
  if (typeof v !== 'string' || v.length > NETNS_MAX || !NAME_RE.test(v)) {
    throw new Error(`${field}: expected a netns name of 1-${NETNS_MAX} of [A-Za-z0-9_.-] not starting with "." or "-", got ${JSON.stringify(v)}`);
  }
  return v;
}

export function checkIfname(field: string, v: string): string {
  if (typeof v !== 'string' || v.length > IFNAME_MAX || !NAME_RE.test(v)) {
    throw new Error(`${field}: expected an interface name of 1-${IFNAME_MAX} of [A-Za-z0-9_.-] not starting with "." or "-", got ${JSON.stringify(v)}`);
  }
  return v;
}

export function checkNftName(field: string, v: string): string {
  if (typeof v !== 'string' || !NFT_NAME_RE.test(v)) {
    throw new Error(`${field}: expected an nft table name of 1-32 of [A-Za-z0-9_] starting with a letter, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function checkInt(field: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${field}: expected an integer from ${min} to ${max}, got ${v}`);
  return v;
}

export const checkMtu = (field: string, v: number): number => checkInt(field, v, MTU_MIN, MTU_MAX);
export const checkVni = (field: string, v: number): number => checkInt(field, v, 1, VNI_MAX);

export function checkMac(field: string, v: string): string {
  // A multicast MAC (low bit of the first octet) is refused by the kernel on any interface.
  if (typeof v !== 'string' || !MAC_RE.test(v) || (parseInt(v.slice(0, 2), 16) & 1) === 1) {
    throw new Error(`${field}: expected a unicast MAC in lower-case aa:bb:cc:dd:ee:ff form, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function checkIPv4(field: string, v: string): number {
  const n = typeof v === 'string' ? parseIPv4(v) : undefined;
  if (n === undefined) throw new Error(`${field}: expected a dotted-quad IPv4 address, got ${JSON.stringify(v)}`);
  return n;
}

/** An interface address: `A.B.C.D/N`, host bits set (unlike a subnet), N 1-32. */
export interface IfAddr {
  addr: number;
  prefix: number;
}

export function checkIfAddr(field: string, v: string): IfAddr {
  const m = typeof v === 'string' ? /^([0-9.]+)\/([1-9]|[12][0-9]|3[0-2])$/.exec(v) : null;
  const addr = m?.[1] === undefined ? undefined : parseIPv4(m[1]);
  if (m === null || addr === undefined) throw new Error(`${field}: expected an IPv4 address in CIDR form A.B.C.D/N (N 1-32), got ${JSON.stringify(v)}`);
  return { addr, prefix: Number(m[2]) };
}

/** The subnet an interface address lies in, in CIDR form. */
export function subnetOf(a: IfAddr): string {
  return `${formatIPv4((a.addr & maskOf(a.prefix)) >>> 0)}/${a.prefix}`;
}

export function sameSubnet(a: IfAddr, addr: number): boolean {
  return ((a.addr ^ addr) & maskOf(a.prefix)) >>> 0 === 0;
}

// --- names and addresses ---

/**
 * The /30 of sandbox `index` in 169.254.64.0/18 (RFC 3927 link-local: never
 * routed, never clashes with a user's subnet): .1 the host end, .2 the sandbox end.
 */
export function pipeAddrs(index: number): { host: string; sandbox: string } {
  checkInt('pipeIndex', index, 0, PIPE_BLOCKS - 1);
  const base = PIPE_BASE + 4 * index;
  return { host: formatIPv4(base + 1), sandbox: formatIPv4(base + 2) };
}

/** Docker's MAC for an endpoint address: 02:42 (locally administered, unicast) and the four address bytes. */
export function macForIPv4(ip: string): string {
  const n = checkIPv4('ip', ip);
  const hex = (b: number) => b.toString(16).padStart(2, '0');
  return `02:42:${hex(n >>> 24)}:${hex((n >>> 16) & 0xff)}:${hex((n >>> 8) & 0xff)}:${hex(n & 0xff)}`;
}
