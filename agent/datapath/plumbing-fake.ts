// FakePlumbing: HostPlumbing's in-memory twin (STYLE habit 2), for testing
// the daemon's endpoint manager and data plane without root. It records every
// call and models what the kernel would hold: netns, links, veth pairs (one
// end deleted = both gone), bridge ports, addresses, routes, forwarding and
// NAT. It validates specs with the very plan functions HostPlumbing runs, and
// fails where the real one fails, with messages of the same shape.
// plumbing-contract.ts holds the cases both must pass.
import { fullArgv, showArgv } from '../host/run.js';
import * as plan from './plumbing-plan.js';
import {
  GW_IFNAME, PIPE_ADDR_PREFIX_LEN, SANDBOX_IFS, checkIPv4, checkIfAddr, pipeAddrs, sameSubnet, subnetOf,
  type DefaultRouteSpec, type GwIfaceRef, type GwIfaceSpec, type GwbridgeInfo, type GwbridgeRemoval, type GwbridgeSpec, type Listing, type ListSpec,
  type OverlayIfaceRef, type OverlayIfaceSpec, type Plumbing, type SandboxRef, type SandboxSpec,
} from './plumbing-spec.js';

export type FakeLinkKind = 'loopback' | 'bridge' | 'vxlan' | 'veth' | 'device';

export interface FakeLink {
  name: string;
  kind: FakeLinkKind;
  mtu: number;
  up: boolean;
  /** CIDR form. */
  addrs: string[];
  master?: string;
  /** Bridge port isolation. */
  isolated?: boolean;
  mac?: string;
  /** A veth's other end: `<netns>/<name>`, the host netns shown as `host` or `host:<name>`. */
  peer?: string;
  vni?: number;
  /** The pipe's TX checksum offload. */
  txChecksum?: boolean;
}

export interface FakeNetns {
  links: FakeLink[];
  defaultRoute?: string;
  ipv6: boolean;
}

export interface FakeHost {
  links: FakeLink[];
  ipForward: boolean;
  /** nft table -> the masqueraded subnet and the bridge it leaves alone. */
  nat: Record<string, { subnet: string; bridge: string }>;
}

export interface FakeCall {
  op: keyof Plumbing;
  /** A copy of the argument(s). */
  arg: unknown;
}

interface Link extends FakeLink {
  peerRef?: { ns: Ns; name: string };
}

class Ns {
  readonly links = new Map<string, Link>();
  defaultRoute: string | undefined;
  ipv6 = true;
  ipForward = false;
  readonly nat = new Map<string, { subnet: string; bridge: string }>();
  /** Bridge -> icc as ensureGwbridge was told. */
  readonly icc = new Map<string, boolean>();
  constructor(readonly label: string, readonly foreign = false) {}
}

const KERNEL_MTU = 1500;
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v ?? null)) as T;

function err(what: string, step: plan.Step | undefined, why: string, line?: number): Error {
  const cmd = step === undefined ? '' : `${showArgv(fullArgv(step.argv, step.netns))}: `;
  const text = line === undefined ? '' : `line ${line} (${step?.input?.split('\n')[line - 1] ?? '?'}): `;
  return new Error(`${what}: ${cmd}${text}${why}`);
}

export class FakePlumbing implements Plumbing {
  readonly calls: FakeCall[] = [];
  readonly #hosts = new Map<string, Ns>();
  readonly #named = new Map<string, Ns>();
  readonly #foreign = new Map<string, Ns>();
  readonly #failures = new Map<keyof Plumbing, string[]>();

  // --- test controls and views ---

  /** The next call of op records itself, changes nothing and rejects with this message. */
  failNext(op: keyof Plumbing, message: string): void {
    this.#failures.set(op, [...(this.#failures.get(op) ?? []), message]);
  }

  /** A netns another runtime made, reachable by path (for adoptNetns). */
  addForeignNetns(path: string): void {
    const ns = new Ns(path, true);
    ns.links.set('lo', { name: 'lo', kind: 'loopback', mtu: 65_536, up: true, addrs: ['127.0.0.1/8'] });
    this.#foreign.set(path, ns);
  }

