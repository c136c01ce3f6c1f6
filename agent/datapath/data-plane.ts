// The node's data plane shell (DESIGN §3, docs/data-plane.md): the underlay
// socket on the data path port, one sandbox per overlay network that has
// local endpoints (its kernel VXLAN pipe and the pipe's socket), and the
// peer tables, fed from NetworkDB's `peers` table. Every frame goes through
// the pure Forwarder; this file only moves bytes between sockets and it.
import type { Addr, DatagramSocket, DatagramTransport } from '../../shared/transport/types.js';
import type { Logger } from '../daemon/log.js';
import type { GossipNode } from '../gossip/gossip-node.js';
import { decodePeerRecord, encodePeerRecord, TABLE_PEERS, TableRecordError, type PeerRecord } from '../gossip/networkdb/table-records.js';
import type { TableEvent } from '../gossip/networkdb/types.js';
import { Forwarder, type ForwarderOutput } from './forwarder.js';
import type { SecurePlane } from './secure/secure-plane.js';
import { readVni, VXLAN_FLAG_I } from './vxlan-frame.js';

/** First bytes of the secure plane's messages (DESIGN §4): 1-4, never with VXLAN's I flag (0x08) set. */
const SECURE_TYPE_MIN = 1;
const SECURE_TYPE_MAX = 4;
import { PIPE_PORT, pipeAddrs, type Plumbing } from './plumbing.js';

/** VXLAN over IPv4: outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14), RFC 7348 §5. */
export const VXLAN_OVERHEAD_BYTES = 50;
const VXLAN_HEADER_BYTES = 8;
const ETHERNET_HEADER_BYTES = 14;
/** Pipe indexes: /30 blocks of 169.254.64.0/18 (plumbing.ts). */
const PIPE_INDEXES = 4096;

export interface NetworkSpec {
  /** Network id (NetworkDB's network key). */
  nid: string;
  vni: number;
  mtu: number;
  /** Frames cross nodes only sealed by the secure plane (issue 7). */
  encrypted?: boolean;
}

export interface DataPlaneOptions {
  udp: DatagramTransport;
  plumbing: Plumbing;
  /** Prefix of every netns this node makes (`<prefix>-n<vni>` for sandboxes). */
  namePrefix: string;
  log: Logger;
}

interface Sandbox {
  spec: NetworkSpec;
  index: number;
  socket: DatagramSocket;
  to: Addr;
  users: Set<string>;
}

export function sandboxNetns(namePrefix: string, vni: number): string {
  return `${namePrefix}-n${vni}`;
}

export function pipeHostLink(vni: number): string {
  return `ag-p${vni}`;
}

export class DataPlane {
  readonly #o: DataPlaneOptions;
  readonly forwarder: Forwarder;
  #underlay: DatagramSocket | undefined;
  #port = 0;
  readonly #peerAddr = new Map<string, Addr>();
  readonly #sandboxes = new Map<number, Sandbox>();
  readonly #byNid = new Map<string, number>();
  /** Serialises sandbox creation and removal. */
  #busy: Promise<unknown> = Promise.resolve();
  #gossip: GossipNode | undefined;
  #unwatch: (() => void) | undefined;
  /** Our own records, re-published when gossip restarts: nid -> endpoint id -> record. */
  readonly #published = new Map<string, Map<string, PeerRecord>>();
  /** Keys learned from NetworkDB per VNI (ours included), cleared when the gossip instance changes. */
  readonly #remote = new Map<number, Set<string>>();
  /** Sandbox pipe index per VNI (persisted by the endpoint manager with its records). */
  readonly #pipes = new Map<number, number>();
  /** VNIs whose frames cross nodes sealed. */
  readonly #sealed = new Set<number>();
  #secure: SecurePlane | undefined;
  badRecords = 0;
  /** Frames of encrypted networks that could not be sealed: no secure plane yet (not in a swarm). */
  unsealable = 0;

