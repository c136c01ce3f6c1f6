// The piggyback queue (broadcast-queue.ts) against a dumb twin (STYLE habit
// 5): the twin keeps one flat list, sorts all of it by (transmits asc, size
// desc, id desc) before every take and keeps, in one pass, each message that
// still fits. The real queue's tiers of size buckets must choose exactly the
// same messages in the same order and leave the same queue behind.
import { suite, equal, is, ok } from '../../../harness.js';
import { BroadcastQueue, retransmitLimit } from '../../../../agent/gossip/swim/broadcast-queue.js';
import type { SimpleMessage } from '../../../../agent/gossip/swim/index.js';
import { seededRand } from '../../../../shared/rand.js';

const t = suite('swim broadcast queue');

interface TwinEntry {
  msg: SimpleMessage;
  size: number;
  key: string | undefined;
  transmits: number;
  id: number;
}

class TwinQueue {
  list: TwinEntry[] = [];
  id = 0;
  finished: SimpleMessage[] = [];
  push(msg: SimpleMessage, size: number, key?: string): void {
    if (key !== undefined) {
      const old = this.list.find((e) => e.key === key);
      if (old !== undefined) {
        this.list = this.list.filter((e) => e !== old);
        this.finished.push(old.msg);
      }
    }
    this.list.push({ msg, size, key, transmits: 0, id: ++this.id });
  }
  sorted(): TwinEntry[] {
    return [...this.list].sort((a, b) => a.transmits - b.transmits || b.size - a.size || b.id - a.id);
  }
  take(overhead: number, limit: number, transmitLimit: number, maxCount = Infinity): SimpleMessage[] {
    let used = 0;
    const out: SimpleMessage[] = [];
    for (const e of this.sorted()) {
      if (out.length >= maxCount) break;
      if (e.size > limit - used - overhead) continue;
      used += overhead + e.size;
      out.push(e.msg);
      e.transmits++;
      if (e.transmits >= transmitLimit) {
        this.list = this.list.filter((x) => x !== e);
        this.finished.push(e.msg);
      }
    }
    return out;
  }
}

t('retransmitLimit is mult · ceil(log10(n + 1))', () => {
  equal(
    [1, 9, 10, 99, 100, 999, 1000].map((n) => retransmitLimit(4, n)),
    [4, 4, 8, 8, 12, 12, 16],
  );
});

t('order: fewest transmissions, then largest, then newest; a key replaces its older message', () => {
  const q = new BroadcastQueue();
  const m = (seq: number): SimpleMessage => ({ type: 'ack', seq });
  q.push(m(1), 10);
  q.push(m(2), 30);
  q.push(m(3), 10);
  q.push(m(4), 20, 'k');
  equal(q.orderedView().map((v) => (v.msg as { seq: number }).seq), [2, 4, 3, 1]);
  const finished: number[] = [];
  q.push(m(5), 5, 'k', () => finished.push(5));
  equal(q.orderedView().map((v) => (v.msg as { seq: number }).seq), [2, 3, 1, 5]);
  // One datagram of 40 bytes with 2 bytes per message: 30 fits, then nothing but the 5.
  equal(q.take(2, 40, 3).map((x) => (x as { seq: number }).seq), [2, 5]);
  equal(q.orderedView().map((v) => [(v.msg as { seq: number }).seq, v.transmits]), [[3, 0], [1, 0], [2, 1], [5, 1]]);
  // A limit of 2: the second send finishes the keyed message.
  q.take(2, 1000, 2);
  equal(finished, [5]);
  ok(!q.has('k'));
  is(q.size, 2);
});

t('a message is never taken twice for one datagram', () => {
  const q = new BroadcastQueue();
  q.push({ type: 'ack', seq: 1 }, 4);
  equal(q.take(2, 1000, 10).length, 1);
});

t('randomized: the tiered queue and the dumb twin agree (300 seeds × 200 operations)', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const r = seededRand(seed);
    const q = new BroadcastQueue();
    const twin = new TwinQueue();
    const finished: SimpleMessage[] = [];
    let seq = 0;
    for (let op = 0; op < 200; op++) {
      if (r.int(3) > 0) {
        const msg: SimpleMessage = { type: 'ack', seq: ++seq };
        // Few distinct sizes and keys, so ties and replacements happen often.
        const size = 5 + r.int(6) * (r.int(4) === 0 ? 40 : 1);
        const key = r.int(2) === 0 ? `k${r.int(8)}` : undefined;
        q.push(msg, size, key, () => finished.push(msg));
        twin.push(msg, size, key);
      } else {
        const overhead = r.int(3);
        const limit = 20 + r.int(400);
        const transmitLimit = 1 + r.int(5);
        const maxCount = r.int(4) === 0 ? 1 + r.int(3) : Infinity;
        equal(q.take(overhead, limit, transmitLimit, maxCount), twin.take(overhead, limit, transmitLimit, maxCount), `seed ${seed} op ${op}`);
      }
      equal(
        q.orderedView().map((v) => [v.msg, v.transmits]),
        twin.sorted().map((e) => [e.msg, e.transmits]),
        `seed ${seed} op ${op}`,
      );
      is(q.size, twin.list.length);
    }
    equal(finished, twin.finished, `seed ${seed}: finished callbacks`);
  }
});

t.run();
