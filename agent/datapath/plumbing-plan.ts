// The exact commands behind each Plumbing operation, as data: pure functions
// from a spec to Steps (validating the spec first). No I/O here; HostPlumbing
// runs the steps in order through agent/host/run.ts, and plumbing-verdict.ts
// judges what came back.
//
// Link and address commands of one netns go in one `ip [-n NS] -batch -`
// process. A batch whose first lines delete leftovers runs with -force, so
// iproute2 carries on past them; a failure on such a line counts as success
// only when it says the object is not there.
import { formatIPv4, parseCidr } from '../swarm/cidr.js';
import {
  GWBRIDGE_DEFAULTS, GW_IFNAME, PIPE_ADDR_PREFIX_LEN, PIPE_PORT, SANDBOX_IFS, VXLAN_OVERHEAD, checkIPv4, checkIfAddr, checkIfname, checkMac,
  checkMtu, checkNetns, checkNftName, checkVni, macForIPv4, pipeAddrs, sameSubnet,
  type DefaultRouteSpec, type GwIfaceRef, type GwIfaceSpec, type GwbridgeRemoval, type GwbridgeSpec, type ListSpec, type OverlayIfaceRef,
  type OverlayIfaceSpec, type SandboxRef, type SandboxSpec,
} from './plumbing-spec.js';

export interface Step {
  /** The program and its arguments, exactly as run() gets them; never a shell. */
  readonly argv: readonly string[];
  /** stdin: an `ip -batch -` or `nft -f -` script. */
  readonly input?: string;
  /** Run inside this netns (run()'s `ip netns exec`), for tools without a netns flag of their own. */
  readonly netns?: string;
  /**
   * A failure because the object is not there is success: for the whole
   * command (true), or for these 1-based lines of a batch.
   */
  readonly absentOk?: true | readonly number[];
}

type Line = string | { cmd: string; absentOk: true };
const del = (cmd: string): Line => ({ cmd, absentOk: true });

function ip(netns: string | undefined, ...args: string[]): string[] {
  return netns === undefined ? ['ip', ...args] : ['ip', '-n', netns, ...args];
}

function batch(netns: string | undefined, lines: readonly Line[]): Step {
  const absent = lines.flatMap((l, i) => (typeof l === 'string' ? [] : [i + 1]));
  const text = lines.map((l) => (typeof l === 'string' ? l : l.cmd));
  return {
    argv: ip(netns, ...(absent.length > 0 ? ['-force'] : []), '-batch', '-'),
    input: `${text.join('\n')}\n`,
    ...(absent.length > 0 ? { absentOk: absent } : {}),
  };
}

const gone = (argv: string[]): Step => ({ argv, absentOk: true });
const inNetns = (netns: string | undefined): { netns?: string } => (netns === undefined ? {} : { netns });

// IPv6 off: a bridge with IPv6 on sends MLD reports and router solicitations
// into the overlay, and link-local addresses would answer ND. `all` also
// applies to the links already there; `default` to those made later.
function noIPv6(netns: string): Step {
  return { argv: ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], netns };
}

/** A netns of this name, new: a leftover of a crash is deleted first. */
function freshNetns(netns: string): Step {
  return batch(undefined, [del(`netns del ${netns}`), `netns add ${netns}`]);
}

function checkHost(spec: { hostNetns?: string }): void {
  if (spec.hostNetns !== undefined) checkNetns('hostNetns', spec.hostNetns);
}

// --- gwbridge ---

function checkGwbridge(spec: GwbridgeSpec): { subnet: string; gateway: string; prefix: number } {
  checkHost(spec);
  checkIfname('name', spec.name);
  if (spec.mtu !== undefined) checkMtu('mtu', spec.mtu);
  if (spec.natTable !== undefined) checkNftName('natTable', spec.natTable);
  const subnetText = spec.subnet ?? GWBRIDGE_DEFAULTS.subnet;
  let subnet;
  try {
    subnet = parseCidr(subnetText);
  } catch (e) {
    throw new Error(`subnet: ${(e as Error).message}`);
  }
  if (subnet.prefix > 30) throw new Error(`subnet: expected a prefix length of at most 30 (room for a gateway and endpoints), got ${subnetText}`);
  const gateway = spec.gateway === undefined ? subnet.base + 1 : checkIPv4('gateway', spec.gateway);
  if (!sameSubnet({ addr: subnet.base, prefix: subnet.prefix }, gateway)) throw new Error(`gateway: ${spec.gateway} is not in subnet ${subnetText}`);
  return { subnet: subnetText, gateway: formatIPv4(gateway), prefix: subnet.prefix };
}

