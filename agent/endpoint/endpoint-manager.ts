// Standalone endpoints on this node (issue 6, seed "Operations for standalone
// containers"): `agent run` starts CMD in a fresh netns with one interface per
// overlay and one on gwbridge; `network connect|disconnect` adds and removes
// overlays later, also on a namespace another runtime made (`--netns PATH`);
// `rm` tears it all down. Addresses come from the managers (an attachment
// task per endpoint), so they never collide across nodes. Either an
// operation completes or it undoes what it did. Here: the records, their
// file and the order of operations; endpoint-wiring.ts makes and undoes
// what each endpoint holds.
import { mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Clock } from '../../shared/clock.js';
import { ApiError, UsageError } from '../../shared/errors.js';
import type { Rand } from '../../shared/rand.js';
import type { AttachAnswer, NetworkContainer, RunPort } from '../api/types.js';
import { encodeBase36 } from '../cluster/ca/base36.js';
import type { SecretFileIo } from '../cluster/ca/secret-file.js';
import type { Logger } from '../daemon/log.js';
import { pipeHostLink, sandboxNetns, type DataPlane } from '../datapath/data-plane.js';
import type { Plumbing } from '../datapath/plumbing.js';
import type { ServiceRecord } from '../discovery/records.js';
import type { AssignedTask } from '../swarm/service-views.js';
import { findExecutable, type ProcessRunner } from './endpoint-process.js';
import { trimLog } from './task-logs.js';
import { loadEndpoints, saveEndpoints, type EndpointNet, type EndpointRecord } from './endpoint-state.js';
import { EndpointWiring, plain, reachesOut } from './endpoint-wiring.js';
import type { HostPort } from '../mesh/mesh-rules.js';
import { PortInUseError, type PortClaim } from '../mesh/port-holder.js';

export { GWBRIDGE, GWBRIDGE_GATEWAY, GWBRIDGE_SUBNET } from './endpoint-wiring.js';

/** docker's container name rule (daemon/names.go). */
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const ID_BYTES = 16;
/** How long rm -f waits for the process group to go after SIGKILL. */
const KILL_WAIT_MS = 5_000;

/** A task that could not be started here: the managers are told it was rejected, with this message. */
export class TaskStartError extends Error {
  override name = 'TaskStartError';
}

export interface SwarmSide {
  membership: { nodeId: string; vtep: string; dataPathPort: number } | undefined;
  attach(req: { taskId: string; name: string; network: string; ip?: string }): Promise<AttachAnswer>;
  detach(req: { taskId: string; network?: string }): Promise<void>;
}

export interface EndpointManagerOptions {
  stateDir: string;
  io: SecretFileIo;
  namePrefix: string;
  swarm: () => SwarmSide;
  data: DataPlane;
  plumbing: Plumbing;
  processes: ProcessRunner;
  /** The gwbridge to use: a bridge network the user made under GWBRIDGE's name, else the defaults. */
  gwbridge?(): { device: string; icc: boolean; masquerade: boolean } | undefined;
  /** MTU of the link holding the data path address (overlay MTU = that − 50 unless the network sets one). */
  underlayMtu(vtep: string): Promise<number>;
  /** Service records (issue 9): a running endpoint's name and address on each network, for DNS and the VIPs. */
  discovery?: { publish(nid: string, endpointId: string, r: ServiceRecord): void; unpublish(nid: string, endpointId: string): void };
  /** The resolv.conf of an endpoint whose gwbridge gateway is `gateway` (the agent's resolver listens there). */
  resolvConf?(gateway: string): string;
  /** After any change of the endpoints (records saved): the VIP rules and the routing mesh follow. */
  onChange?(): void;
  /** Published ports (issue 10): held on the node while their endpoint lives (port-holder.ts). */
  ports?: PortClaims;
  clock: Clock;
  rand: Rand;
  log: Logger;
}

/** The part of the PortHolder the endpoints use: owner = endpoint id. */
export interface PortClaims {
  claim(owner: string, claims: readonly PortClaim[]): Promise<void>;
  release(owner: string): Promise<void>;
}

/** docker's message when a task's host-mode port is taken on its node. */
export const HOST_PORT_IN_USE = 'host-mode port already in use on this node';

