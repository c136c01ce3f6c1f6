// What one endpoint holds on this node, made and undone (issue 6): its
// published ports, its leg on the gwbridge, an address from the managers and
// an interface in the sandbox of each overlay, its peer record and its name
// for DNS and the VIPs. Each step undoes what it did when a later one fails,
// and teardown tolerates what is already gone. The records, their file and
// the order of operations are endpoint-manager.ts's.
import { ApiError } from '../../shared/errors.js';
import type { AttachAnswer } from '../api/types.js';
import { VXLAN_OVERHEAD_BYTES, sandboxNetns } from '../datapath/data-plane.js';
import { macForIPv4 } from '../datapath/plumbing.js';
import { SECURE_OVERHEAD_BYTES } from '../datapath/secure/secure-plane.js';
import { PortInUseError, SctpUnsupportedError } from '../mesh/port-holder.js';
import { AddressSpace } from '../network/address-space.js';
import type { EndpointManagerOptions } from './endpoint-manager.js';
import type { EndpointNet, EndpointRecord } from './endpoint-state.js';

export const GWBRIDGE = 'agent_gwbridge';
export const GWBRIDGE_SUBNET = '172.18.0.0/16';
export const GWBRIDGE_GATEWAY = '172.18.0.1';
const NAT_TABLE = 'agent_nat';

export class EndpointWiring {
  readonly #o: EndpointManagerOptions;
  /** Every record of this node (for the gwbridge addresses in use). */
  readonly #all: () => readonly EndpointRecord[];
  #gw: { subnet: string; gateway: string } | undefined;

  constructor(o: EndpointManagerOptions, all: () => readonly EndpointRecord[]) {
    this.#o = o;
    this.#all = all;
  }

  /** Forget the gwbridge's addresses (its network was removed or remade). */
  forgetGwbridge(): void {
    this.#gw = undefined;
  }

  /** Hold the endpoint's published ports; TCP ones relay the node's own loopback connections to it. */
  claim(r: EndpointRecord): Promise<void> {
    if (!r.ports?.length || !this.#o.ports) return Promise.resolve();
    return this.#o.ports.claim(
      r.id,
      r.ports.map((p) => ({
        protocol: p.protocol,
        published: p.published,
        ...(p.protocol === 'tcp' ? { relay: { target: () => (r.gw ? { host: plain(r.gw.address), port: p.target } : undefined), proxyHeader: false } } : {}),
      })),
    );
  }

  /** A new endpoint whole: its ports, an address on each network, its netns, gwbridge leg and interfaces; or nothing. */
  async build(r: EndpointRecord, networks: readonly string[], ip: string | undefined): Promise<void> {
    // The ports first, then the managers: a refusal (port or address taken, not attachable) costs no plumbing.
    try {
      await this.claim(r);
    } catch (e) {
      if (e instanceof PortInUseError) throw new ApiError(`Bind for 0.0.0.0:${e.port.split('/')[0]} failed: port is already allocated`, 409);
      if (e instanceof SctpUnsupportedError) throw new ApiError(e.message, 400);
      throw e;
    }
    const answers: AttachAnswer[] = [];
    try {
      for (const net of networks) {
        const a = await this.#attach(r, net, answers.length === 0 ? ip : undefined);
        // The same network twice (by name and id, say): the managers answer the same address again.
        if (answers.some((x) => x.NetworkID === a.NetworkID)) throw new ApiError(`endpoint with name ${r.name} already exists in network ${a.Name}`, 409);
        answers.push(a);
      }
    } catch (e) {
      await this.#o.swarm().detach({ taskId: r.id }).catch(() => {});
      if (r.ports?.length) await this.#o.ports?.release(r.id);
      throw e;
    }
    try {
      await this.#o.plumbing.createEndpoint(r.netns);
      await this.addGateway(r, reachesOut(answers.map((a) => ({ internal: a.Internal }))));
      for (const a of answers) await this.plumb(r, a);
    } catch (e) {
      await this.teardown(r);
      await this.#o.swarm().detach({ taskId: r.id }).catch(() => {});
      throw e;
    }
  }