/** `ip -d -j addr show dev NAME`: whether it exists, its kind and its addresses (parseGwbridgeProbe). */
export function gwbridgeProbePlan(spec: GwbridgeSpec): Step {
  checkGwbridge(spec);
  return gone(ip(spec.hostNetns, '-d', '-j', 'addr', 'show', 'dev', spec.name));
}

/** The subnet and gateway a gwbridge made from this spec gets. */
export function plannedGwbridge(spec: GwbridgeSpec): { subnet: string; gateway: string } {
  const { subnet, gateway } = checkGwbridge(spec);
  return { subnet, gateway };
}

/** A new gwbridge: the bridge, its gateway address, up. */
export function createGwbridgePlan(spec: GwbridgeSpec): Step[] {
  const { gateway, prefix } = checkGwbridge(spec);
  const mtu = spec.mtu === undefined ? '' : ` mtu ${spec.mtu}`;
  // A fixed MAC: a bridge left to pick its own takes the lowest of its ports', so it changes as
  // endpoints come and go, and every endpoint's ARP entry for the gateway (the resolver's address) goes stale.
  return [batch(spec.hostNetns, [`link add ${spec.name}${mtu} address ${macForIPv4(gateway)} type bridge`, `addr add ${gateway}/${prefix} dev ${spec.name}`, `link set ${spec.name} up`])];
}

/** A gwbridge that was there already: only brought up, its addresses as they are. */
export function existingGwbridgePlan(spec: GwbridgeSpec): Step[] {
  checkGwbridge(spec);
  return [{ argv: ip(spec.hostNetns, 'link', 'set', spec.name, 'up') }];
}

/**
 * Forwarding on, and unless masquerade is off the rule of docker's
 * `-s SUBNET ! -o BRIDGE -j MASQUERADE`, in one nft transaction that
 * declares, deletes and declares the table again: it replaces an older rule
 * and never fails on a missing table.
 */
export function gwbridgeForwardingPlan(spec: GwbridgeSpec, subnet: string): Step[] {
  checkGwbridge(spec);
  const steps: Step[] = [{ argv: ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], ...inNetns(spec.hostNetns) }];
  if (spec.masquerade !== false) {
    const t = spec.natTable ?? GWBRIDGE_DEFAULTS.natTable;
    const input = [
      `table ip ${t}`,
      `delete table ip ${t}`,
      `table ip ${t} {`,
      '\tchain postrouting {',
      '\t\ttype nat hook postrouting priority 100; policy accept;',
      `\t\tip saddr ${subnet} oifname != "${spec.name}" masquerade`,
      '\t}',
      '}',
      '',
    ].join('\n');
    steps.push({ argv: ['nft', '-f', '-'], input, ...inNetns(spec.hostNetns) });
  }
  return steps;
}

export function removeGwbridgePlan(spec: GwbridgeRemoval): Step[] {
  checkHost(spec);
  const steps: Step[] = [];
  if (spec.bridge !== undefined) steps.push(gone(ip(spec.hostNetns, 'link', 'del', checkIfname('bridge', spec.bridge))));
  if (spec.natTable !== undefined) {
    const t = checkNftName('natTable', spec.natTable);
    steps.push({ argv: ['nft', '-f', '-'], input: `table ip ${t}\ndelete table ip ${t}\n`, ...inNetns(spec.hostNetns) });
  }
  return steps;
}

// --- sandbox ---

/**
 * The pipe veth's MTU: exactly the largest datagram vx0 sends for a frame of
 * the overlay MTU (VXLAN_OVERHEAD more). vx0 is bound to the pipe (`dev
 * pipe`), so both are sized from the same number.
 */
export const pipeMtu = (overlayMtu: number): number => overlayMtu + VXLAN_OVERHEAD;

function checkSandboxRef(ref: SandboxRef): void {
  checkHost(ref);
  checkNetns('netns', ref.netns);
  checkIfname('hostLink', ref.hostLink);
}

function checkSandbox(spec: SandboxSpec): { host: string; sandbox: string } {
  checkSandboxRef(spec);
  checkVni('vni', spec.vni);
  checkMtu('mtu', spec.mtu);
  return pipeAddrs(spec.pipeIndex);
}

