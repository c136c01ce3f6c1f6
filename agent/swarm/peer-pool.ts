// Channels from one manager to the other managers: at most one dial in
// flight per peer, whichever channel to a peer is open (dialled by us or by
// it) is used for both Raft notes and forwarded requests. Raft copes with
// loss, so notes sent while a peer is unreachable are held briefly while a
// dial runs and dropped (and counted) during a redial backoff.
import type { Clock } from '../../shared/clock.js';
import type { Addr } from '../../shared/transport/types.js';
import type { Rpc } from './rpc.js';

export interface PeerPoolOptions {
  clock: Clock;
  /** Open an authenticated channel to the manager `id` at addr (its certificate must name id). */
  dial(id: string, addr: Addr): Promise<Rpc>;
  /** Where manager `id` listens, read at every dial; undefined while unknown. */
  addrOf(id: string): Addr | undefined;
  maxHeld?: number;
  redialMinMs?: number;
  redialMaxMs?: number;
}

export interface PeerPoolStats {
  dials: number;
  dialFailures: number;
  /** Notes dropped: no channel and none coming, or the hold queue was full. */
  dropped: number;
}

interface Peer {
  open: Set<Rpc>;
  dialing: Promise<Rpc> | undefined;
  held: { kind: string; body: unknown }[];
  backoffUntilMs: number;
  backoffMs: number;
}

export class PeerPool {
  readonly stats: PeerPoolStats = { dials: 0, dialFailures: 0, dropped: 0 };
  readonly #o: PeerPoolOptions;
  readonly #peers = new Map<string, Peer>();
  #closed = false;

  constructor(o: PeerPoolOptions) {
    this.#o = o;
  }

  /** An inbound channel from manager `rpc.peer.nodeId`: use it for that peer too. */
  adopt(rpc: Rpc): void {
    if (this.#closed) return;
    const p = this.#peer(rpc.peer.nodeId);
    p.open.add(rpc);
    rpc.onClose(() => p.open.delete(rpc));
    this.#flush(p, rpc);
  }

  /** Send a one-way note to manager id, dialling if needed; never throws. */
  notify(id: string, kind: string, body: unknown): void {
    if (this.#closed) return;
    const p = this.#peer(id);
    const rpc = first(p.open);
    if (rpc) return rpc.notify(kind, body);
    if (!p.dialing && this.#o.clock.nowMs() < p.backoffUntilMs) {
      this.stats.dropped++;
      return;
    }
    if (p.held.length >= (this.#o.maxHeld ?? 256)) {
      p.held.shift();
      this.stats.dropped++;
    }
    p.held.push({ kind, body });
    void this.channel(id).catch(() => {});
  }

  /** An open channel to manager id (dialled when there is none); rejects when the dial fails. */
  channel(id: string): Promise<Rpc> {
    if (this.#closed) return Promise.reject(new Error('the manager is shutting down'));
    const p = this.#peer(id);
    const open = first(p.open);
    if (open) return Promise.resolve(open);
    if (p.dialing) return p.dialing;
    const addr = this.#o.addrOf(id);
    if (!addr) {
      this.stats.dropped += p.held.length;
      p.held = [];
      return Promise.reject(new Error(`the address of manager ${id} is not known`));
    }
    this.stats.dials++;
    p.dialing = this.#o.dial(id, addr).then(
      (rpc) => {
        p.dialing = undefined;
        if (this.#closed || this.#peers.get(id) !== p) {
          rpc.close();
          throw new Error(this.#closed ? 'the manager is shutting down' : `manager ${id} was dropped`);
        }
        p.backoffMs = 0;
        p.open.add(rpc);
        rpc.onClose(() => p.open.delete(rpc));
        this.#flush(p, rpc);
        return rpc;
      },
      (e: unknown) => {
        p.dialing = undefined;
        this.stats.dialFailures++;
        this.stats.dropped += p.held.length;
        p.held = [];
        const min = this.#o.redialMinMs ?? 200;
        p.backoffMs = Math.min(this.#o.redialMaxMs ?? 2_000, p.backoffMs === 0 ? min : p.backoffMs * 2);
        p.backoffUntilMs = this.#o.clock.nowMs() + p.backoffMs;
        throw e;
      },
    );
    return p.dialing;
  }

  /** Close every channel to id (it was removed, or its certificate changed). */
  drop(id: string): void {
    const p = this.#peers.get(id);
    if (!p) return;
    this.#peers.delete(id);
    for (const rpc of p.open) rpc.close();
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#peers.values()) for (const rpc of p.open) rpc.close();
    this.#peers.clear();
  }

  #peer(id: string): Peer {
    let p = this.#peers.get(id);
    if (!p) {
      p = { open: new Set(), dialing: undefined, held: [], backoffUntilMs: 0, backoffMs: 0 };
      this.#peers.set(id, p);
    }
    return p;
  }

  #flush(p: Peer, rpc: Rpc): void {
    for (const h of p.held.splice(0)) rpc.notify(h.kind, h.body);
  }
}

function first<T>(s: Set<T>): T | undefined {
  for (const x of s) if (!(x as { closed?: boolean }).closed) return x;
  return undefined;
}
