// A few NetworkDb cores wired by hand for scenario tests (STYLE habit 4):
// a manual clock, instant delivery, and a test that says what is delivered,
// dropped or held. Every node starts knowing every other alive.
import { seededRand } from '../../../../shared/rand.js';
import { NetworkDb, testConfig, type NetworkDbConfig, type NetworkDbMessage, type TableEvent } from '../../../../agent/gossip/networkdb/index.js';

export interface InFlight {
  from: string;
  /** undefined for a broadcast (it goes to every other node). */
  to: string | undefined;
  reliable: boolean;
  msg: NetworkDbMessage;
  bytes: Uint8Array;
}

export class Cluster {
  readonly dbs = new Map<string, NetworkDb>();
  readonly events = new Map<string, TableEvent[]>();
  /** Everything delivered, in order. */
  readonly delivered: (InFlight & { at: string })[] = [];
  /** Produced and not yet delivered or dropped. */
  inFlight: InFlight[] = [];
  /** Return true to drop a message at delivery (a broadcast is asked once per receiver). */
  drop: (m: InFlight, to: string) => boolean = () => false;
  nowMs = 0;
  readonly config: NetworkDbConfig;

  constructor(ids: string[], opts: { config?: NetworkDbConfig; seed?: number } = {}) {
    this.config = opts.config ?? testConfig();
    const r = seededRand(opts.seed ?? 1);
    for (const id of ids) this.add(id, r.fork());
  }

  /** A fresh node (a new one, or a restart replacing the old core), known alive by all. */
  add(id: string, rand = seededRand(this.dbs.size + 100)): NetworkDb {
    const db = new NetworkDb({ nodeId: id, config: this.config, rand, nowMs: this.nowMs });
    this.dbs.set(id, db);
    this.events.set(id, []);
    for (const [other, o] of this.dbs) {
      if (other === id) continue;
      o.nodeAlive(id, this.nowMs);
      db.nodeAlive(other, this.nowMs);
    }
    return db;
  }

  db(id: string): NetworkDb {
    const d = this.dbs.get(id);
    if (!d) throw new Error(`no node ${id}`);
    return d;
  }

  /** Runs fn on a node now and collects what it produced (not yet delivered). */
  on<T>(id: string, fn: (db: NetworkDb, nowMs: number) => T): T {
    const r = fn(this.db(id), this.nowMs);
    this.collect(id);
    return r;
  }

  collect(id: string): void {
    const out = this.db(id).takeOutput();
    this.events.get(id)!.push(...out.events);
    for (const s of out.sends) this.inFlight.push({ from: id, to: s.to, reliable: s.reliable, msg: s.msg, bytes: s.bytes });
    for (const b of out.broadcasts) this.inFlight.push({ from: id, to: undefined, reliable: false, msg: b.msg, bytes: b.bytes });
  }

  /** Takes the events a node's watchers saw since last asked. */
  takeEvents(id: string): TableEvent[] {
    const e = this.events.get(id)!;
    this.events.set(id, []);
    return e;
  }

  /** Delivers everything in flight, and what that produces, until quiet. Broadcasts reach every other node once. */
  deliver(): void {
    for (let round = 0; this.inFlight.length > 0; round++) {
      if (round > 1000) throw new Error('deliver: no quiescence after 1000 rounds');
      const batch = this.inFlight;
      this.inFlight = [];
      for (const m of batch) {
        const targets = m.to !== undefined ? [m.to] : [...this.dbs.keys()].filter((k) => k !== m.from);
        for (const to of targets) {
          if (!this.dbs.has(to) || this.drop(m, to)) continue;
          this.delivered.push({ ...m, at: to });
          this.db(to).receive(m.from, m.bytes, this.nowMs);
          this.collect(to);
        }
      }
    }
  }

  /** Drops everything in flight. */
  discard(): void {
    this.inFlight = [];
  }

  /** Moves time to nowMs + ms, ticking every node whenever due and delivering at once. */
  run(ms: number): void {
    const end = this.nowMs + ms;
    this.deliver();
    for (;;) {
      let next = Infinity;
      let who: string | undefined;
      for (const [id, db] of this.dbs) {
        const d = db.nextDueMs();
        if (d < next) [next, who] = [d, id];
      }
      if (who === undefined || next > end) break;
      this.nowMs = Math.max(this.nowMs, next);
      this.db(who).tick(this.nowMs);
      this.collect(who);
      this.deliver();
    }
    this.nowMs = end;
  }

  /** Messages delivered to `to` about network nid (table gossip or bulk sync). */
  tableMessagesTo(to: string, nid: string): number {
    return this.delivered.filter((d) => d.at === to && (d.msg.type === 'tableGossip' || d.msg.type === 'bulkSync') && d.msg.nid === nid).length;
  }
}

export const bytes = (s: string) => new TextEncoder().encode(s);
export const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
/** Events as compact strings: "create peers/k=v@owner". */
export const show = (evs: TableEvent[]) => evs.map((e) => `${e.type} ${e.table}/${e.key}=${text(e.value)}@${e.owner}`);
