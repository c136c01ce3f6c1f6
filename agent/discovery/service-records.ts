// Service records in NetworkDB (issue 9): each node publishes, in table
// `svc` of each network, one record per local endpoint or task while it
// runs (records.ts), and reads every node's records from the same table.
// The view is what the DNS resolver answers from and the VIP load balancer
// programs rules from; a change calls onChange (both react within a gossip
// round). A record is published after the endpoint's peer record and
// withdrawn before it (DataPlane owns the NetworkDB attachment), so a name
// never points at an address the data path cannot reach.
import type { GossipNode } from '../gossip/gossip-node.js';
import { decodeServiceRecord as decodeWire, encodeServiceRecord as encodeWire, TABLE_SERVICES, TableRecordError, type TableEvent } from '../gossip/networkdb/index.js';
import type { DiscoveryView, ServiceRecord } from './records.js';

/** NetworkDB's `services` table (table-records.ts has the byte layout). */
export const TABLE_SVC = TABLE_SERVICES;

export function encodeServiceRecord(r: ServiceRecord): Uint8Array {
  return encodeWire({ service: r.service ?? '', task: r.name, ip: r.ip, vip: r.vip ?? '' });
}

/** Undefined for a value that is not a record (another node's bug): it is counted and skipped, never trusted. */
export function decodeServiceRecord(b: Uint8Array): ServiceRecord | undefined {
  try {
    const w = decodeWire(b);
    return { name: w.task, ip: w.ip, ...(w.service !== '' ? { service: w.service } : {}), ...(w.vip !== '' ? { vip: w.vip } : {}) };
  } catch (e) {
    if (e instanceof TableRecordError) return undefined;
    throw e;
  }
}

export interface ServiceRecordsOptions {
  /** A network's id by its name, among the networks this node has endpoints on. */
  networkIdOf(name: string): string | undefined;
  /** Called after any record of any network changed (local or gossiped). */
  onChange?(): void;
}

export class ServiceRecords implements DiscoveryView {
  readonly #o: ServiceRecordsOptions;
  #gossip: GossipNode | undefined;
  #unwatch: (() => void) | undefined;
  /** Ours, kept across gossip restarts: network id -> endpoint id -> record. */
  readonly #published = new Map<string, Map<string, ServiceRecord>>();
  /** Every node's, decoded once: network id -> key -> record (built on first read of a network). */
  readonly #view = new Map<string, Map<string, ServiceRecord>>();
  /** records() of each network, sorted once per change (every DNS query reads it). */
  readonly #sorted = new Map<string, readonly ServiceRecord[]>();
  readonly stats = { malformed: 0 };

  constructor(o: ServiceRecordsOptions) {
    this.#o = o;
  }

  bindGossip(g: GossipNode | undefined): void {
    if (g === this.#gossip) return;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#gossip = g;
    this.#view.clear();
    this.#sorted.clear();
    if (g) {
      this.#unwatch = g.watch((e) => this.#onTable(e));
      for (const [nid, recs] of this.#published) for (const [ep, r] of recs) g.put(nid, TABLE_SVC, ep, encodeServiceRecord(r));
    }
    this.#o.onChange?.();
  }

  /** Announce a running endpoint on a network (its peer record is published already). */
  publish(nid: string, endpointId: string, r: ServiceRecord): void {
    let m = this.#published.get(nid);
    if (!m) this.#published.set(nid, (m = new Map()));
    m.set(endpointId, r);
    this.#view.get(nid)?.set(endpointId, r);
    this.#sorted.delete(nid);
    this.#gossip?.put(nid, TABLE_SVC, endpointId, encodeServiceRecord(r));
    this.#o.onChange?.();
  }

  /** Withdraw it (before its peer record goes); nothing if it was not published. */
  unpublish(nid: string, endpointId: string): void {
    const m = this.#published.get(nid);
    if (!m?.delete(endpointId)) return;
    if (m.size === 0) this.#published.delete(nid);
    this.#view.get(nid)?.delete(endpointId);
    this.#sorted.delete(nid);
    try {
      this.#gossip?.remove(nid, TABLE_SVC, endpointId);
    } catch {
      // Not in this gossip instance's table (it started after the record was made and before it was put): nothing to withdraw.
    }
    this.#o.onChange?.();
  }

  records(nid: string): readonly ServiceRecord[] {
    let out = this.#sorted.get(nid);
    if (!out) {
      out = [...this.#network(nid)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
      this.#sorted.set(nid, out);
    }
    return out;
  }

  networkId(name: string): string | undefined {
    return this.#o.networkIdOf(name);
  }

  #network(nid: string): Map<string, ServiceRecord> {
    let m = this.#view.get(nid);
    if (m) return m;
    m = new Map(this.#published.get(nid) ?? []);
    for (const e of this.#gossip?.entries(nid, TABLE_SVC) ?? []) {
      const r = decodeServiceRecord(e.value);
      if (r) m.set(e.key, r);
      else this.stats.malformed++;
    }
    this.#view.set(nid, m);
    return m;
  }

  #onTable(e: TableEvent): void {
    if (e.table !== TABLE_SVC) return;
    this.#sorted.delete(e.nid);
    const m = this.#view.get(e.nid);
    if (m) {
      if (e.type === 'delete') {
        if (!this.#published.get(e.nid)?.has(e.key)) m.delete(e.key);
      } else {
        const r = decodeServiceRecord(e.value);
        if (r) m.set(e.key, r);
        else {
          this.stats.malformed++;
          m.delete(e.key);
        }
      }
    }
    this.#o.onChange?.();
  }
}