export function createSandboxPlan(spec: SandboxSpec): Step[] {
  const { host, sandbox } = checkSandbox(spec);
  const { netns: ns, hostLink } = spec;
  const p = pipeMtu(spec.mtu);
  const { pipe, bridge, vxlan } = SANDBOX_IFS;
  return [
    // The host end first: deleting it frees its name at once, while a deleted
    // netns is torn down asynchronously (and not at all while a process pins it).
    gone(ip(spec.hostNetns, 'link', 'del', hostLink)),
    freshNetns(ns),
    noIPv6(ns),
    batch(spec.hostNetns, [
      `link add ${hostLink} mtu ${p} type veth peer name ${pipe} mtu ${p} netns ${ns}`,
      `addr add ${host}/${PIPE_ADDR_PREFIX_LEN} dev ${hostLink}`,
      `link set ${hostLink} up`,
    ]),
    batch(ns, [
      `addr add ${sandbox}/${PIPE_ADDR_PREFIX_LEN} dev ${pipe}`,
      `link set ${pipe} up`,
      `link add ${bridge} mtu ${spec.mtu} type bridge`,
      `link set ${bridge} up`,
      `link add ${vxlan} mtu ${spec.mtu} type vxlan id ${spec.vni} local ${sandbox} remote ${host} dstport ${PIPE_PORT} nolearning dev ${pipe}`,
      `link set ${vxlan} master ${bridge} up`,
    ]),
    // DESIGN §3: with TX checksum offload on, inner TCP checksums reach the
    // agent still "partial" and every TCP segment dies at the far end.
    { argv: ['ethtool', '-K', pipe, 'tx', 'off'], netns: ns },
  ];
}

/** [host end's addresses, the sandbox's links in detail, the pipe's offloads]: read by sandboxLinksReady and txChecksumOff. */
export function sandboxProbePlan(spec: SandboxSpec): [Step, Step, Step] {
  checkSandbox(spec);
  return [
    gone(ip(spec.hostNetns, '-j', 'addr', 'show', 'dev', spec.hostLink)),
    gone(ip(spec.netns, '-d', '-j', 'addr', 'show')),
    { argv: ['ethtool', '-k', SANDBOX_IFS.pipe], netns: spec.netns },
  ];
}

/** The host end of the pipe (its peer goes at once), then the sandbox's links (sandboxLinksPlan). */
export function deleteSandboxPlan(ref: SandboxRef): Step[] {
  checkSandboxRef(ref);
  return [gone(ip(ref.hostNetns, 'link', 'del', ref.hostLink))];
}

/** What is left in the sandbox (parseLinkNames), so the endpoints' ends go at once too. */
export function sandboxLinksPlan(ref: SandboxRef): Step {
  checkSandboxRef(ref);
  return gone(ip(ref.netns, '-j', 'link', 'show'));
}

/** Every link but lo, then the netns: the endpoints' veth peers go with their sandbox ends, not whenever the netns is torn down. */
export function deleteNetnsPlan(netns: string, links: readonly string[]): Step[] {
  checkNetns('netns', netns);
  const ours = links.filter((l) => l !== 'lo').map((l) => del(`link del ${checkIfname('link', l)}`));
  return [...(ours.length > 0 ? [batch(netns, ours)] : []), gone(ip(undefined, 'netns', 'del', netns))];
}

// --- endpoint netns ---

export function createEndpointPlan(netns: string, opts: { forwarding?: boolean } = {}): Step[] {
  checkNetns('netns', netns);
  const steps: Step[] = [freshNetns(netns), noIPv6(netns), { argv: ip(netns, 'link', 'set', 'lo', 'up') }];
  if (opts.forwarding) steps.push({ argv: ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], netns });
  return steps;
}

/** The endpoint's links (parseLinkNames), so deleteEndpointPlan can delete them before the netns. */
export function endpointLinksPlan(netns: string): Step {
  checkNetns('netns', netns);
  return gone(ip(netns, '-j', 'link', 'show'));
}

/**
 * Deleting each link (a veth end) takes its peer in the sandbox or host with
 * it at once; the netns alone would go later, or never while a process still
 * runs in it.
 */
export const deleteEndpointPlan = deleteNetnsPlan;

const NETNS_DIR = '/run/netns'; // iproute2's NETNS_RUN_DIR

/**
 * A name for a netns another runtime made: a bind mount of its file, as
 * `ip netns attach` does for a pid. `ip netns del` later drops only our mount.
 * The last step proves the file is a netns.
 */
export function adoptNetnsPlan(path: string, netns: string): Step[] {
  checkNetns('netns', netns);
  if (typeof path !== 'string' || !path.startsWith('/') || /[\0\n]/.test(path)) throw new Error(`path: expected an absolute path to a network namespace file, got ${JSON.stringify(path)}`);
  const file = `${NETNS_DIR}/${netns}`;
  return [gone(ip(undefined, 'netns', 'del', netns)), { argv: ['mkdir', '-p', NETNS_DIR] }, { argv: ['touch', file] }, { argv: ['mount', '--bind', path, file] }, { argv: ip(netns, 'link', 'show', 'lo') }];
}

