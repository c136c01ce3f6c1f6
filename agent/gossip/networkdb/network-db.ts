// NetworkDB: per-network tables of data-plane facts (peers, service records)
// spread by gossip among the nodes that have endpoints on the network
// (issue 5, DESIGN §2). A pure state machine (STYLE habit 1): no sockets,
// timers, clock or crypto randomness; time is the `nowMs` of each call and
// every random choice comes from the injected Rand. Modelled on
// moby/libnetwork networkdb; differences are marked "libnetwork:".
//
// Host contract (the daemon's thin shell; the simulator plays it in tests):
//
//   Membership, from the SWIM layer (agent/gossip/swim/):
//     nodeAlive(id)   every member SWIM reports alive, at start and on every
//                     change (a refuted suspicion or death included);
//     nodeDead(id)    SWIM declared it dead: its entries stay for
//                     deadNodeGraceMs (alive again in time: nothing changes);
//     nodeLeft(id)    it left the cluster on purpose: its entries go now;
//     announce()      this node rejoined the cluster after a restart or after
//                     being declared dead: re-asserts its attachments.
//   Local writes, from the overlay driver and the service layer:
//     attachEndpoint / detachEndpoint (the first endpoint on a network joins
//     its group, the last one leaves it), createEntry, updateEntry,
//     deleteEntry. Bad arguments throw RangeError; conditions to branch on
//     throw NetworkDbError (errors.ts).
//   Input from the network: receive(from, bytes) for every NetworkDB message
//     (wire.ts), whichever way it came: a SWIM `user` payload (table gossip
//     datagrams and piggybacked network events), a frame of a 7946/tcp
//     stream (bulk sync), or the user state of a SWIM push-pull (network
//     state). `from` is the authenticated sender's node id. Malformed or
//     unwanted input is dropped and counted in stats(); receive never throws.
//   Push-pull: localState() is the user state this node puts in each SWIM
//     push-pull (the join exchange included); the peer's goes to receive().
//   Time: call tick(now) whenever now >= nextDueMs() (Infinity: nothing due).
//     Every other call may make work due sooner, so re-read nextDueMs()
//     after each call.
//   Output: after each call, takeOutput() hands over, in order:
//     sends       {to, reliable, msg, bytes}: reliable = bulk sync, over a
//                 7946/tcp stream (framed, any size); otherwise one datagram
//                 of at most packetBudgetBytes, best effort. Drop what cannot
//                 be sent; nothing waits for an answer.
//     broadcasts  {key, msg, bytes}: network join/leave events for every node
//                 of the cluster; queue them for SWIM piggybacking, a newer
//                 one replacing a queued one with the same key.
//     events      create/update/delete of the local view, for watchers (the
//                 driver's ARP/FDB, DNS, load balancer); local writes too.
//   Reads: get, entries, networks, members, isMember, nodeState, stats.
//
// Guarantees: see docs/gossip-networkdb.md.
import type { Rand } from '../../../shared/rand.js';
import { validateNetworkDbConfig, type NetworkDbConfig } from './config.js';
import { NetworkDbError } from './errors.js';
import { TransmitQueue } from './transmit-queue.js';
import { compareVersions, LamportClock } from './version-order.js';
import type { Broadcast, EntryView, NetworkDbOptions, NetworkDbOutput, NetworkDbStats, NodeState, Send, TableEvent } from './types.js';
import {
  decodeMessage, encodeMessage, entryBytes, gossipHeaderBytes, MAX_KEY_BYTES, MAX_NETWORK_ID_BYTES, MAX_NODE_ID_BYTES,
  MAX_REAP_LEFT_MS, MAX_TABLE_BYTES, MAX_VALUE_BYTES, ownerBytes, utf8Length,
  type Batch, type BulkSync, type NetworkEvent, type OwnerRecord, type TableGossip, type WireEntry,
} from './wire.js';

export type { Broadcast, EntryView, NetworkDbOptions, NetworkDbOutput, NetworkDbStats, NodeState, Send, TableEvent } from './types.js';

interface Entry {
  table: string;
  key: string;
  owner: string;
  ltime: number;
  tombstone: boolean;
  value: Uint8Array;
  /** When a tombstone goes; Infinity for a live entry. */
  reapAtMs: number;
}

