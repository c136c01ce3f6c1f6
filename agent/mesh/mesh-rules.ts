// The routing mesh's rules (issue 10, docs/routing-mesh.md), the pure part:
// one nft transaction for a node's host netns (published ports to the
// ingress sandbox, host-mode ports to a local task) and one for its ingress
// sandbox (published ports to a task on any node, masqueraded so the task
// answers the sandbox). Each replaces table `ip agent_mesh` whole, in one
// `nft -f` (declare, delete, define: atomic and idempotent, as vip-rules.ts).
// The node's loopback is left to the agent's port holders (port-holder.ts):
// a DNAT of 127.0.0.1 to another host's address would be dropped as martian.
import { parseIPv4 } from '../swarm/cidr.js';
import { backendChains, portChainKey, spreadRule } from '../host/nft-backends.js';

export const MESH_TABLE = 'agent_mesh';

export type Protocol = 'tcp' | 'udp';
/** Standalone endpoints publish SCTP too (`agent run -p 8080:80/sctp`). */
export type HostProtocol = Protocol | 'sctp';

/** A port published through the mesh, with the ingress addresses of the service's running tasks. */
export interface IngressPort {
  protocol: Protocol;
  published: number;
  target: number;
  /** Plain IPv4 on the ingress network; none: the port refuses (nothing to send to). */
  backends: readonly string[];
}

/** A host-mode port on this node: straight to the local task's gwbridge address. */
export interface HostPort {
  protocol: HostProtocol;
  published: number;
  target: number;
  /** The task's address on the gwbridge (plain IPv4). */
  address: string;
}

function checkPort(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new RangeError(`${what}: expected a port from 1 to 65535, got ${n}`);
  return n;
}

function checkIp(what: string, ip: string): string {
  if (parseIPv4(ip) === undefined) throw new RangeError(`${what}: expected an IPv4 address, got ${JSON.stringify(ip)}`);
  return ip;
}

function checkIfname(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw new RangeError(`ingress interface: expected a Linux interface name, got ${JSON.stringify(name)}`);
  return name;
}

const byPort = <T extends { protocol: HostProtocol; published: number }>(a: T, b: T): number => a.published - b.published || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0);

function table(chains: string[]): string {
  return [`table ip ${MESH_TABLE} {}`, `delete table ip ${MESH_TABLE}`, `table ip ${MESH_TABLE} {`, ...chains, '}', ''].join('\n');
}

function chain(name: string, hook: string, priority: number, rules: readonly string[]): string {
  return [`\tchain ${name} {`, `\t\ttype nat hook ${hook} priority ${priority}; policy accept;`, ...rules.map((r) => `\t\t${r}`), '\t}'].join('\n');
}

/**
 * The host netns: every ingress port to the sandbox's gwbridge address (same
 * port), every host-mode port to its task; for traffic arriving from outside
 * (prerouting) and from the node itself (output), to the node's own
 * addresses only (`fib daddr type local`).
 */
export function hostScript(o: { sandboxAddress: string; ingress: readonly { protocol: Protocol; published: number }[]; host: readonly HostPort[] }): string {
  const sandbox = checkIp('sandbox address', o.sandboxAddress);
  const rules: string[] = [];
  const seen = new Set<string>();
  const add = (protocol: HostProtocol, published: number, to: string) => {
    const key = `${protocol}/${published}`;
    if (seen.has(key)) throw new RangeError(`hostScript: ${key} is published twice on this node`);
    seen.add(key);
    rules.push(`fib daddr type local ip daddr != 127.0.0.0/8 ${protocol} dport ${checkPort('published port', published)} dnat to ${to}`);
  };
  for (const p of [...o.ingress].sort(byPort)) add(p.protocol, p.published, `${sandbox}:${p.published}`);
  for (const p of [...o.host].sort(byPort)) add(p.protocol, p.published, `${checkIp('task address', p.address)}:${checkPort('target port', p.target)}`);
  return table([chain('prerouting', 'prerouting', -100, rules), chain('output', 'output', -100, rules)]);
}

/**
 * The ingress sandbox: each published port, per flow, to one backend's target
 * port (numgen random, as the VIP rules), and a masquerade on the ingress
 * interface for what was translated, so the task replies to this sandbox.
 * Each backend has a chain `be_<protocol>_<port>_<i>` whose rule counts the
 * flows it is given (host/nft-backends.ts, issue 11); the rule repeats the
 * port match because nft takes a port in a dnat only after a transport match.
 */
export function sandboxScript(o: { ingressIf: string; ports: readonly IngressPort[] }): string {
  const ifname = checkIfname(o.ingressIf);
  const rules: string[] = [];
  const backendChainLines: string[] = [];
  for (const p of [...o.ports].sort(byPort)) {
    const target = checkPort('target port', p.target);
    const backends = [...new Set(p.backends.map((b) => checkIp('backend', b)))].sort((a, b) => parseIPv4(a)! - parseIPv4(b)!);
    if (backends.length === 0) continue;
    const dport = `${p.protocol} dport ${checkPort('published port', p.published)}`;
    const key = portChainKey(p.protocol, p.published);
    rules.push(spreadRule(dport, key, backends.length));
    backendChainLines.push(...backendChains(key, backends.map((b) => `counter ${dport} dnat to ${b}:${target}`)));
  }
  return table([
    chain('prerouting', 'prerouting', -100, rules),
    chain('postrouting', 'postrouting', 100, [`oifname "${ifname}" ct status dnat masquerade`]),
    ...backendChainLines,
  ]);
}