  constructor(o: DataPlaneOptions) {
    this.#o = o;
    const out: ForwarderOutput = {
      toWire: (vtep, buf, len) => {
        if (this.#sealed.size > 0) {
          const vni = readVni(buf);
          if (this.#sealed.has(vni)) {
            if (this.#secure) this.#secure.send(vni, vtep, buf, len);
            else this.unsealable++;
            return;
          }
        }
        this.#sendTo(vtep, buf, len);
      },
      toPipe: (vni, buf, len) => {
        const s = this.#sandboxes.get(vni);
        if (s) s.socket.send(len === buf.length ? buf : buf.subarray(0, len), s.to);
      },
    };
    this.forwarder = new Forwarder(out, { localVtep: '0.0.0.0' });
  }

  #sendTo(vtep: string, buf: Uint8Array, len: number): void {
    const u = this.#underlay;
    if (!u) return;
    let to = this.#peerAddr.get(vtep);
    if (to === undefined) this.#peerAddr.set(vtep, (to = { host: vtep, port: this.#port }));
    u.send(len === buf.length ? buf : buf.subarray(0, len), to);
  }

  /** The output the secure plane needs: sealed datagrams onto the underlay, opened ones into the forwarder. */
  secureOutput(): { send(vtep: string, buf: Uint8Array, len: number): void; deliver(vni: number, srcVtep: string, buf: Uint8Array, off: number, len: number): void } {
    return {
      send: (vtep, buf, len) => this.#sendTo(vtep, buf, len),
      deliver: (_vni, srcVtep, buf, off, len) => this.forwarder.fromWire(srcVtep, off === 0 ? buf : buf.subarray(off, off + len), len, true),
    };
  }