interface Attachment {
  ltime: number;
  leaving: boolean;
  reapAtMs: number;
}

interface LocalNetwork {
  nid: string;
  endpoints: Set<string>;
  tables: Map<string, Map<string, Entry>>;
  tombstones: Set<Entry>;
  queue: TransmitQueue<Entry>;
  /** A bulk sync has answered since the join: entries learned by sync are news worth gossiping. */
  inSync: boolean;
  /** Joined knowing no other member: sync with the first one heard of. */
  syncPending: boolean;
}

interface NodeInfo {
  state: NodeState;
  sinceMs: number;
  /** Its attachments and entries are gone (left, or dead past the grace period). */
  purged: boolean;
}

const EMPTY = new Uint8Array(0);
const queueId = (e: { table: string; key: string }) => `${e.table}\u0000${e.key}`;

function checkStr(fn: string, what: string, s: unknown, max: number): void {
  if (typeof s !== 'string') throw new RangeError(`${fn}: ${what} must be a string, got ${typeof s}`);
  const n = utf8Length(s);
  if (n < 1 || n > max) throw new RangeError(`${fn}: ${what} must be 1..${max} bytes of UTF-8, got ${n}`);
}

function checkNow(fn: string, nowMs: number): void {
  if (!Number.isFinite(nowMs)) throw new RangeError(`${fn}: nowMs must be a finite number, got ${nowMs}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class NetworkDb {
  readonly nodeId: string;
  readonly #cfg: NetworkDbConfig;
  readonly #rand: Rand;
  /** libnetwork's two clocks: network attachments, and table entries. */
  readonly #networkClock = new LamportClock();
  readonly #tableClock = new LamportClock();
  /** Every node's attachment to every network we have heard of, this node's included. */
  readonly #attachments = new Map<string, Map<string, Attachment>>();
  readonly #memberCache = new Map<string, string[]>();
  readonly #local = new Map<string, LocalNetwork>();
  readonly #nodes = new Map<string, NodeInfo>();
  #sends: Send[] = [];
  #broadcasts: Broadcast[] = [];
  #events: TableEvent[] = [];
  readonly #gossipPhaseMs: number;
  #nextGossipMs: number;
  #nextBulkSyncMs: number;
  #nextReapMs: number;
  readonly #stats: NetworkDbStats = {
    received: 0, malformed: 0, notMember: 0, ownerNotMember: 0, fromGoneNode: 0, stale: 0, refuted: 0,
    syncRefused: 0, rebroadcastSkipped: 0, gossipPackets: 0, bulkSyncs: 0,
  };

  constructor(opts: NetworkDbOptions) {
    checkStr('NetworkDb', 'nodeId', opts.nodeId, MAX_NODE_ID_BYTES);
    checkNow('NetworkDb', opts.nowMs);
    validateNetworkDbConfig(opts.config);
    this.nodeId = opts.nodeId;
    this.#cfg = { ...opts.config };
    this.#rand = opts.rand;
    // Staggered like libnetwork's triggerFunc, so nodes do not gossip in step.
    this.#gossipPhaseMs = opts.nowMs + this.#rand.int(this.#cfg.gossipIntervalMs);
    this.#nextGossipMs = this.#gossipPhaseMs;
    this.#nextBulkSyncMs = opts.nowMs + this.#rand.int(this.#cfg.bulkSyncIntervalMs);
    this.#nextReapMs = opts.nowMs + this.#cfg.reapPeriodMs;
  }

  // ---- membership input (SWIM) -------------------------------------------

  nodeAlive(id: string, nowMs: number): void {
    checkStr('nodeAlive', 'id', id, MAX_NODE_ID_BYTES);
    checkNow('nodeAlive', nowMs);
    if (id === this.nodeId) return;
    // Back within the grace period: its attachments and entries never left.
    this.#nodes.set(id, { state: 'alive', sinceMs: nowMs, purged: false });
  }

  nodeDead(id: string, nowMs: number): void {
    checkStr('nodeDead', 'id', id, MAX_NODE_ID_BYTES);
    checkNow('nodeDead', nowMs);
    if (id === this.nodeId) return;
    const info = this.#nodes.get(id);
    if (info && info.state !== 'alive') return;
    // libnetwork: entries go at once, so every flap churns DNS and the FDB.
    this.#nodes.set(id, { state: 'dead', sinceMs: nowMs, purged: false });
  }

  nodeLeft(id: string, nowMs: number): void {
    checkStr('nodeLeft', 'id', id, MAX_NODE_ID_BYTES);
    checkNow('nodeLeft', nowMs);
    if (id === this.nodeId) return;
    const info = this.#nodes.get(id);
    if (info?.state === 'left') return;
    this.#nodes.set(id, { state: 'left', sinceMs: nowMs, purged: true });
    if (!info?.purged) this.#purge(id);
  }

  /** Re-announces every attachment of this node with a fresh time and bulk-syncs each network. */
  announce(nowMs: number): void {
    checkNow('announce', nowMs);
    for (const net of this.#local.values()) {
      this.#setOwnAttachment(net.nid, false, nowMs);
      this.#syncWith(net, this.#pick(net.nid, this.#cfg.joinSyncPeers), false, nowMs);
    }
  }

  // ---- local writes ---------------------------------------------------------

  /** Adds a local endpoint; the first on a network joins its group. Returns true when it did. */
  attachEndpoint(nid: string, endpointId: string, nowMs: number): boolean {
    checkStr('attachEndpoint', 'nid', nid, MAX_NETWORK_ID_BYTES);
    checkStr('attachEndpoint', 'endpointId', endpointId, 255);
    checkNow('attachEndpoint', nowMs);
    const had = this.#local.get(nid);
    if (had) {
      had.endpoints.add(endpointId);
      return false;
    }
    const net: LocalNetwork = {
      nid, endpoints: new Set([endpointId]), tables: new Map(), tombstones: new Set(), queue: new TransmitQueue(), inSync: false, syncPending: false,
    };
    this.#local.set(nid, net);
    this.#setOwnAttachment(nid, false, nowMs);
    const peers = this.#pick(nid, this.#cfg.joinSyncPeers);
    // Knowing no member: the first one, or a node whose SWIM join push-pull
    // has not been merged yet. Sync with whoever turns up first.
    if (peers.length === 0) [net.inSync, net.syncPending] = [true, true];
    this.#syncWith(net, peers, false, nowMs);
    return true;
  }

  /** Removes a local endpoint; after the last one this node leaves the group and drops the network's tables. Returns true when it did. */
  detachEndpoint(nid: string, endpointId: string, nowMs: number): boolean {
    checkStr('detachEndpoint', 'nid', nid, MAX_NETWORK_ID_BYTES);
    checkStr('detachEndpoint', 'endpointId', endpointId, 255);
    checkNow('detachEndpoint', nowMs);
    const net = this.#local.get(nid);
    if (!net || !net.endpoints.delete(endpointId) || net.endpoints.size > 0) return false;
    // Others drop our entries when they hear we left; we drop everything.
    for (const table of net.tables.values()) for (const e of table.values()) this.#emit(nid, e, undefined);
    this.#local.delete(nid);
    this.#setOwnAttachment(nid, true, nowMs);
    return true;
  }

  createEntry(nid: string, table: string, key: string, value: Uint8Array, nowMs: number): void {
    const net = this.#writable('createEntry', nid, table, key, value, nowMs);
    const prev = net.tables.get(table)?.get(key);
    if (prev && !prev.tombstone) throw new NetworkDbError('EEXIST', `createEntry: ${table}/${key} exists in network ${nid}`);
    this.#writeOwn(net, table, key, false, value.slice(), nowMs);
  }

  updateEntry(nid: string, table: string, key: string, value: Uint8Array, nowMs: number): void {
    const net = this.#writable('updateEntry', nid, table, key, value, nowMs);
    this.#ownLive('updateEntry', net, table, key);
    this.#writeOwn(net, table, key, false, value.slice(), nowMs);
  }

  deleteEntry(nid: string, table: string, key: string, nowMs: number): void {
    const net = this.#writable('deleteEntry', nid, table, key, EMPTY, nowMs);
    this.#ownLive('deleteEntry', net, table, key);
    this.#writeOwn(net, table, key, true, EMPTY, nowMs);
  }

  // ---- network input --------------------------------------------------------

  receive(from: string, bytes: Uint8Array, nowMs: number): void {
    let m;
    try {
      m = decodeMessage(bytes);
    } catch {
      this.#stats.malformed++;
      return;
    }
    this.#stats.received++;
    switch (m.type) {
      case 'tableGossip': {
        const net = this.#memberNet(m.nid);
        if (net) this.#applyBatch(net, m, 'gossip', nowMs);
        break;
      }
      case 'bulkSync': {
        this.#tableClock.witness(m.tableLtime);
        const net = this.#memberNet(m.nid);
        if (!net) break;
        net.syncPending = false; // this exchange is the sync
        this.#applyBatch(net, m, 'sync', nowMs);
        if (m.response) net.inSync = true;
        else if (this.#isMember(m.nid, from)) this.#syncWith(net, [from], true, nowMs);
        else this.#stats.syncRefused++;
        break;
      }
      case 'networkEvent':
        this.#applyAttachment(m.node, m.nid, m.ltime, m.leaving, nowMs, true);
        break;
      case 'networkState':
        this.#networkClock.witness(m.networkLtime);
        for (const r of m.records) this.#applyAttachment(r.node, r.nid, r.ltime, r.leaving, nowMs, false);
        break;
    }
  }

  /** This node's user state for a SWIM push-pull: every attachment it knows, as a network state message. */
  localState(): Uint8Array {
    const records = [];
    for (const [nid, recs] of this.#attachments) for (const [node, a] of recs) records.push({ node, nid, ltime: a.ltime, leaving: a.leaving });
    return encodeMessage({ type: 'networkState', networkLtime: this.#networkClock.time(), records });
  }

  // ---- time -------------------------------------------------------------------

  nextDueMs(): number {
    let t = this.#nextReapMs;
    if (this.#local.size > 0) t = Math.min(t, this.#nextBulkSyncMs);
    for (const net of this.#local.values()) {
      if (net.queue.size > 0) {
        t = Math.min(t, this.#nextGossipMs);
        break;
      }
    }
    return t;
  }

  tick(nowMs: number): void {
    checkNow('tick', nowMs);
    if (nowMs >= this.#nextGossipMs) {
      for (const net of this.#local.values()) this.#gossipRound(net, nowMs);
      this.#nextGossipMs = this.#slotAfter(this.#gossipPhaseMs, this.#cfg.gossipIntervalMs, nowMs);
    }
    if (nowMs >= this.#nextBulkSyncMs) {
      for (const net of this.#local.values()) this.#syncWith(net, this.#pick(net.nid, 1), false, nowMs);
      this.#nextBulkSyncMs += this.#cfg.bulkSyncIntervalMs * (Math.floor((nowMs - this.#nextBulkSyncMs) / this.#cfg.bulkSyncIntervalMs) + 1);
    }
    if (nowMs >= this.#nextReapMs) {
      this.#reap(nowMs);
      this.#nextReapMs += this.#cfg.reapPeriodMs * (Math.floor((nowMs - this.#nextReapMs) / this.#cfg.reapPeriodMs) + 1);
    }
  }

  takeOutput(): NetworkDbOutput {
    const out = { sends: this.#sends, broadcasts: this.#broadcasts, events: this.#events };
    this.#sends = [];
    this.#broadcasts = [];
    this.#events = [];
    return out;
  }

  // ---- reads --------------------------------------------------------------------

  get(nid: string, table: string, key: string): EntryView | undefined {
    const e = this.#local.get(nid)?.tables.get(table)?.get(key);
    return e && !e.tombstone ? { key: e.key, value: e.value, owner: e.owner, ltime: e.ltime } : undefined;
  }

  /** Live entries of a table, by key. */
  entries(nid: string, table: string): EntryView[] {
    const t = this.#local.get(nid)?.tables.get(table);
    if (!t) return [];
    const out: EntryView[] = [];
    for (const e of t.values()) if (!e.tombstone) out.push({ key: e.key, value: e.value, owner: e.owner, ltime: e.ltime });
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Networks this node is in. */
  networks(): string[] {
    return [...this.#local.keys()].sort();
  }

  isMember(nid: string): boolean {
    return this.#local.has(nid);
  }

  /** Nodes in a network's group as this node knows it (itself included when a member), sorted. */
  members(nid: string): string[] {
    return [...this.#memberList(nid)].sort();
  }

  nodeState(id: string): NodeState | undefined {
    return this.#nodes.get(id)?.state;
  }

  stats(): NetworkDbStats {
    return { ...this.#stats };
  }

  // ---- internals: writes ------------------------------------------------------

  #writable(fn: string, nid: string, table: string, key: string, value: Uint8Array, nowMs: number): LocalNetwork {
    checkStr(fn, 'nid', nid, MAX_NETWORK_ID_BYTES);
    checkStr(fn, 'table', table, MAX_TABLE_BYTES);
    checkStr(fn, 'key', key, MAX_KEY_BYTES);
    if (!(value instanceof Uint8Array)) throw new RangeError(`${fn}: value must be a Uint8Array, got ${typeof value}`);
    if (value.length > MAX_VALUE_BYTES) throw new RangeError(`${fn}: value must be at most ${MAX_VALUE_BYTES} bytes, got ${value.length}`);
    checkNow(fn, nowMs);
    const net = this.#local.get(nid);
    if (!net) throw new NetworkDbError('ENOTMEMBER', `${fn}: no local endpoint on network ${nid}`);
    return net;
  }

  #ownLive(fn: string, net: LocalNetwork, table: string, key: string): void {
    const prev = net.tables.get(table)?.get(key);
    if (!prev || prev.tombstone) throw new NetworkDbError('ENOENT', `${fn}: ${table}/${key} does not exist in network ${net.nid}`);
    if (prev.owner !== this.nodeId) throw new NetworkDbError('ENOTOWNER', `${fn}: ${table}/${key} in network ${net.nid} belongs to ${prev.owner}`);
  }

  #writeOwn(net: LocalNetwork, table: string, key: string, tombstone: boolean, value: Uint8Array, nowMs: number): void {
    const e: Entry = {
      table, key, owner: this.nodeId, ltime: this.#tableClock.increment(), tombstone, value,
      reapAtMs: tombstone ? nowMs + this.#cfg.tombstoneReapMs : Infinity,
    };
    this.#store(net, e);
    this.#enqueue(net, e, nowMs);
  }

  /** Puts e in its table, keeps the tombstone set right, and tells watchers what changed. */
  #store(net: LocalNetwork, e: Entry): void {
    let table = net.tables.get(e.table);
    if (!table) net.tables.set(e.table, (table = new Map()));
    const prev = table.get(e.key);
    table.set(e.key, e);
    if (prev?.tombstone) net.tombstones.delete(prev);
    if (e.tombstone) net.tombstones.add(e);
    this.#emit(net.nid, prev, e);
  }

  #emit(nid: string, prev: Entry | undefined, next: Entry | undefined): void {
    const was = prev !== undefined && !prev.tombstone;
    const is = next !== undefined && !next.tombstone;
    const ev = (type: TableEvent['type'], e: Entry) => this.#events.push({ type, nid, table: e.table, key: e.key, owner: e.owner, value: e.value, ltime: e.ltime });
    if (is && !was) ev('create', next!);
    else if (is && was && (prev!.owner !== next!.owner || !sameBytes(prev!.value, next!.value))) ev('update', next!);
    else if (was && !is) ev('delete', { ...prev!, ltime: next?.ltime ?? prev!.ltime });
  }

  #enqueue(net: LocalNetwork, e: Entry, nowMs: number): void {
    net.queue.push(queueId(e), e);
    if (this.#nextGossipMs < nowMs) this.#nextGossipMs = this.#slotAtOrAfter(this.#gossipPhaseMs, this.#cfg.gossipIntervalMs, nowMs);
  }

  // ---- internals: attachments -------------------------------------------------

  #setOwnAttachment(nid: string, leaving: boolean, nowMs: number): void {
    const ltime = this.#networkClock.increment();
    this.#recs(nid).set(this.nodeId, { ltime, leaving, reapAtMs: leaving ? nowMs + this.#cfg.networkLeaveReapMs : Infinity });
    this.#memberCache.delete(nid);
    this.#broadcast({ type: 'networkEvent', node: this.nodeId, nid, ltime, leaving });
  }

  #broadcast(msg: NetworkEvent): void {
    this.#broadcasts.push({ key: `${msg.node}\u0000${msg.nid}`, msg, bytes: encodeMessage(msg) });
  }

  #recs(nid: string): Map<string, Attachment> {
    let recs = this.#attachments.get(nid);
    if (!recs) this.#attachments.set(nid, (recs = new Map()));
    return recs;
  }

  /** A join or leave of `node` at `ltime`, heard from anywhere. */
  #applyAttachment(node: string, nid: string, ltime: number, leaving: boolean, nowMs: number, rebroadcast: boolean): void {
    this.#networkClock.witness(ltime);
    const prev = this.#attachments.get(nid)?.get(node);
    if (node === this.nodeId) {
      this.#refuteAttachment(nid, prev, ltime, leaving, nowMs);
      return;
    }
    if (this.#gone(node)) {
      this.#stats.fromGoneNode++;
      return;
    }
    // Newer wins; at equal times a leave wins (only a restarted node reuses a time, and it refutes).
    if (prev && !(ltime > prev.ltime || (ltime === prev.ltime && leaving && !prev.leaving))) return;
    this.#recs(nid).set(node, { ltime, leaving, reapAtMs: leaving ? nowMs + this.#cfg.networkLeaveReapMs : Infinity });
    this.#memberCache.delete(nid);
    const mine = this.#local.get(nid);
    if (!leaving && mine?.syncPending && this.#reachable(node)) {
      mine.syncPending = false;
      this.#syncWith(mine, [node], false, nowMs);
    }
    if (leaving) {
      // libnetwork deleteNodeNetworkEntries: its entries become tombstones
      // with their own times, so a bulk sync carries the deletion too.
      const net = this.#local.get(nid);
      if (net) {
        for (const table of net.tables.values()) {
          for (const e of table.values()) {
            if (e.owner === node && !e.tombstone) this.#store(net, { ...e, tombstone: true, value: EMPTY, reapAtMs: nowMs + this.#cfg.tombstoneReapMs });
          }
        }
      }
    }
    if (rebroadcast) this.#broadcast({ type: 'networkEvent', node, nid, ltime, leaving });
  }

  /**
   * Someone holds a claim about this node's own attachment. This node is the
   * authority: a claim at least as new that contradicts it (after a restart,
   * the old clock's records are still around) is answered with the truth at
   * a newer time, as a SWIM member refutes a suspicion.
   */
  #refuteAttachment(nid: string, mine: Attachment | undefined, ltime: number, leaving: boolean, nowMs: number): void {
    if (mine && (ltime < mine.ltime || (ltime === mine.ltime && leaving === mine.leaving))) return;
    const member = this.#local.has(nid);
    if (leaving === !member) {
      // True, only newer than we remember saying it: adopt the time.
      this.#recs(nid).set(this.nodeId, { ltime, leaving, reapAtMs: leaving ? nowMs + this.#cfg.networkLeaveReapMs : Infinity });
      return;
    }
    this.#stats.refuted++;
    this.#setOwnAttachment(nid, !member, nowMs);
  }

  #isMember(nid: string, node: string): boolean {
    const a = this.#attachments.get(nid)?.get(node);
    return a !== undefined && !a.leaving;
  }

  #memberList(nid: string): string[] {
    let list = this.#memberCache.get(nid);
    if (!list) {
      list = [];
      for (const [node, a] of this.#attachments.get(nid) ?? []) if (!a.leaving) list.push(node);
      this.#memberCache.set(nid, list);
    }
    return list;
  }

  #memberNet(nid: string): LocalNetwork | undefined {
    const net = this.#local.get(nid);
    if (!net) this.#stats.notMember++;
    return net;
  }

  #gone(node: string): boolean {
    return this.#nodes.get(node)?.purged === true;
  }

  #reachable(node: string): boolean {
    const info = this.#nodes.get(node);
    return info === undefined || info.state === 'alive';
  }

  /** Up to k distinct reachable members of nid other than this node, at random (libnetwork mRandomNodes). */
  #pick(nid: string, k: number): string[] {
    const all = this.#memberList(nid);
    const ok = (n: string) => n !== this.nodeId && this.#reachable(n);
    if (all.length <= 4 * k + 1) {
      const c = all.filter(ok);
      for (let i = 0; i < Math.min(k, c.length); i++) {
        const j = i + this.#rand.int(c.length - i);
        [c[i], c[j]] = [c[j]!, c[i]!];
      }
      return c.slice(0, k);
    }
    const out: string[] = [];
    for (let i = 0; i < 3 * all.length && out.length < k; i++) {
      const n = all[this.#rand.int(all.length)]!;
      if (ok(n) && !out.includes(n)) out.push(n);
    }
    return out;
  }

  // ---- internals: entries from the network ----------------------------------

  #applyBatch(net: LocalNetwork, b: Batch, via: 'gossip' | 'sync', nowMs: number): void {
    for (const o of b.owners) this.#applyAttachment(o.node, b.nid, o.netLtime, o.leaving, nowMs, false);
    // The owner records may have made us leave (a refuted claim never does: it only re-asserts).
    for (const w of b.entries) this.#applyEntry(net, w, via, nowMs);
  }

  #applyEntry(net: LocalNetwork, w: WireEntry, via: 'gossip' | 'sync', nowMs: number): void {
    this.#tableClock.witness(w.ltime);
    if (w.owner === this.nodeId) {
      this.#refuteEntry(net, w, nowMs);
      return;
    }
    if (this.#gone(w.owner)) {
      this.#stats.fromGoneNode++;
      return;
    }
    if (!this.#isMember(net.nid, w.owner)) {
      this.#stats.ownerNotMember++;
      return;
    }
    const prev = net.tables.get(w.table)?.get(w.key);
    if (prev && compareVersions(w, prev) <= 0) {
      this.#stats.stale++;
      return;
    }
    const e: Entry = {
      table: w.table, key: w.key, owner: w.owner, ltime: w.ltime, tombstone: w.tombstone, value: w.value,
      // A copy never outlives the original, nor our own limit.
      reapAtMs: w.tombstone ? nowMs + Math.min(w.reapLeftMs, this.#cfg.tombstoneReapMs) : Infinity,
    };
    this.#store(net, e);
    // libnetwork handleTableEvent: news from gossip is passed on; news from a
    // bulk sync only once the network is in sync (a joiner's first sync is
    // the whole table, which everyone else has) and the queue is not long.
    if (via === 'gossip') this.#enqueue(net, e, nowMs);
    else if (net.inSync && net.queue.size < this.#cfg.maxRebroadcastQueueOnSync) this.#enqueue(net, e, nowMs);
    else if (net.inSync) this.#stats.rebroadcastSkipped++;
  }

  /**
   * A version of an entry owned by this node that beats what this node holds
   * (a restarted node's old entries, or one re-created at an old time): the
   * owner re-issues its truth at a newer time, a tombstone if it no longer
   * holds the entry live.
   */
  #refuteEntry(net: LocalNetwork, w: WireEntry, nowMs: number): void {
    const local = net.tables.get(w.table)?.get(w.key);
    if (local && compareVersions(w, local) <= 0) return;
    this.#stats.refuted++;
    const live = local !== undefined && local.owner === this.nodeId && !local.tombstone;
    this.#writeOwn(net, w.table, w.key, !live, live ? local.value : EMPTY, nowMs);
  }

  // ---- internals: rounds ---------------------------------------------------------

  #gossipRound(net: LocalNetwork, nowMs: number): void {
    if (net.queue.size === 0) return;
    const members = this.#memberList(net.nid);
    if (!members.some((n) => n !== this.nodeId)) {
      net.queue.clear(); // alone in the group: a later joiner gets it all by bulk sync
      return;
    }
    const targets = this.#pick(net.nid, this.#cfg.gossipFanout);
    if (targets.length === 0) return; // every other member is dead for now: keep it queued
    const limit = this.#cfg.retransmitMult * Math.ceil(Math.log10(members.length + 1));
    const owners = new Map<string, OwnerRecord>();
    let size = gossipHeaderBytes(net.nid);
    const picked = net.queue.take(limit, (e) => {
      let add = entryBytes(e);
      let rec = owners.get(e.owner);
      if (!rec) {
        rec = this.#ownerRecord(net.nid, e.owner);
        if (!rec) return false;
        add += ownerBytes(rec);
      }
      if (size + add > this.#cfg.packetBudgetBytes) return false;
      size += add;
      owners.set(e.owner, rec);
      return true;
    });
    if (picked.length === 0) return;
    const msg: TableGossip = { type: 'tableGossip', nid: net.nid, owners: [...owners.values()], entries: picked.map((e) => this.#wire(e, nowMs)) };
    const bytes = encodeMessage(msg);
    for (const to of targets) this.#sends.push({ to, reliable: false, msg, bytes });
    this.#stats.gossipPackets += targets.length;
  }

  /** A bulk sync request (or, with response, the answer) to each of `peers`: every entry of the network, tombstones included. */
  #syncWith(net: LocalNetwork, peers: string[], response: boolean, nowMs: number): void {
    if (peers.length === 0) return;
    const self = this.#ownerRecord(net.nid, this.nodeId)!;
    const owners = new Map<string, OwnerRecord>([[this.nodeId, self]]);
    const entries: WireEntry[] = [];
    for (const table of net.tables.values()) {
      for (const e of table.values()) {
        let rec = owners.get(e.owner);
        if (!rec) {
          rec = this.#ownerRecord(net.nid, e.owner);
          if (!rec) continue;
          owners.set(e.owner, rec);
        }
        entries.push(this.#wire(e, nowMs));
      }
    }
    const msg: BulkSync = { type: 'bulkSync', response, tableLtime: this.#tableClock.time(), nid: net.nid, owners: [...owners.values()], entries };
    const bytes = encodeMessage(msg);
    for (const to of peers) this.#sends.push({ to, reliable: true, msg, bytes });
    this.#stats.bulkSyncs += peers.length;
  }

  #ownerRecord(nid: string, node: string): OwnerRecord | undefined {
    const a = this.#attachments.get(nid)?.get(node);
    return a && { node, netLtime: a.ltime, leaving: a.leaving };
  }

  #wire(e: Entry, nowMs: number): WireEntry {
    const reapLeftMs = e.tombstone ? Math.max(0, Math.min(MAX_REAP_LEFT_MS, Math.ceil(e.reapAtMs - nowMs))) : 0;
    return { owner: e.owner, ltime: e.ltime, table: e.table, key: e.key, tombstone: e.tombstone, value: e.value, reapLeftMs };
  }

  #slotAfter(phase: number, period: number, nowMs: number): number {
    return phase + period * (Math.floor((nowMs - phase) / period) + 1);
  }

  #slotAtOrAfter(phase: number, period: number, nowMs: number): number {
    return phase + period * Math.ceil((nowMs - phase) / period);
  }

  // ---- internals: reaping ------------------------------------------------------------

  #reap(nowMs: number): void {
    for (const net of this.#local.values()) {
      for (const t of net.tombstones) {
        if (t.reapAtMs > nowMs) continue;
        net.tombstones.delete(t);
        const table = net.tables.get(t.table)!;
        if (table.get(t.key) === t) table.delete(t.key);
        if (table.size === 0) net.tables.delete(t.table);
      }
    }
    for (const [nid, recs] of this.#attachments) {
      for (const [node, a] of recs) if (a.leaving && a.reapAtMs <= nowMs) recs.delete(node);
      if (recs.size === 0) this.#attachments.delete(nid);
    }
    for (const [id, info] of this.#nodes) {
      if (info.state === 'dead' && !info.purged && nowMs >= info.sinceMs + this.#cfg.deadNodeGraceMs) {
        info.purged = true;
        this.#purge(id);
      }
      if (info.state !== 'alive' && nowMs >= info.sinceMs + this.#cfg.nodeReapMs) this.#nodes.delete(id);
    }
  }

  /**
   * A node that left, or stayed dead past its grace period: its attachments
   * and entries go outright (libnetwork deleteNodeTableEntries), no
   * tombstones, so if it comes back its own entries are accepted again.
   */
  #purge(node: string): void {
    for (const [nid, recs] of this.#attachments) {
      if (recs.delete(node)) this.#memberCache.delete(nid);
    }
    for (const net of this.#local.values()) {
      for (const table of net.tables.values()) {
        for (const e of table.values()) {
          if (e.owner !== node) continue;
          table.delete(e.key);
          net.tombstones.delete(e);
          this.#emit(net.nid, e, undefined);
        }
      }
      net.queue.retain((e) => e.owner !== node);
    }
  }
}