export interface RunRequest {
  Name?: string;
  Networks: string[];
  IP?: string;
  Cmd: string[];
  /** `-p` (issue 10), checked by the route: kept on the record for the port rules. */
  Ports?: RunPort[];
}

export class EndpointManager {
  readonly #o: EndpointManagerOptions;
  #records: EndpointRecord[] = [];
  #pipes: Record<string, number> = {};
  #busy: Promise<unknown> = Promise.resolve();
  readonly #wire: EndpointWiring;
  /** The routing mesh's sandbox (issue 10): on gwbridge and on the ingress network, no process. */
  #ingress: EndpointRecord | undefined;

  /** Forget the gwbridge's addresses (its network was removed or remade). */
  forgetGwbridge(): void {
    this.#wire.forgetGwbridge();
  }

  constructor(o: EndpointManagerOptions) {
    this.#o = o;
    this.#wire = new EndpointWiring(o, () => this.#all());
  }

  get records(): readonly EndpointRecord[] {
    return this.#records;
  }

  get pipes(): Record<string, number> {
    return this.#pipes;
  }

  /** Load the records; the data plane is rebuilt by restore() once the swarm membership is known. */
  load(): void {
    const f = loadEndpoints(this.#o.stateDir, this.#o.io);
    this.#records = f.endpoints;
    this.#ingress = f.ingress;
    this.#pipes = f.pipes;
    this.#o.data.adoptPipes(f.pipes);
  }

  /** After a restart: sandboxes and peers for every recorded endpoint again (their netns and processes lived on). */
  restore(): Promise<void> {
    return this.#serial(async () => {
      const m = this.#o.swarm().membership;
      const keep = new Set<number>();
      for (const r of this.#all()) {
        if (r.ports?.length) await this.#wire.claim(r).catch((e: unknown) => this.#o.log.warn('published port not held again', { endpoint: r.name, error: (e as Error).message }));
        for (const n of r.networks) {
          await this.#o.data.useNetwork({ nid: n.networkId, vni: n.vni, mtu: n.mtu, encrypted: n.encrypted === true }, r.id);
          if (!(await this.#o.plumbing.hasLink(sandboxNetns(this.#o.namePrefix, n.vni), n.sandboxLink))) await this.#wire.addIface(r, n);
          if (m) this.#o.data.publish(n.networkId, r.id, { ip: plain(n.address), mac: n.mac, vtep: m.vtep });
          if (m && !r.ingress && (r.external !== undefined || this.status(r).running)) this.#wire.announce(r, n);
          keep.add(n.vni);
        }
      }
      await this.#o.data.sweep(keep);
      await this.#sweepUnrecorded(keep);
      this.#save();
    });
  }

  /** What a crash between making plumbing and recording it left: ours by name, in no record. */
  async #sweepUnrecorded(keepVnis: ReadonlySet<number>): Promise<void> {
    const p = this.#o.namePrefix;
    const have = await this.#o.plumbing.list({ netnsPrefix: `${p}-`, linkPrefix: 'ag-' });
    const mine = this.#all();
    const known = new Set(mine.map((r) => r.netns));
    for (const ns of have.netns) {
      const rest = ns.slice(p.length + 1);
      if (known.has(ns)) continue;
      if (/^e[0-9a-z]{12}$/.test(rest)) {
        await this.#o.plumbing.deleteEndpoint(ns);
        this.#o.processes.forget?.(ns);
      }
      else if (/^x[0-9a-z]{12}$/.test(rest)) await this.#o.plumbing.releaseNetns(ns);
      else if (/^n\d+$/.test(rest) && !keepVnis.has(Number(rest.slice(1)))) await this.#o.plumbing.deleteSandbox({ netns: ns, hostLink: pipeHostLink(Number(rest.slice(1))) });
      else continue;
      this.#o.log.info('removed plumbing no record names', { netns: ns });
    }
    const gwLinks = new Set(mine.flatMap((r) => (r.gw ? [r.gw.hostLink] : [])));
    for (const l of have.links) {
      if (!/^ag-g[0-9a-z]{10}$/.test(l) || gwLinks.has(l)) continue;
      await this.#o.plumbing.removeGwIface({ hostLink: l });
      this.#o.log.info('removed plumbing no record names', { link: l });
    }
  }

  // ---- run, rm -----------------------------------------------------------------------------