  /** The endpoint's leg on the gwbridge (its egress, and its way to the resolver), with a free address of the bridge's subnet. */
  async addGateway(r: EndpointRecord, outbound = true): Promise<void> {
    const user = this.#o.gwbridge?.();
    const device = user?.device ?? GWBRIDGE;
    const icc = user?.icc ?? false;
    const gw = (this.#gw ??= await this.#o.plumbing.ensureGwbridge({ name: device, subnet: GWBRIDGE_SUBNET, gateway: GWBRIDGE_GATEWAY, icc, masquerade: user?.masquerade ?? true, natTable: NAT_TABLE }));
    const used: Record<string, string> = {};
    for (const x of this.#all()) if (x.gw) used[plain(x.gw.address)] = x.id;
    const address = new AddressSpace({ subnet: gw.subnet, gateway: gw.gateway }, used).allocate(r.id);
    r.gw = { address, gateway: gw.gateway, hostLink: `ag-g${r.id.slice(0, 10)}` };
    await this.#o.plumbing.addGwIface({ bridge: device, endpointNetns: r.netns, hostLink: r.gw.hostLink, ifname: 'eth-gw', address, gateway: gw.gateway, isolated: !icc, defaultRoute: outbound });
  }

  async #attach(r: EndpointRecord, network: string, ip: string | undefined): Promise<AttachAnswer> {
    const swarm = this.#o.swarm();
    if (!swarm.membership) throw new ApiError('This node is not part of a swarm: overlay networks need one. Use "agent swarm init" or "agent swarm join" first.', 503);
    const a = await swarm.attach({ taskId: r.id, name: r.name, network, ...(ip !== undefined ? { ip } : {}) });
    if (r.networks.some((n) => n.networkId === a.NetworkID)) throw new ApiError(`endpoint with name ${r.name} already exists in network ${a.Name}`, 409);
    return a;
  }

  /** One more network for an existing endpoint: address from the managers, then the interface. */
  async attachOne(r: EndpointRecord, network: string, ip: string | undefined): Promise<void> {
    const a = await this.#attach(r, network, ip);
    try {
      await this.plumb(r, a);
    } catch (e) {
      await this.#o.swarm().detach({ taskId: r.id, network: a.NetworkID }).catch(() => {});
      throw e;
    }
    this.announce(r, r.networks.at(-1)!);
  }

  /** The sandbox, the endpoint's interface on it, and its peer record. */
  async plumb(r: EndpointRecord, a: AttachAnswer): Promise<void> {
    const m = this.#o.swarm().membership;
    if (!m) throw new ApiError('This node left the swarm during the request', 503);
    // Encrypted: the 32 bytes of the secure header and tag come off the MTU too (DESIGN §4).
    const mtu = a.MTU ?? (await this.#o.underlayMtu(m.vtep)) - VXLAN_OVERHEAD_BYTES - (a.Encrypted ? SECURE_OVERHEAD_BYTES : 0);
    const n: EndpointNet = {
      networkId: a.NetworkID,
      name: a.Name,
      vni: a.VNI,
      subnet: a.Subnet,
      gateway: a.Gateway,
      address: a.Address,
      mac: macForIPv4(plain(a.Address)),
      mtu,
      ifname: nextIfname(r),
      sandboxLink: `v${r.id.slice(0, 12)}`,
      ...(a.Encrypted ? { encrypted: true } : {}),
      ...(a.Internal ? { internal: true } : {}),
    };
    await this.#o.data.useNetwork({ nid: n.networkId, vni: n.vni, mtu: n.mtu, encrypted: a.Encrypted }, r.id);
    try {
      await this.addIface(r, n);
    } catch (e) {
      await this.#o.data.releaseNetwork(n.vni, r.id).catch(() => {});
      throw e;
    }
    r.networks.push(n);
    this.#o.data.publish(n.networkId, r.id, { ip: plain(n.address), mac: n.mac, vtep: m.vtep });
  }

  /** After a connect or disconnect: a default route out exactly when reachesOut says so. */
  async syncRoute(r: EndpointRecord): Promise<void> {
    if (!r.gw) return;
    await this.#o.plumbing.setDefaultRoute({ endpointNetns: r.netns, ...(reachesOut(r.networks) ? { gateway: r.gw.gateway } : {}) });
  }

  /** The endpoint's interface in the overlay's sandbox (again, after a restart that lost it). */
  addIface(r: EndpointRecord, n: EndpointNet): Promise<void> {
    return this.#o.plumbing.addOverlayIface({
      sandboxNetns: sandboxNetns(this.#o.namePrefix, n.vni),
      endpointNetns: r.netns,
      sandboxLink: n.sandboxLink,
      ifname: n.ifname,
      address: n.address,
      mac: n.mac,
      mtu: n.mtu,
    });
  }

  /** The endpoint's interface on n, its peer record and its use of the sandbox, gone (the address stays with the managers). */
  async unplug(r: EndpointRecord, n: EndpointNet): Promise<void> {
    this.#o.discovery?.unpublish(n.networkId, r.id);
    this.#o.data.unpublish(n.networkId, r.id);
    await this.#o.plumbing.removeOverlayIface({ sandboxNetns: sandboxNetns(this.#o.namePrefix, n.vni), sandboxLink: n.sandboxLink });
    await this.#o.data.releaseNetwork(n.vni, r.id);
    r.networks = r.networks.filter((x) => x !== n);
  }

  async detachOne(r: EndpointRecord, n: EndpointNet): Promise<void> {
    await this.unplug(r, n);
    try {
      await this.#o.swarm().detach({ taskId: r.id, network: n.networkId });
    } catch (e) {
      // The address stays held by the managers until the endpoint is removed there; say so once.
      this.#o.log.warn('could not give the address back to the managers', { endpoint: r.id, network: n.networkId, error: (e as Error).message });
    }
  }

  /** Everything an endpoint holds, gone; each step tolerates what is already gone. */
  async teardown(r: EndpointRecord): Promise<void> {
    // A task's addresses are the orchestrator's to give back, once it hears the task ended.
    for (const n of [...r.networks]) await (r.task || r.ingress ? this.unplug(r, n) : this.detachOne(r, n));
    if (r.gw) await this.#o.plumbing.removeGwIface({ hostLink: r.gw.hostLink });
    if (r.ports?.length) await this.#o.ports?.release(r.id);
    if (r.external) await this.#o.plumbing.releaseNetns(r.netns);
    else {
      await this.#o.plumbing.deleteEndpoint(r.netns);
      this.#o.processes.forget?.(r.netns);
    }
  }

  /** Its name on the network, for DNS and the VIPs (only once it runs). */
  announce(r: EndpointRecord, n: EndpointNet): void {
    this.#o.discovery?.publish(n.networkId, r.id, { name: r.name, ip: plain(n.address), ...(r.task ? { service: r.task.serviceName } : {}), ...(n.vip !== undefined ? { vip: n.vip } : {}) });
  }
}

/**
 * Whether an endpoint on these networks may reach beyond the node (docker's
 * --internal): one on internal networks only keeps its gwbridge leg (the
 * resolver is there) but gets no default route, so nothing outside the
 * gwbridge's subnet and its overlays is reachable.
 */
export function reachesOut(networks: readonly { internal?: boolean }[]): boolean {
  return networks.length === 0 || networks.some((n) => n.internal !== true);
}

/** The address of a CIDR. */
export function plain(cidr: string): string {
  const i = cidr.indexOf('/');
  return i < 0 ? cidr : cidr.slice(0, i);
}

/** The lowest ethN the endpoint does not use yet. */
function nextIfname(r: EndpointRecord): string {
  const used = new Set(r.networks.map((n) => n.ifname));
  for (let i = 0; ; i++) if (!used.has(`eth${i}`)) return `eth${i}`;
}