export function releaseNetnsPlan(netns: string): Step[] {
  checkNetns('netns', netns);
  return [gone(ip(undefined, 'netns', 'del', netns))];
}

// --- interfaces ---

function checkOverlayRef(ref: OverlayIfaceRef): void {
  checkNetns('sandboxNetns', ref.sandboxNetns);
  checkIfname('sandboxLink', ref.sandboxLink);
}

export function addOverlayIfacePlan(spec: OverlayIfaceSpec): Step[] {
  checkOverlayRef(spec);
  checkNetns('endpointNetns', spec.endpointNetns);
  checkIfname('ifname', spec.ifname);
  checkIfAddr('address', spec.address);
  checkMac('mac', spec.mac);
  checkMtu('mtu', spec.mtu);
  const { sandboxLink: s, ifname: e, mtu } = spec;
  return [
    batch(spec.sandboxNetns, [
      del(`link del ${s}`),
      `link add ${s} mtu ${mtu} type veth peer name ${e} mtu ${mtu} address ${spec.mac} netns ${spec.endpointNetns}`,
      `link set ${s} master ${SANDBOX_IFS.bridge} up`,
    ]),
    batch(spec.endpointNetns, [`addr add ${spec.address} dev ${e}`, `link set ${e} up`]),
  ];
}

export function removeOverlayIfacePlan(ref: OverlayIfaceRef): Step[] {
  checkOverlayRef(ref);
  return [gone(ip(ref.sandboxNetns, 'link', 'del', ref.sandboxLink))];
}

function checkGwRef(ref: GwIfaceRef): void {
  checkHost(ref);
  checkIfname('hostLink', ref.hostLink);
}

export function addGwIfacePlan(spec: GwIfaceSpec): Step[] {
  checkGwRef(spec);
  checkIfname('bridge', spec.bridge);
  checkNetns('endpointNetns', spec.endpointNetns);
  const e = checkIfname('ifname', spec.ifname ?? GW_IFNAME);
  const a = checkIfAddr('address', spec.address);
  if (!sameSubnet(a, checkIPv4('gateway', spec.gateway))) throw new Error(`gateway: ${spec.gateway} is not in the subnet of address ${spec.address}`);
  if (spec.mtu !== undefined) checkMtu('mtu', spec.mtu);
  const h = spec.hostLink;
  const mtu = spec.mtu === undefined ? '' : ` mtu ${spec.mtu}`;
  return [
    batch(spec.hostNetns, [
      del(`link del ${h}`),
      `link add ${h}${mtu} type veth peer name ${e}${mtu} netns ${spec.endpointNetns}`,
      `link set ${h} master ${spec.bridge}`,
      // A line of its own: the kernel takes bridge_slave options only on a link already enslaved.
      ...(spec.isolated ? [`link set ${h} type bridge_slave isolated on`] : []),
      `link set ${h} up`,
    ]),
    batch(spec.endpointNetns, [`addr add ${spec.address} dev ${e}`, `link set ${e} up`, ...(spec.defaultRoute === false ? [] : [`route replace default via ${spec.gateway} dev ${e}`])]),
  ];
}

export function setDefaultRoutePlan(spec: DefaultRouteSpec): Step[] {
  checkNetns('endpointNetns', spec.endpointNetns);
  const e = checkIfname('ifname', spec.ifname ?? GW_IFNAME);
  if (spec.gateway === undefined) return [{ argv: ip(spec.endpointNetns, 'route', 'flush', 'exact', '0.0.0.0/0') }];
  checkIPv4('gateway', spec.gateway);
  return [{ argv: ip(spec.endpointNetns, 'route', 'replace', 'default', 'via', spec.gateway, 'dev', e) }];
}

export function removeGwIfacePlan(ref: GwIfaceRef): Step[] {
  checkGwRef(ref);
  return [gone(ip(ref.hostNetns, 'link', 'del', ref.hostLink))];
}

// --- queries ---

/** Exit 0 when the link exists; absent netns or link is a plain no. */
export function hasLinkPlan(netns: string, link: string): Step {
  checkNetns('netns', netns);
  checkIfname('link', link);
  return gone(ip(netns, 'link', 'show', 'dev', link));
}

/** The default route, as JSON (parseDefaultRoute). */
export function defaultRoutePlan(netns: string): Step {
  checkNetns('netns', netns);
  return { argv: ip(netns, '-j', 'route', 'show', 'default') };
}

/** [named netns, host links] (parseNetnsNames, parseLinkNames). */
export function listPlan(spec: ListSpec): [Step, Step] {
  checkHost(spec);
  return [{ argv: ['ip', '-j', 'netns', 'list'] }, { argv: ip(spec.hostNetns, '-j', 'link', 'show') }];
}