  run(req: RunRequest): Promise<{ Id: string; Warnings: string[] }> {
    return this.#serial(async () => {
      if (req.Cmd.length === 0 || req.Cmd[0] === '') throw new UsageError('run: a command is required after --');
      const id = encodeBase36(this.#o.rand.bytes(ID_BYTES)).slice(0, 25);
      const name = this.#checkName(req.Name ?? id.slice(0, 12));
      if (req.IP !== undefined && req.Networks.length === 0) throw new UsageError('--ip: needs a --network to take the address on');
      const r: EndpointRecord = { id, name, netns: `${this.#o.namePrefix}-e${id.slice(0, 12)}`, command: [...req.Cmd], createdAtMs: Math.floor(this.#o.clock.wallMs()), networks: [] };
      if (req.Ports !== undefined && req.Ports.length > 0) r.ports = req.Ports.map((p) => ({ protocol: p.Protocol, target: p.TargetPort, published: p.PublishedPort }));
      await this.#wire.build(r, req.Networks, req.IP);
      try {
        const dir = join(this.#o.stateDir, 'endpoints');
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        r.pid = await this.#o.processes.start({ netns: r.netns, argv: req.Cmd, logPath: this.logPath(r.id), exitPath: this.#exitPath(r.id), ...this.#resolv(r) });
      } catch (e) {
        await this.#wire.teardown(r);
        throw new ApiError(`could not start ${req.Cmd[0]}: ${(e as Error).message}`, 500);
      }
      for (const n of r.networks) this.#wire.announce(r, n);
      this.#records.push(r);
      this.#save();
      this.#o.log.info('endpoint started', { id: r.id, name, pid: r.pid, networks: r.networks.map((n) => n.name).join(',') });
      return { Id: id, Warnings: [] };
    });
  }

  remove(ref: string, force: boolean): Promise<void> {
    return this.#serial(async () => {
      const r = this.find(ref);
      if (r.task) throw new ApiError(`container ${r.name} is a task of service ${r.task.serviceName}: the swarm runs it; use "agent service scale" or "agent service rm"`, 409);
      if (r.pid !== undefined && this.status(r).running) {
        if (!force) throw new ApiError(`You cannot remove a running container ${r.id}. Stop the container before attempting removal or force remove`, 409);
        await this.#kill(r);
      }
      await this.#wire.teardown(r);
      this.#records = this.#records.filter((x) => x !== r);
      this.#save();
      this.#o.log.info('endpoint removed', { id: r.id, name: r.name });
    });
  }

