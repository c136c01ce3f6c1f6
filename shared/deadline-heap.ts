// A binary min-heap of deadlines, ordered by (deadline, push order): entries
// due at the same instant come out in the order they went in, which is what
// makes a ManualClock, the SWIM core and the simulators deterministic.
// Entries are never removed early: callers check, when an entry comes out,
// whether it still means anything (lazy deletion), which keeps every
// operation O(log n).

interface Slot<T> {
  atMs: number;
  seq: number;
  item: T;
}

export class DeadlineHeap<T> {
  #h: Slot<T>[] = [];
  #seq = 0;

  get size(): number {
    return this.#h.length;
  }

  push(atMs: number, item: T): void {
    const h = this.#h;
    h.push({ atMs, seq: this.#seq++, item });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** The earliest deadline, or Infinity when empty. */
  peekMs(): number {
    return this.#h[0]?.atMs ?? Infinity;
  }

  peek(): T | undefined {
    return this.#h[0]?.item;
  }

  /** Every entry, in no particular order. */
  *values(): IterableIterator<T> {
    for (const s of this.#h) yield s.item;
  }

  pop(): T | undefined {
    const h = this.#h;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top?.item;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l]!, h[m]!)) m = l;
      if (r < h.length && less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
    return top.item;
  }
}

function less<T>(a: Slot<T>, b: Slot<T>): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}
