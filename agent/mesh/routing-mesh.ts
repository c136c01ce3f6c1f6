// The routing mesh on one node (issue 10, docs/routing-mesh.md), the shell:
// holds every ingress port of the swarm on this node (port-holder.ts), and
// keeps two rule sets in step with the assignment and the service records
// (mesh-rules.ts): the host netns's (published ports to the ingress sandbox,
// host-mode and `agent run -p` ports to their local endpoint) and the ingress
// sandbox's (each published port, per flow, to a running task on any node).
// A change is coalesced for settleMs; ports another program holds are
// retried every retryMs and said in errors() meanwhile. It never throws.
import type { Clock, Timer } from '../../shared/clock.js';
import { oneLine } from '../../shared/errors.js';
import type { Logger } from '../daemon/log.js';
import type { DiscoveryView } from '../discovery/records.js';
import { HOST_NETNS, NftKeeper, type NftRunner } from '../host/nft-keeper.js';
import type { IngressAssignment } from '../swarm/service-views.js';
import { hostScript, sandboxScript, type HostPort, type IngressPort } from './mesh-rules.js';
import { PortInUseError, type PortHolder } from './port-holder.js';

/** This node's ingress sandbox, once made. */
export interface MeshSandbox {
  netns: string;
  /** Its interface on the ingress network. */
  ingressIf: string;
  /** Its address on the gwbridge (plain IPv4): where the host sends published ports. */
  gwAddress: string;
  /** The ingress network's id: whose service records are the backends. */
  networkId: string;
}

/** A port published straight to a local endpoint (host mode, `agent run -p`), already held by its owner. */
export type LocalPort = HostPort;

/** An ingress port this node cannot serve, for the service's `service ps`. */
export interface MeshPortError {
  serviceId: string;
  serviceName: string;
  /** `8080/tcp`. */
  port: string;
  error: string;
}

export interface RoutingMeshOptions {
  view: DiscoveryView;
  sandbox(): MeshSandbox | undefined;
  services(): IngressAssignment['services'];
  local(): readonly LocalPort[];
  holder: PortHolder;
  run: NftRunner;
  clock: Clock;
  log: Logger;
  /** How long changed() coalesces changes; default 20 ms. */
  settleMs?: number;
  /** How often ports held by another program are tried again; default 10 s. */
  retryMs?: number;
}

const DEFAULT_SETTLE_MS = 20;
const DEFAULT_RETRY_MS = 10_000;
const INGRESS_OWNER = 'ingress:';

export class RoutingMesh {
  readonly #o: RoutingMeshOptions;
  readonly #keeper: NftKeeper;
  #settle: Timer | undefined;
  #retry: Timer | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;
  #errors: MeshPortError[] = [];
  #sandboxNetns: string | undefined;

  constructor(o: RoutingMeshOptions) {
    this.#o = o;
    this.#keeper = new NftKeeper({ run: o.run, clock: o.clock, log: o.log, what: 'mesh rules' });
  }

  /** The ingress ports this node holds no rule for, because it could not have them. */
  get errors(): readonly MeshPortError[] {
    return this.#errors;
  }