  /** A link the user made in the host netns beforehand, e.g. their own gwbridge. */
  addHostLink(link: { hostNetns?: string; name: string; kind?: FakeLinkKind; addrs?: string[]; mtu?: number }): void {
    this.#host(link.hostNetns).links.set(link.name, { name: link.name, kind: link.kind ?? 'device', mtu: link.mtu ?? KERNEL_MTU, up: false, addrs: [...(link.addrs ?? [])] });
  }

  netnsNames(): string[] {
    return [...this.#named.keys()].sort();
  }

  netns(name: string): FakeNetns | undefined {
    const ns = this.#named.get(name);
    return ns === undefined ? undefined : { links: this.#view(ns), ...(ns.defaultRoute === undefined ? {} : { defaultRoute: ns.defaultRoute }), ipv6: ns.ipv6 };
  }

  host(hostNetns?: string): FakeHost {
    const h = this.#host(hostNetns);
    return { links: this.#view(h), ipForward: h.ipForward, nat: Object.fromEntries([...h.nat].map(([t, r]) => [t, { ...r }])) };
  }

  // --- Plumbing ---

  async ensureGwbridge(spec: GwbridgeSpec): Promise<GwbridgeInfo> {
    const what = this.#begin('ensureGwbridge', spec, spec.name);
    plan.gwbridgeProbePlan(spec);
    const h = this.#host(spec.hostNetns);
    const have = h.links.get(spec.name);
    let info: GwbridgeInfo;
    if (have !== undefined) {
      if (have.kind !== 'bridge') throw new Error(`${what}: ${spec.name} exists and is a ${have.kind}, not a bridge`);
      const a = have.addrs[0];
      if (a === undefined) throw new Error(`${what}: bridge ${spec.name} exists without an IPv4 address; give it one or delete it`);
      have.up = true;
      info = { subnet: subnetOf(checkIfAddr('address', a)), gateway: a.split('/')[0] ?? '', created: false };
    } else {
      const { subnet, gateway } = plan.plannedGwbridge(spec);
      h.links.set(spec.name, { name: spec.name, kind: 'bridge', mtu: spec.mtu ?? KERNEL_MTU, up: true, addrs: [`${gateway}/${subnet.split('/')[1]}`] });
      info = { subnet, gateway, created: true };
    }
    h.ipForward = true;
    h.icc.set(spec.name, spec.icc ?? false);
    if (spec.masquerade !== false) h.nat.set(spec.natTable ?? 'agent_nat', { subnet: info.subnet, bridge: spec.name });
    return info;
  }

  async removeGwbridge(spec: GwbridgeRemoval): Promise<void> {
    this.#begin('removeGwbridge', spec, spec.bridge ?? spec.natTable ?? '');
    plan.removeGwbridgePlan(spec);
    const h = this.#host(spec.hostNetns);
    if (spec.bridge !== undefined) {
      this.#delLink(h, spec.bridge);
      h.icc.delete(spec.bridge);
    }
    if (spec.natTable !== undefined) h.nat.delete(spec.natTable);
  }

  async createSandbox(spec: SandboxSpec): Promise<void> {
    this.#begin('createSandbox', spec, spec.netns);
    plan.createSandboxPlan(spec);
    const h = this.#host(spec.hostNetns);
    this.#delLink(h, spec.hostLink);
    this.#dropName(spec.netns);
    const sb = new Ns(spec.netns);
    sb.ipv6 = false;
    this.#named.set(spec.netns, sb);
    const { host, sandbox } = pipeAddrs(spec.pipeIndex);
    const p = plan.pipeMtu(spec.mtu);
    const { pipe, bridge, vxlan } = SANDBOX_IFS;
    this.#pair(h, { name: spec.hostLink, kind: 'veth', mtu: p, up: true, addrs: [`${host}/${PIPE_ADDR_PREFIX_LEN}`] }, sb, { name: pipe, kind: 'veth', mtu: p, up: true, addrs: [`${sandbox}/${PIPE_ADDR_PREFIX_LEN}`], txChecksum: false });
    sb.links.set(bridge, { name: bridge, kind: 'bridge', mtu: spec.mtu, up: true, addrs: [] });
    sb.links.set(vxlan, { name: vxlan, kind: 'vxlan', mtu: spec.mtu, up: true, addrs: [], master: bridge, vni: spec.vni });
  }

  async sandboxReady(spec: SandboxSpec): Promise<boolean> {
    this.#begin('sandboxReady', spec, spec.netns);
    plan.sandboxProbePlan(spec);
    const { host, sandbox } = pipeAddrs(spec.pipeIndex);
    const p = plan.pipeMtu(spec.mtu);
    const hostEnd = this.#host(spec.hostNetns).links.get(spec.hostLink);
    const sb = this.#named.get(spec.netns);
    const pipe = sb?.links.get(SANDBOX_IFS.pipe);
    const br = sb?.links.get(SANDBOX_IFS.bridge);
    const vx = sb?.links.get(SANDBOX_IFS.vxlan);
    return (
      hostEnd?.up === true && hostEnd.mtu === p && hostEnd.addrs.includes(`${host}/${PIPE_ADDR_PREFIX_LEN}`) &&
      pipe?.up === true && pipe.mtu === p && pipe.addrs.includes(`${sandbox}/${PIPE_ADDR_PREFIX_LEN}`) && pipe.txChecksum === false &&
      br?.up === true && br.kind === 'bridge' && br.mtu === spec.mtu &&
      vx?.up === true && vx.kind === 'vxlan' && vx.mtu === spec.mtu && vx.master === SANDBOX_IFS.bridge && vx.vni === spec.vni
    );
  }

  async deleteSandbox(ref: SandboxRef | SandboxSpec): Promise<void> {
    this.#begin('deleteSandbox', ref, ref.netns);
    plan.deleteSandboxPlan(ref);
    this.#delLink(this.#host(ref.hostNetns), ref.hostLink);
    this.#dropName(ref.netns);
  }

  async createEndpoint(netns: string, opts: { forwarding?: boolean } = {}): Promise<void> {
    this.#begin('createEndpoint', netns, netns);
    plan.createEndpointPlan(netns, opts);
    this.#dropName(netns);
    const ns = new Ns(netns);
    ns.ipv6 = false;
    ns.links.set('lo', { name: 'lo', kind: 'loopback', mtu: 65_536, up: true, addrs: ['127.0.0.1/8'] });
    ns.ipForward = opts.forwarding === true;
    this.#named.set(netns, ns);
  }

  async deleteEndpoint(netns: string): Promise<void> {
    this.#begin('deleteEndpoint', netns, netns);
    plan.endpointLinksPlan(netns);
    const ns = this.#named.get(netns);
    if (ns !== undefined) for (const l of [...ns.links.keys()]) if (l !== 'lo') this.#delLink(ns, l);
    this.#dropName(netns);
  }

  async adoptNetns(path: string, netns: string): Promise<void> {
    const what = this.#begin('adoptNetns', { path, netns }, path);
    const steps = plan.adoptNetnsPlan(path, netns);
    this.#dropName(netns);
    const ns = this.#foreign.get(path);
    if (ns === undefined) throw err(what, steps[3], `mount: /run/netns/${netns}: special device ${path} does not exist.`);
    this.#named.set(netns, ns);
  }

  async releaseNetns(netns: string): Promise<void> {
    this.#begin('releaseNetns', netns, netns);
    plan.releaseNetnsPlan(netns);
    this.#dropName(netns);
  }

  async addOverlayIface(spec: OverlayIfaceSpec): Promise<void> {
    const what = this.#begin('addOverlayIface', spec, `${spec.endpointNetns} ${spec.ifname}`);
    const [first] = plan.addOverlayIfacePlan(spec);
    const sb = this.#named.get(spec.sandboxNetns);
    if (sb === undefined) throw err(what, first, `Cannot open network namespace "${spec.sandboxNetns}": No such file or directory`);
    this.#delLink(sb, spec.sandboxLink);
    const ep = this.#named.get(spec.endpointNetns);
    if (ep === undefined) throw err(what, first, `Error: argument "${spec.endpointNetns}" is wrong: Invalid "netns" value`);
    if (ep.links.has(spec.ifname)) throw err(what, first, 'RTNETLINK answers: File exists', 2);
    if (sb.links.get(SANDBOX_IFS.bridge)?.kind !== 'bridge') throw err(what, first, `Error: argument "${SANDBOX_IFS.bridge}" is wrong: Device does not exist`);
    this.#pair(
      sb, { name: spec.sandboxLink, kind: 'veth', mtu: spec.mtu, up: true, addrs: [], master: SANDBOX_IFS.bridge },
      ep, { name: spec.ifname, kind: 'veth', mtu: spec.mtu, up: true, addrs: [spec.address], mac: spec.mac },
    );
  }

  async removeOverlayIface(ref: OverlayIfaceRef): Promise<void> {
    this.#begin('removeOverlayIface', ref, `${ref.sandboxNetns} ${ref.sandboxLink}`);
    plan.removeOverlayIfacePlan(ref);
    const sb = this.#named.get(ref.sandboxNetns);
    if (sb !== undefined) this.#delLink(sb, ref.sandboxLink);
  }

  async addGwIface(spec: GwIfaceSpec): Promise<void> {
    const what = this.#begin('addGwIface', spec, `${spec.endpointNetns} ${spec.hostLink}`);
    const [first] = plan.addGwIfacePlan(spec);
    const ifname = spec.ifname ?? GW_IFNAME;
    const h = this.#host(spec.hostNetns);
    this.#delLink(h, spec.hostLink);
    const ep = this.#named.get(spec.endpointNetns);
    if (ep === undefined) throw err(what, first, `Error: argument "${spec.endpointNetns}" is wrong: Invalid "netns" value`);
    if (ep.links.has(ifname)) throw err(what, first, 'RTNETLINK answers: File exists', 2);
    if (h.links.get(spec.bridge)?.kind !== 'bridge') throw err(what, first, `Error: argument "${spec.bridge}" is wrong: Device does not exist`);
    // Only the fake can check this: Linux has no bridge-wide icc, only the ports' isolation.
    const icc = h.icc.get(spec.bridge);
    if (icc !== undefined && spec.isolated === icc) throw new Error(`${what}: isolated: expected ${!icc} on gwbridge ${spec.bridge} (icc ${icc}), got ${spec.isolated}`);
    const mtu = spec.mtu ?? KERNEL_MTU;
    this.#pair(
      h, { name: spec.hostLink, kind: 'veth', mtu, up: true, addrs: [], master: spec.bridge, isolated: spec.isolated },
      ep, { name: ifname, kind: 'veth', mtu, up: true, addrs: [spec.address] },
    );
    ep.defaultRoute = spec.defaultRoute === false ? undefined : spec.gateway;
  }

  async setDefaultRoute(spec: DefaultRouteSpec): Promise<void> {
    const what = this.#begin('setDefaultRoute', spec, spec.endpointNetns);
    const [step] = plan.setDefaultRoutePlan(spec);
    const ep = this.#named.get(spec.endpointNetns);
    if (ep === undefined) throw err(what, step!, `Cannot open network namespace "${spec.endpointNetns}": No such file or directory`);
    if (spec.gateway === undefined) return void (ep.defaultRoute = undefined);
    const link = ep.links.get(spec.ifname ?? GW_IFNAME);
    if (link === undefined) throw err(what, step!, `Cannot find device "${spec.ifname ?? GW_IFNAME}"`);
    const gw = checkIPv4('gateway', spec.gateway);
    if (!link.addrs.some((a) => sameSubnet(checkIfAddr('address', a), gw))) throw err(what, step!, 'Error: Nexthop has invalid gateway.');
    ep.defaultRoute = spec.gateway;
  }

  async defaultRoute(netns: string): Promise<string | undefined> {
    const what = this.#begin('defaultRoute', { netns }, netns);
    const step = plan.defaultRoutePlan(netns);
    const ns = this.#named.get(netns);
    if (ns === undefined) throw err(what, step, `Cannot open network namespace "${netns}": No such file or directory`);
    return ns.defaultRoute;
  }

  async removeGwIface(ref: GwIfaceRef): Promise<void> {
    this.#begin('removeGwIface', ref, ref.hostLink);
    plan.removeGwIfacePlan(ref);
    this.#delLink(this.#host(ref.hostNetns), ref.hostLink);
  }

  async hasLink(netns: string, link: string): Promise<boolean> {
    this.#begin('hasLink', { netns, link }, `${netns} ${link}`);
    plan.hasLinkPlan(netns, link);
    return this.#named.get(netns)?.links.has(link) ?? false;
  }

  async list(spec: ListSpec): Promise<Listing> {
    this.#begin('list', spec, '');
    plan.listPlan(spec);
    return {
      netns: this.netnsNames().filter((n) => n.startsWith(spec.netnsPrefix)),
      links: [...this.#host(spec.hostNetns).links.keys()].filter((n) => n.startsWith(spec.linkPrefix)).sort(),
    };
  }

  // --- the model ---

  /** Records the call, consumes an injected failure; returns the message prefix. */
  #begin(op: keyof Plumbing, arg: unknown, subject: string): string {
    this.calls.push({ op, arg: copy(arg) });
    const what = subject === '' ? op : `${op} ${subject}`;
    const injected = this.#failures.get(op)?.shift();
    if (injected !== undefined) throw new Error(injected);
    return what;
  }

  #host(hostNetns: string | undefined): Ns {
    const key = hostNetns ?? '';
    let h = this.#hosts.get(key);
    if (h === undefined) {
      h = new Ns(hostNetns === undefined ? 'host' : `host:${hostNetns}`);
      h.links.set('lo', { name: 'lo', kind: 'loopback', mtu: 65_536, up: true, addrs: ['127.0.0.1/8'] });
      this.#hosts.set(key, h);
    }
    return h;
  }

