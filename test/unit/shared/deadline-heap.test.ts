// The shared deadline heap against a dumb twin (STYLE habit 5): a list kept
// sorted by (deadline, push order), over seeded random pushes and pops.
import { suite, is, equal } from '../../harness.js';
import { seededRand } from '../../../shared/rand.js';
import { DeadlineHeap } from '../../../shared/deadline-heap.js';

const t = suite('deadline heap');

t('pops in (deadline, push order) like a sorted list, ties included, over random runs', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const r = seededRand(seed);
    const heap = new DeadlineHeap<number>();
    const twin: { at: number; n: number }[] = [];
    for (let n = 0; n < 400; n++) {
      if (twin.length > 0 && r.float() < 0.4) {
        twin.sort((a, b) => a.at - b.at || a.n - b.n);
        const want = twin.shift()!;
        is(heap.peekMs(), want.at, `seed ${seed}`);
        is(heap.pop(), want.n, `seed ${seed}`);
      } else {
        const at = r.int(20); // few distinct deadlines: many ties
        heap.push(at, n);
        twin.push({ at, n });
      }
      is(heap.size, twin.length);
    }
    equal([...heap.values()].sort((a, b) => a - b), twin.map((x) => x.n).sort((a, b) => a - b));
  }
});

t('empty: peekMs is Infinity, pop and peek give undefined', () => {
  const h = new DeadlineHeap<string>();
  is(h.peekMs(), Infinity);
  is(h.pop(), undefined);
  is(h.peek(), undefined);
});

t.run();
