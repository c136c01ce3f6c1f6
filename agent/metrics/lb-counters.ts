// New flows per backend (issue 11), the pure part: the counters of the
// backend chains (host/nft-backends.ts) read from `nft -j list table ip T`,
// and running totals that stay monotonic while the rules are replaced.
//
// The VIP and mesh rules are replaced whole (delete table, define it anew) on
// every change of their backends, which zeroes the counters. A new table has
// a new handle, so a read whose table handle differs from the last read's
// counts every flow as new; otherwise a counter's growth since the last read
// is added. Flows counted after a netns's last read and before a reload are
// lost: the totals undercount by what one read interval sees around each
// change, never overcount.
import { parseBackendChain } from '../host/nft-backends.js';

/** One backend chain's counter: its key (host/nft-backends.ts), the dnat's address, and the flows so far. */
export interface BackendCount {
  key: string;
  backend: string;
  flows: number;
}

/** A table as read: its handle (new for every reload) and its backend chains' counters. */
export interface TableCounts {
  handle: number;
  counts: BackendCount[];
}

interface NftItem {
  table?: { name?: unknown; handle?: unknown };
  rule?: { chain?: unknown; expr?: unknown };
}

const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The backend chains' counters in `nft -j list table` output; throws on text that is not nft's JSON. */
export function parseTableCounts(json: string, table: string): TableCounts {
  const doc = JSON.parse(json) as { nftables?: NftItem[] };
  if (!Array.isArray(doc.nftables)) throw new Error(`nft -j list table ${table}: no "nftables" array`);
  let handle = -1;
  const counts: BackendCount[] = [];
  for (const item of doc.nftables) {
    if (item.table?.name === table && typeof item.table.handle === 'number') handle = item.table.handle;
    const r = item.rule;
    const chain = typeof r?.chain === 'string' ? parseBackendChain(r.chain) : undefined;
    if (!chain || !Array.isArray(r!.expr)) continue;
    let flows: number | undefined;
    let backend: string | undefined;
    for (const e of r!.expr as Record<string, unknown>[]) {
      const c = e['counter'] as { packets?: unknown } | undefined;
      if (c && typeof c.packets === 'number') flows = c.packets;
      const d = e['dnat'] as { addr?: unknown } | undefined;
      if (d && typeof d.addr === 'string' && IPV4_RE.test(d.addr)) backend = d.addr;
    }
    if (flows !== undefined && backend !== undefined) counts.push({ key: chain.key, backend, flows });
  }
  return { handle, counts };
}

/** A VIP chain key back to the VIP (10_0_1_2 -> 10.0.1.2); undefined for other keys. */
export function vipOfKey(key: string): string | undefined {
  return /^\d{1,3}(_\d{1,3}){3}$/.test(key) ? key.replaceAll('_', '.') : undefined;
}

/** A port chain key back to its protocol and port (tcp_8080); undefined for other keys. */
export function portOfKey(key: string): { protocol: string; published: number } | undefined {
  const m = /^(tcp|udp)_(\d{1,5})$/.exec(key);
  return m ? { protocol: m[1]!, published: Number(m[2]) } : undefined;
}

export interface FlowLabels {
  service: string;
  network: string;
  backend: string;
}

/** A read counter with the labels it is shown under. */
export interface LabelledCount {
  key: string;
  backend: string;
  flows: number;
  labels: FlowLabels;
}

const labelKey = (l: FlowLabels): string => `${l.service}\n${l.network}\n${l.backend}`;

/** Flows per (service, network, backend), summed over the namespaces read, monotonic across reloads. */
export class FlowTotals {
  /** Per source (netns and table): the handle and each counter's value at its last read. */
  readonly #last = new Map<string, { handle: number; values: Map<string, number>; present: Set<string> }>();
  readonly #totals = new Map<string, { labels: FlowLabels; flows: number }>();

  /** A fresh read of one source: add what each counter grew by since the last (all of it in a new table). */
  update(source: string, handle: number, counts: readonly LabelledCount[]): void {
    const before = this.#last.get(source);
    const same = before !== undefined && before.handle === handle;
    const values = new Map<string, number>();
    const present = new Set<string>();
    for (const c of counts) {
      const id = `${c.key} ${c.backend}`;
      const prev = same ? (before.values.get(id) ?? 0) : 0;
      // A counter lower than before in the same table cannot happen; read it as a reset all the same.
      const grew = c.flows >= prev ? c.flows - prev : c.flows;
      values.set(id, (values.get(id) ?? 0) + c.flows);
      const k = labelKey(c.labels);
      present.add(k);
      const t = this.#totals.get(k);
      if (t) t.flows += grew;
      else this.#totals.set(k, { labels: { ...c.labels }, flows: grew });
    }
    this.#last.set(source, { handle, values, present });
    this.#prune();
  }

  /** A source no longer read (its endpoint went): what it counted stays in the totals it shares with others. */
  forget(source: string): void {
    if (this.#last.delete(source)) this.#prune();
  }

  /** The sources read and not forgotten. */
  get sources(): string[] {
    return [...this.#last.keys()];
  }

  /** Totals of the backends some source's rules still have. */
  totals(): { labels: FlowLabels; flows: number }[] {
    return [...this.#totals.values()].map((t) => ({ labels: { ...t.labels }, flows: t.flows }));
  }

  /** A backend no source has any more (its task went) stops being shown; back later, it starts again from 0. */
  #prune(): void {
    const live = new Set<string>();
    for (const s of this.#last.values()) for (const k of s.present) live.add(k);
    for (const k of [...this.#totals.keys()]) if (!live.has(k)) this.#totals.delete(k);
  }
}