  #pair(a: Ns, la: FakeLink, b: Ns, lb: FakeLink): void {
    a.links.set(la.name, { ...la, peer: `${b.label}/${lb.name}`, peerRef: { ns: b, name: lb.name } });
    b.links.set(lb.name, { ...lb, peer: `${a.label}/${la.name}`, peerRef: { ns: a, name: la.name } });
  }

  /** Deletes a link: a veth's peer goes too, a bridge's ports lose their master. */
  #delLink(ns: Ns, name: string): void {
    const l = ns.links.get(name);
    if (l === undefined) return;
    ns.links.delete(name);
    if (l.peerRef !== undefined && l.peerRef.ns.links.get(l.peerRef.name)?.peerRef?.ns === ns) l.peerRef.ns.links.delete(l.peerRef.name);
    if (l.kind === 'bridge') {
      for (const p of ns.links.values()) {
        if (p.master === name) {
          delete p.master;
          delete p.isolated;
        }
      }
    }
  }

  /** `ip netns del`: a netns of ours dies with its links (and their peers); an adopted one only loses the name. */
  #dropName(name: string): void {
    const ns = this.#named.get(name);
    if (ns === undefined) return;
    this.#named.delete(name);
    if (!ns.foreign) for (const l of [...ns.links.keys()]) this.#delLink(ns, l);
  }

  #view(ns: Ns): FakeLink[] {
    return [...ns.links.values()]
      .map(({ peerRef: _, ...l }) => copy(l) as FakeLink)
      .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  }
}