  /**
   * `swarm leave`: endpoints on overlays keep it from happening (their
   * addresses belong to the swarm), unless forced; then their overlay
   * interfaces go here (the managers reclaim the addresses when the node is
   * removed).
   */
  beforeLeave(force: boolean): Promise<void> {
    return this.#serial(async () => {
      const attached = this.#records.filter((r) => r.networks.length > 0 && !r.task);
      if (attached.length === 0) return;
      if (!force) {
        const names = attached.map((r) => r.name);
        throw new ApiError(`this node has endpoints on overlay networks (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}): remove or disconnect them first, or use --force`, 409);
      }
      for (const r of attached) {
        for (const n of [...r.networks]) await this.#wire.unplug(r, n);
        if (r.external) {
          await this.#o.plumbing.releaseNetns(r.netns);
          this.#records = this.#records.filter((x) => x !== r);
        }
      }
      this.#save();
    });
  }

  // ---- connect, disconnect -----------------------------------------------------------------

  /** `network connect NET NAME`, or `network connect NET --netns PATH` for a namespace of another runtime. */
  connect(network: string, target: { ref: string } | { netns: string; name?: string }, ip?: string): Promise<void> {
    return this.#serial(async () => {
      if ('ref' in target) {
        const r = this.find(target.ref);
        if (r.task) throw new ApiError(`container ${r.name} is a task of service ${r.task.serviceName}: change its networks with "agent service update --network-add"`, 409);
        await this.#wire.attachOne(r, network, ip);
        await this.#wire.syncRoute(r);
        this.#save();
        return;
      }
      const path = target.netns;
      const existing = this.#records.find((x) => x.external === path);
      if (existing) {
        await this.#wire.attachOne(existing, network, ip);
        this.#save();
        return;
      }
      const id = encodeBase36(this.#o.rand.bytes(ID_BYTES)).slice(0, 25);
      const name = this.#checkName(target.name ?? basename(path));
      const r: EndpointRecord = { id, name, netns: `${this.#o.namePrefix}-x${id.slice(0, 12)}`, external: path, command: [], createdAtMs: Math.floor(this.#o.clock.wallMs()), networks: [] };
      await this.#o.plumbing.adoptNetns(path, r.netns);
      try {
        await this.#wire.attachOne(r, network, ip);
      } catch (e) {
        await this.#o.plumbing.releaseNetns(r.netns);
        throw e;
      }
      this.#records.push(r);
      this.#save();
    });
  }

  disconnect(network: string, ref: string): Promise<void> {
    return this.#serial(async () => {
      const r = this.find(ref);
      if (r.task) throw new ApiError(`container ${r.name} is a task of service ${r.task.serviceName}: change its networks with "agent service update --network-rm"`, 409);
      const n = r.networks.find((x) => x.networkId === network || x.name === network || (network.length >= 4 && x.networkId.startsWith(network)));
      if (!n) throw new ApiError(`container ${r.name} is not connected to network ${network}`, 409);
      await this.#wire.detachOne(r, n);
      await this.#wire.syncRoute(r);
      if (r.external && r.networks.length === 0) {
        await this.#o.plumbing.releaseNetns(r.netns);
        this.#records = this.#records.filter((x) => x !== r);
      }
      this.#save();
    });
  }

  // ---- service tasks (issue 8) -------------------------------------------------------------

  /**
   * Start a task the managers placed here: its netns, eth-gw, one interface
   * per network with the address the managers gave it, then CMD with the
   * service's environment and the task's name as hostname. Throws a
   * TaskStartError (nothing left behind) when it cannot run.
   */
  startTask(t: AssignedTask): Promise<void> {
    return this.#serial(async () => {
      if (this.#records.some((r) => r.id === t.id)) return;
      const path = t.env.find((e) => e.startsWith('PATH='))?.slice(5);
      if (findExecutable(t.command[0] ?? '', path) === undefined) throw new TaskStartError(`starting task failed: exec: "${t.command[0] ?? ''}": executable file not found in $PATH`);
      const r: EndpointRecord = {
        id: t.id,
        name: t.name,
        netns: `${this.#o.namePrefix}-e${t.id.slice(0, 12)}`,
        command: [...t.command],
        createdAtMs: Math.floor(this.#o.clock.wallMs()),
        networks: [],
        task: { serviceId: t.serviceId, serviceName: t.serviceName, ...(t.slot !== undefined ? { slot: t.slot } : {}) },
        env: [...t.env],
        ...(t.hostPorts?.length ? { ports: t.hostPorts.map((p) => ({ protocol: p.protocol, target: p.target, published: p.published })) } : {}),
      };
      try {
        await this.#wire.claim(r);
      } catch (e) {
        throw new TaskStartError(e instanceof PortInUseError ? HOST_PORT_IN_USE : `starting task failed: ${(e as Error).message}`);
      }
      try {
        await this.#o.plumbing.createEndpoint(r.netns);
        await this.#wire.addGateway(r, reachesOut(t.networks.map((a) => ({ internal: a.Internal }))));
        for (const a of t.networks) await this.#wire.plumb(r, a);
        for (const n of r.networks) if (t.vips[n.networkId] !== undefined) n.vip = t.vips[n.networkId]!;
        mkdirSync(join(this.#o.stateDir, 'endpoints'), { recursive: true, mode: 0o700 });
        r.pid = await this.#o.processes.start({ netns: r.netns, argv: t.command, logPath: this.logPath(r.id), exitPath: this.#exitPath(r.id), env: t.env, hostname: t.name.slice(0, 63), ...this.#resolv(r) });
      } catch (e) {
        await this.#wire.teardown(r).catch(() => {});
        throw new TaskStartError(`starting task failed: ${(e as Error).message}`);
      }
      for (const n of r.networks) this.#wire.announce(r, n);
      this.#records.push(r);
      this.#save();
      this.#o.log.info('task started', { id: r.id, name: r.name, pid: r.pid });
    });
  }

  /**
   * A task that should not run (any more): its process stopped (SIGTERM,
   * then SIGKILL after graceMs, as docker stop) unless it ended already, and
   * everything it held torn down. Its log stays. Undefined if it is not here.
   */
  endTask(id: string, graceMs: number): Promise<{ exitCode: number | null; stopped: boolean } | undefined> {
    return this.#serial(async () => {
      const r = this.#records.find((x) => x.id === id && x.task);
      if (!r) return undefined;
      // Out of DNS and the VIPs before it is asked to stop: no new flow reaches a task that is going.
      for (const n of r.networks) this.#o.discovery?.unpublish(n.networkId, r.id);
      let stopped = false;
      if (r.pid !== undefined && this.status(r).running) {
        stopped = true;
        this.#o.processes.signal(r.pid, 'SIGTERM');
        await this.#waitEnded(r, graceMs);
        if (this.status(r).running) await this.#kill(r);
      }
      const exitCode = this.status(r).exitCode;
      await this.#wire.teardown(r);
      rmSync(this.#exitPath(r.id), { force: true });
      this.#records = this.#records.filter((x) => x !== r);
      this.#save();
      this.#o.log.info('task ended', { id: r.id, name: r.name, exitCode: exitCode ?? 'none', stopped });
      return { exitCode, stopped };
    });
  }

  trimLog(r: EndpointRecord): void {
    trimLog(this.logPath(r.id));
  }

  async #waitEnded(r: EndpointRecord, ms: number): Promise<void> {
    const deadline = this.#o.clock.nowMs() + ms;
    while (this.status(r).running && this.#o.clock.nowMs() < deadline) await new Promise<void>((res) => this.#o.clock.after(50, res));
  }

  // ---- the routing mesh (issue 10) ---------------------------------------------------------

  /** The ingress sandbox, once made. */
  get ingress(): EndpointRecord | undefined {
    return this.#ingress;
  }

  /** Every record this node keeps: the endpoints and tasks, and the ingress sandbox. */
  #all(): EndpointRecord[] {
    return this.#ingress ? [...this.#records, this.#ingress] : this.#records;
  }

  /**
   * The ingress sandbox as the assignment says: a netns on the gwbridge and
   * on the ingress network with this node's load-balancer address, routing
   * between the two; remade when the network or the address changes, gone
   * when there is none. It publishes no name (it is no service's).
   */
  setIngress(a: AttachAnswer | undefined): Promise<void> {
    return this.#serial(async () => {
      const cur = this.#ingress;
      const n = cur?.networks[0];
      if (a && n && n.networkId === a.NetworkID && n.address === a.Address && n.vni === a.VNI) return;
      if (!a && !cur) return;
      if (cur) {
        await this.#wire.teardown(cur);
        this.#ingress = undefined;
        this.#save();
        this.#o.log.info('ingress sandbox removed', { netns: cur.netns });
      }
      if (!a) return;
      const id = encodeBase36(this.#o.rand.bytes(ID_BYTES)).slice(0, 25);
      const r: EndpointRecord = { id, name: 'ingress-sbox', netns: `${this.#o.namePrefix}-e${id.slice(0, 12)}`, command: [], createdAtMs: Math.floor(this.#o.clock.wallMs()), networks: [], ingress: true };
      try {
        await this.#o.plumbing.createEndpoint(r.netns, { forwarding: true });
        await this.#wire.addGateway(r);
        await this.#wire.plumb(r, a);
      } catch (e) {
        await this.#wire.teardown(r).catch(() => {});
        throw e;
      }
      this.#ingress = r;
      this.#save();
      this.#o.log.info('ingress sandbox ready', { netns: r.netns, address: a.Address, network: a.Name });
    });
  }

  /** The ports published straight to a running local endpoint (host mode, `agent run -p`). */
  localPorts(): HostPort[] {
    const out: HostPort[] = [];
    for (const r of this.#records) {
      if (!r.gw || !r.ports?.length || !this.status(r).running) continue;
      for (const p of r.ports) out.push({ protocol: p.protocol, published: p.published, target: p.target, address: plain(r.gw.address) });
    }
    return out;
  }

  // ---- reads -------------------------------------------------------------------------------

  /** The overlays this node's endpoints are on (a worker's view of them), by name; and whether each is the mesh's. */
  attachedNetworks(): { net: EndpointNet; ingress: boolean }[] {
    const seen = new Map<string, { net: EndpointNet; ingress: boolean }>();
    for (const r of this.#all()) for (const n of r.networks) if (!seen.has(n.networkId)) seen.set(n.networkId, { net: n, ingress: r.ingress === true });
    return [...seen.values()].sort((a, b) => (a.net.name < b.net.name ? -1 : a.net.name > b.net.name ? 1 : 0));
  }

  /** One of attachedNetworks(), by id, name or unique id prefix. */
  attachedNetwork(ref: string): { net: EndpointNet; ingress: boolean } | undefined {
    const all = this.attachedNetworks();
    const exact = all.find((x) => x.net.networkId === ref || x.net.name === ref);
    if (exact) return exact;
    const byPrefix = ref === '' ? [] : all.filter((x) => x.net.networkId.startsWith(ref));
    return byPrefix.length === 1 ? byPrefix[0] : undefined;
  }

  /**
   * network inspect's Containers: this node's endpoints on overlay `networkId`,
   * or on the gwbridge with `gwbridge`; the ingress sandbox under docker's
   * names (`ingress-sbox`, `ingress-endpoint`).
   */
  containersOn(network: { id: string } | 'gwbridge'): Record<string, NetworkContainer> {
    const out: Record<string, NetworkContainer> = {};
    for (const r of this.#all()) {
      const key = r.ingress ? 'ingress-sbox' : r.id;
      const name = r.ingress ? 'ingress-endpoint' : r.name;
      if (network === 'gwbridge') {
        if (r.gw) out[key] = { Name: name, EndpointID: r.id, MacAddress: '', IPv4Address: r.gw.address, IPv6Address: '' };
        continue;
      }
      const n = r.networks.find((x) => x.networkId === network.id);
      if (n) out[key] = { Name: name, EndpointID: r.id, MacAddress: n.mac, IPv4Address: n.address, IPv6Address: '' };
    }
    return out;
  }

  find(ref: string): EndpointRecord {
    const exact = this.#records.find((r) => r.name === ref || r.id === ref);
    if (exact) return exact;
    const byPrefix = ref.length > 0 ? this.#records.filter((r) => r.id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw new ApiError(`multiple containers found with provided prefix: ${ref}`, 400);
    throw new ApiError(`No such container: ${ref}`, 404);
  }

  status(r: EndpointRecord): { running: boolean; exitCode: number | null } {
    if (r.pid === undefined) return { running: true, exitCode: null };
    return this.#o.processes.status(r.pid, this.#exitPath(r.id));
  }

  logPath(id: string): string {
    return join(this.#o.stateDir, 'endpoints', `${id}.log`);
  }

  #exitPath(id: string): string {
    return join(this.#o.stateDir, 'endpoints', `${id}.exit`);
  }

  // ---- building and tearing down -----------------------------------------------------------

  #resolv(r: EndpointRecord): { resolvConf?: string } {
    const text = r.gw && this.#o.resolvConf ? this.#o.resolvConf(r.gw.gateway) : undefined;
    return text === undefined ? {} : { resolvConf: text };
  }

  /** Which endpoint asks, by its address on the gwbridge (the resolver's view of a query's source). */
  byGatewayAddress(ip: string): EndpointRecord | undefined {
    return this.#records.find((r) => r.gw !== undefined && plain(r.gw.address) === ip);
  }

  async #kill(r: EndpointRecord): Promise<void> {
    if (r.pid === undefined) return;
    this.#o.processes.signal(r.pid, 'SIGKILL');
    const deadline = this.#o.clock.nowMs() + KILL_WAIT_MS;
    while (this.status(r).running && this.#o.clock.nowMs() < deadline) await new Promise<void>((res) => this.#o.clock.after(50, res));
  }

  #checkName(name: string): string {
    if (!NAME_RE.test(name)) throw new UsageError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const taken = this.#records.find((r) => r.name === name);
    if (taken) throw new ApiError(`Conflict. The container name "/${name}" is already in use by container "${taken.id}". You have to remove (or rename) that container to be able to reuse that name.`, 409);
    return name;
  }

  #save(): void {
    this.#pipes = { ...this.#o.data.pipeRecord() };
    saveEndpoints(this.#o.stateDir, { endpoints: this.#records, ...(this.#ingress ? { ingress: this.#ingress } : {}), pipes: this.#pipes }, this.#o.io);
    this.#o.onChange?.();
  }

  #serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(f, f);
    this.#busy = run.catch(() => {});
    return run;
  }
}

