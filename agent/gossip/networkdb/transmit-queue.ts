// The per-network queue of entry versions still to gossip: memberlist's
// TransmitLimitedQueue, as libnetwork gives each network one. Each version
// goes out in a bounded number of rounds (the caller passes the limit,
// retransmitMult·ceil(log10(members + 1))); the least-sent go first and,
// among equals, the newest; a newer version of the same key replaces the
// queued one (memberlist's Invalidates), so a key never takes two slots.

interface Item<T> {
  value: T;
  transmits: number;
  seq: number;
}

export class TransmitQueue<T> {
  readonly #items = new Map<string, Item<T>>();
  #seq = 0;

  get size(): number {
    return this.#items.size;
  }

  /** Queues value under id for a fresh set of rounds, replacing what id held. */
  push(id: string, value: T): void {
    this.#items.set(id, { value, transmits: 0, seq: this.#seq++ });
  }

  /**
   * One round: offers queued values to `fits` in priority order (fewest
   * transmissions, then newest); those it accepts are returned, counted as
   * sent once, and dropped once sent `limit` times.
   */
  take(limit: number, fits: (value: T) => boolean): T[] {
    const order = [...this.#items.entries()].sort((a, b) => a[1].transmits - b[1].transmits || b[1].seq - a[1].seq);
    const out: T[] = [];
    for (const [id, item] of order) {
      if (!fits(item.value)) continue;
      out.push(item.value);
      item.transmits++;
      if (item.transmits >= limit) this.#items.delete(id);
    }
    return out;
  }

  /** Drops every queued value pred rejects. */
  retain(pred: (value: T) => boolean): void {
    for (const [id, item] of this.#items) if (!pred(item.value)) this.#items.delete(id);
  }

  clear(): void {
    this.#items.clear();
  }
}