  /** The secure plane of this node's membership (its static key); undefined outside a swarm. */
  setSecure(sp: SecurePlane | undefined): void {
    if (sp === this.#secure) return;
    this.#secure?.close();
    this.#secure = sp;
  }

  /** Networks with a local sandbox whose frames cross nodes sealed. */
  sealedNetworks(): { nid: string; vni: number }[] {
    return [...this.#sandboxes.values()].filter((s) => s.spec.encrypted).map((s) => ({ nid: s.spec.nid, vni: s.spec.vni }));
  }

  get secure(): SecurePlane | undefined {
    return this.#secure;
  }

  get running(): boolean {
    return this.#underlay !== undefined;
  }

  /** Bind the underlay socket at vtep:port (the node's --datapath-addr and the swarm's --data-path-port). */
  async start(vtep: string, port: number): Promise<void> {
    if (this.#underlay) {
      if (this.#underlay.local.host === vtep && this.#port === port) return;
      await this.stopUnderlay();
    }
    const s = await this.#o.udp.bind({ host: vtep, port });
    this.#port = port;
    this.#peerAddr.clear();
    this.forwarder.setLocalVtep(vtep);
    s.onMessage((data, from) => {
      const b = data[0]!;
      if ((b & VXLAN_FLAG_I) === 0 && b >= SECURE_TYPE_MIN && b <= SECURE_TYPE_MAX) {
        if (this.#secure) this.#secure.receive(from.host, data, data.length);
        else this.unsealable++;
      } else this.forwarder.fromWire(from.host, data, data.length);
    });
    this.#underlay = s;
    this.#o.log.info('data path listening', { addr: `${vtep}:${port}` });
  }

  async stopUnderlay(): Promise<void> {
    const s = this.#underlay;
    this.#underlay = undefined;
    await s?.close();
  }

  /** The vni of a network with a local sandbox. */
  vniOf(nid: string): number | undefined {
    return this.#byNid.get(nid);
  }

  /** Make (or adopt) the network's sandbox for `user` (an endpoint id). */
  useNetwork(spec: NetworkSpec, user: string): Promise<void> {
    return this.#serial(async () => {
      const have = this.#sandboxes.get(spec.vni);
      if (have) {
        have.users.add(user);
        return;
      }
      const index = this.#pipes.get(spec.vni) ?? this.#freeIndex();
      const addrs = pipeAddrs(index);
      const netns = sandboxNetns(this.#o.namePrefix, spec.vni);
      const sb = { netns, vni: spec.vni, mtu: spec.mtu, pipeIndex: index, hostLink: pipeHostLink(spec.vni) };
      if (!(await this.#o.plumbing.sandboxReady(sb))) await this.#o.plumbing.createSandbox(sb);
      const socket = await this.#o.udp.bind({ host: addrs.host, port: PIPE_PORT });
      const vni = spec.vni;
      socket.onMessage((data) => this.forwarder.fromPipe(vni, data, data.length));
      this.#sandboxes.set(vni, { spec, index, socket, to: { host: addrs.sandbox, port: PIPE_PORT }, users: new Set([user]) });
      this.#byNid.set(spec.nid, vni);
      this.forwarder.addNetwork(vni, { maxDatagramBytes: VXLAN_HEADER_BYTES + ETHERNET_HEADER_BYTES + spec.mtu, encrypted: spec.encrypted === true });
      if (spec.encrypted) this.#sealed.add(vni);
      this.#setPipe(vni, index);
      this.#loadPeers(spec.nid);
      this.#o.log.info('sandbox ready', { network: spec.nid, vni, netns, pipe: addrs.host });
    });
  }

  /** `user` no longer needs the network here; the last one takes the sandbox down. */
  releaseNetwork(vni: number, user: string): Promise<void> {
    return this.#serial(async () => {
      const s = this.#sandboxes.get(vni);
      if (!s) return;
      s.users.delete(user);
      if (s.users.size > 0) return;
      await this.#drop(s);
    });
  }

  async #drop(s: Sandbox): Promise<void> {
    const vni = s.spec.vni;
    this.#sandboxes.delete(vni);
    this.#byNid.delete(s.spec.nid);
    this.forwarder.removeNetwork(vni);
    this.#sealed.delete(vni);
    this.#secure?.removeNetwork(vni);
    await s.socket.close();
    await this.#o.plumbing.deleteSandbox({ netns: sandboxNetns(this.#o.namePrefix, vni), vni, mtu: s.spec.mtu, pipeIndex: s.index, hostLink: pipeHostLink(vni) });
    this.#pipes.delete(vni);
    this.#o.log.info('sandbox removed', { network: s.spec.nid, vni });
  }

  /** Remove sandboxes nothing uses any more, and any of ours left behind by an earlier run. */
  async sweep(keepVnis: ReadonlySet<number>): Promise<void> {
    await this.#serial(async () => {
      for (const s of [...this.#sandboxes.values()]) if (!keepVnis.has(s.spec.vni)) await this.#drop(s);
      for (const [vni, index] of [...this.#pipes]) {
        if (this.#sandboxes.has(vni) || keepVnis.has(vni)) continue;
        await this.#o.plumbing.deleteSandbox({ netns: sandboxNetns(this.#o.namePrefix, vni), vni, mtu: 0, pipeIndex: index, hostLink: pipeHostLink(vni) });
        this.#pipes.delete(vni);
      }
    });
  }

  // ---- NetworkDB ------------------------------------------------------------------------

  /** Follow the gossip plane (it starts with the first assignment and restarts with the node). */
  bindGossip(g: GossipNode | undefined): void {
    if (g === this.#gossip) return;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#gossip = g;
    // What the old instance taught us may have been deleted since: start from the new one's view.
    for (const [vni, keys] of this.#remote) for (const k of keys) this.forwarder.removePeer(vni, k);
    this.#remote.clear();
    if (g) {
      this.#unwatch = g.watch((e) => this.#onTable(e));
      // A new gossip instance knows nothing of ours: attach and publish again.
      for (const [nid, recs] of this.#published) {
        for (const [ep, r] of recs) {
          g.attach(nid, ep);
          g.put(nid, TABLE_PEERS, ep, encodePeerRecord(r));
        }
      }
    }
    for (const nid of this.#byNid.keys()) this.#loadPeers(nid);
  }

  /** Announce a local endpoint on a network (and keep it announced across gossip restarts). */
  publish(nid: string, endpointId: string, r: PeerRecord): void {
    let m = this.#published.get(nid);
    if (!m) this.#published.set(nid, (m = new Map()));
    m.set(endpointId, r);
    const vni = this.#byNid.get(nid);
    if (vni !== undefined) this.forwarder.setPeer(vni, endpointId, r);
    const g = this.#gossip;
    if (g) {
      g.attach(nid, endpointId);
      g.put(nid, TABLE_PEERS, endpointId, encodePeerRecord(r));
    }
  }

  unpublish(nid: string, endpointId: string): void {
    const m = this.#published.get(nid);
    m?.delete(endpointId);
    if (m && m.size === 0) this.#published.delete(nid);
    const vni = this.#byNid.get(nid);
    if (vni !== undefined) this.forwarder.removePeer(vni, endpointId);
    const g = this.#gossip;
    if (g) {
      g.remove(nid, TABLE_PEERS, endpointId);
      g.detach(nid, endpointId);
    }
  }

  #loadPeers(nid: string): void {
    const g = this.#gossip;
    const vni = this.#byNid.get(nid);
    if (vni === undefined) return;
    for (const [ep, r] of this.#published.get(nid) ?? []) this.forwarder.setPeer(vni, ep, r);
    if (!g) return;
    for (const e of g.entries(nid, TABLE_PEERS)) this.#setPeer(vni, e.key, e.value);
  }

  #onTable(e: TableEvent): void {
    if (e.table !== TABLE_PEERS) return;
    const vni = this.#byNid.get(e.nid);
    if (vni === undefined) return;
    if (e.type === 'delete') {
      if (!this.#published.get(e.nid)?.has(e.key)) {
        this.forwarder.removePeer(vni, e.key);
        this.#remote.get(vni)?.delete(e.key);
      }
      return;
    }
    this.#setPeer(vni, e.key, e.value);
  }

  #setPeer(vni: number, key: string, value: Uint8Array): void {
    let r: PeerRecord;
    try {
      r = decodePeerRecord(value);
      this.forwarder.setPeer(vni, key, r);
      let keys = this.#remote.get(vni);
      if (!keys) this.#remote.set(vni, (keys = new Set()));
      keys.add(key);
    } catch (e) {
      if (!(e instanceof TableRecordError) && !(e instanceof RangeError)) throw e;
      this.badRecords++;
    }
  }

  // ---- plumbing --------------------------------------------------------------------------

  #freeIndex(): number {
    const used = new Set(this.#pipes.values());
    for (let i = 0; i < PIPE_INDEXES; i++) if (!used.has(i)) return i;
    throw new Error(`no free sandbox pipe address: ${PIPE_INDEXES} overlay networks already have a sandbox on this node`);
  }

  #setPipe(vni: number, index: number): void {
    this.#pipes.set(vni, index);
  }

  /** The sandboxes an earlier run left, by VNI: adopted by useNetwork, removed by sweep. */
  adoptPipes(pipes: Record<string, number>): void {
    for (const [vni, i] of Object.entries(pipes)) this.#pipes.set(Number(vni), i);
  }

  pipeRecord(): Record<string, number> {
    return Object.fromEntries([...this.#pipes].map(([vni, i]) => [String(vni), i]));
  }

  #serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(f, f);
    this.#busy = run.catch(() => {});
    return run;
  }

  /** Close every socket; sandboxes stay (endpoints keep running across a restart). */
  async close(): Promise<void> {
    this.setSecure(undefined);
    this.#unwatch?.();
    this.#unwatch = undefined;
    await this.#serial(async () => {
      for (const s of this.#sandboxes.values()) await s.socket.close();
      this.#sandboxes.clear();
      this.#byNid.clear();
    });
    await this.stopUnderlay();
  }
}