  /** Assignment, records or local endpoints changed: recompute within settleMs. */
  changed(): void {
    if (this.#closed || this.#settle !== undefined) return;
    this.#settle = this.#o.clock.after(this.#o.settleMs ?? DEFAULT_SETTLE_MS, () => {
      this.#settle = undefined;
      this.#start();
    });
  }

  /** Stop: no more applies; the ingress ports are let go (the rules stay, as tasks keep running). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#settle?.cancel();
    this.#retry?.cancel();
    this.#keeper.close();
    await this.#running;
    for (const owner of this.#o.holder.owners) if (owner.startsWith(INGRESS_OWNER)) await this.#o.holder.release(owner);
  }

  /** One recompute at a time; a change during one runs another after it. */
  #start(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#recompute()
      .catch((e: unknown) => this.#o.log.warn('mesh rules not computed', { error: oneLine(e) }))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.#start();
        }
      });
  }

  async #recompute(): Promise<void> {
    const sb = this.#o.sandbox();
    const services = this.#o.services();
    const errors: MeshPortError[] = [];
    const served: { protocol: 'tcp' | 'udp'; published: number }[] = [];
    const ports: IngressPort[] = [];
    // One owner per service, port and relay kind: a port switching to or from a PROXY header is held anew.
    const ownerOf = (id: string, p: { protocol: string; published: number; proxyProtocol?: 'v2' }) => `${INGRESS_OWNER}${id}:${p.published}/${p.protocol}${p.proxyProtocol === 'v2' ? ':v2' : ''}`;
    const owners = new Set(services.flatMap((s) => s.ports.map((p) => ownerOf(s.id, p))));
    // Claims no longer wanted go first: a port that moved to another owner is free for it in this pass.
    for (const owner of this.#o.holder.owners) if (owner.startsWith(INGRESS_OWNER) && !owners.has(owner)) await this.#o.holder.release(owner);
    for (const s of services) {
      const backends = sb ? this.#o.view.records(sb.networkId).filter((r) => r.service === s.name).map((r) => r.ip) : [];
      for (const p of s.ports) {
        const key = `${p.published}/${p.protocol}`;
        const owner = ownerOf(s.id, p);
        // The sandbox as it is when a connection comes (it may be made or remade after the port was claimed).
        const target = () => {
          const now = this.#o.sandbox();
          return now ? { host: now.gwAddress, port: p.published } : undefined;
        };
        const relay = p.protocol === 'tcp' ? { target, proxyHeader: p.proxyProtocol === 'v2' } : undefined;
        try {
          await this.#o.holder.claim(owner, [{ protocol: p.protocol, published: p.published, ...(relay ? { relay } : {}) }]);
        } catch (e) {
          if (this.#closed) return;
          const error = e instanceof PortInUseError && e.heldBy === undefined ? `port ${key} is in use on this node by another program: not published here` : oneLine(e);
          errors.push({ serviceId: s.id, serviceName: s.name, port: key, error });
          continue;
        }
        ports.push({ protocol: p.protocol, published: p.published, target: p.target, backends });
        // A port with a PROXY header is served by the holder's relay, not by NAT.
        if (p.proxyProtocol !== 'v2') served.push({ protocol: p.protocol, published: p.published });
      }
    }
    if (this.#closed) return;
    this.#report(errors);
    const host = hostScript({ sandboxAddress: sb?.gwAddress ?? '0.0.0.0', ingress: sb ? served : [], host: this.#o.local() });
    this.#keeper.want(HOST_NETNS, host, () => host);
    if (this.#sandboxNetns !== undefined && this.#sandboxNetns !== sb?.netns) this.#keeper.forget(this.#sandboxNetns);
    this.#sandboxNetns = sb?.netns;
    if (sb) {
      const inner = sandboxScript({ ingressIf: sb.ingressIf, ports });
      this.#keeper.want(sb.netns, inner, () => inner);
    }
  }

  #report(errors: MeshPortError[]): void {
    const said = new Set(this.#errors.map((e) => `${e.serviceId} ${e.port}`));
    for (const e of errors) if (!said.has(`${e.serviceId} ${e.port}`)) this.#o.log.warn('published port not served on this node', { service: e.serviceName, port: e.port, error: e.error });
    this.#errors = errors;
    this.#retry?.cancel();
    this.#retry = errors.length > 0 ? this.#o.clock.after(this.#o.retryMs ?? DEFAULT_RETRY_MS, () => ((this.#retry = undefined), this.changed())) : undefined;
  }
}

/** The sandbox as the mesh sees it, from its endpoint record (undefined until it has both interfaces). */
export function meshSandbox(r: { netns: string; gw?: { address: string }; networks: readonly { ifname: string; networkId: string }[] } | undefined): MeshSandbox | undefined {
  const n = r?.networks[0];
  if (!r?.gw || !n) return undefined;
  return { netns: r.netns, ingressIf: n.ifname, gwAddress: r.gw.address.split('/')[0]!, networkId: n.networkId };
}
