// The queue of messages waiting to be piggybacked (memberlist queue.go's
// TransmitLimitedQueue, SWIM §4.1 infection-style dissemination).
//
// Order: fewest transmissions first (news travels before old news), then the
// largest first (small ones fill the gaps), then the newest first. take()
// walks that order once and keeps every message that still fits the byte
// budget; each one taken counts a transmission and leaves the queue once it
// has been sent retransmitLimit(mult, n) times. A message with a key
// replaces any queued message with the same key (a newer statement about the
// same member makes the older one worthless).
//
// Inside, one "tier" per transmit count; a tier keeps its messages in
// buckets by size (membership messages come in a handful of sizes), each
// bucket ordered by id, and a sorted list of the sizes present. Taking the
// next message is then a binary search over a few sizes and a pop.
// test/unit/gossip/swim/broadcast-queue.test.ts holds it to a naive
// sort-everything twin.
import type { SimpleMessage } from './messages.js';

/** How many times a broadcast is sent in a cluster of n members: mult · ceil(log10(n + 1)). */
export function retransmitLimit(mult: number, n: number): number {
  return mult * Math.ceil(Math.log10(n + 1));
}

interface Entry {
  msg: SimpleMessage;
  size: number;
  key: string | undefined;
  transmits: number;
  id: number;
  onFinished: (() => void) | undefined;
}

/** What a test may look at: one queued message. */
export interface QueuedView {
  msg: SimpleMessage;
  size: number;
  key: string | undefined;
  transmits: number;
  id: number;
}

interface Tier {
  /** Sizes with a non-empty bucket, ascending. */
  sizes: number[];
  /** buckets[size]: the entries of that size, ascending by id (the newest at the end). */
  buckets: (Entry[] | undefined)[];
}

export class BroadcastQueue {
  #tiers: Tier[] = [];
  #byKey = new Map<string, Entry>();
  #count = 0;
  #idGen = 0;

  get size(): number {
    return this.#count;
  }

  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /**
   * Queue msg of `size` encoded bytes. A key replaces the queued message with
   * the same key; onFinished runs once the message leaves the queue (sent
   * often enough, or replaced).
   */
  push(msg: SimpleMessage, size: number, key?: string, onFinished?: () => void): void {
    if (key !== undefined) {
      const old = this.#byKey.get(key);
      if (old !== undefined) {
        this.#remove(old);
        old.onFinished?.();
      }
    }
    const e: Entry = { msg, size, key, transmits: 0, id: ++this.#idGen, onFinished };
    if (key !== undefined) this.#byKey.set(key, e);
    this.#insert(e);
  }

  /**
   * Take messages for one datagram: each costs overheadBytes + its size, all
   * together at most limitBytes, at most maxCount of them. Each taken message
   * counts a transmission; those sent transmitLimit times leave the queue.
   */
  take(overheadBytes: number, limitBytes: number, transmitLimit: number, maxCount = Infinity): SimpleMessage[] {
    const out: SimpleMessage[] = [];
    if (this.#count === 0) return out;
    let used = 0;
    const bumped: Entry[] = [];
    for (let t = 0; t < this.#tiers.length && out.length < maxCount; t++) {
      const tier = this.#tiers[t]!;
      while (tier.sizes.length > 0 && out.length < maxCount) {
        const free = limitBytes - used - overheadBytes;
        if (free <= 0) break;
        const si = lastAtMost(tier.sizes, free);
        if (si < 0) break;
        const size = tier.sizes[si]!;
        const bucket = tier.buckets[size]!;
        const e = bucket.pop()!;
        if (bucket.length === 0) {
          tier.buckets[size] = undefined;
          tier.sizes.splice(si, 1);
        }
        this.#count--;
        used += overheadBytes + e.size;
        out.push(e.msg);
        e.transmits++;
        if (e.transmits >= transmitLimit) {
          if (e.key !== undefined) this.#byKey.delete(e.key);
          e.onFinished?.();
        } else {
          bumped.push(e);
        }
      }
    }
    // Re-tier after the walk, or a message could be taken twice in one datagram.
    for (const e of bumped) this.#insert(e);
    return out;
  }

  /** Every queued message in take() order (tests). */
  orderedView(): QueuedView[] {
    const out: QueuedView[] = [];
    for (const tier of this.#tiers) {
      for (let s = tier.sizes.length - 1; s >= 0; s--) {
        const bucket = tier.buckets[tier.sizes[s]!]!;
        for (let i = bucket.length - 1; i >= 0; i--) {
          const e = bucket[i]!;
          out.push({ msg: e.msg, size: e.size, key: e.key, transmits: e.transmits, id: e.id });
        }
      }
    }
    return out;
  }

  #insert(e: Entry): void {
    while (this.#tiers.length <= e.transmits) this.#tiers.push({ sizes: [], buckets: [] });
    const tier = this.#tiers[e.transmits]!;
    let bucket = tier.buckets[e.size];
    if (bucket === undefined) {
      bucket = [];
      tier.buckets[e.size] = bucket;
      tier.sizes.splice(lastAtMost(tier.sizes, e.size) + 1, 0, e.size);
    }
    const at = idPosition(bucket, e.id);
    if (at === bucket.length) bucket.push(e);
    else bucket.splice(at, 0, e);
    this.#count++;
  }

  #remove(e: Entry): void {
    const tier = this.#tiers[e.transmits]!;
    const bucket = tier.buckets[e.size]!;
    const at = idPosition(bucket, e.id);
    if (bucket[at] !== e) throw new Error('BroadcastQueue: entry not found where its order puts it');
    bucket.splice(at, 1);
    if (bucket.length === 0) {
      tier.buckets[e.size] = undefined;
      tier.sizes.splice(lastAtMost(tier.sizes, e.size), 1);
    }
    this.#count--;
    if (e.key !== undefined && this.#byKey.get(e.key) === e) this.#byKey.delete(e.key);
  }
}

/** Index of the last value of an ascending array that is at most x; -1 if none. */
function lastAtMost(a: number[], x: number): number {
  const last = a.length - 1;
  if (last >= 0 && a[last]! <= x) return last;
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Where id sits (or would sit) in a bucket ascending by id. */
function idPosition(bucket: Entry[], id: number): number {
  const last = bucket.length - 1;
  if (last < 0 || bucket[last]!.id < id) return bucket.length;
  let lo = 0;
  let hi = bucket.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bucket[mid]!.id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
