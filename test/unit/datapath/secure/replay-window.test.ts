// The anti-replay window (agent/datapath/secure/replay-window.ts, RFC 6479):
// its edges by hand, then the dumb twin (STYLE habit 5): a Set of every
// counter ever accepted and the maximum, which says "accept iff below the
// limit, never seen, and newer than the maximum or at most 8160 behind it",
// run against the ring on seeded random sequences of 100k operations.
import { suite, is, ok, throws } from '../../../harness.js';
import { seededRand, type Rand } from '../../../../shared/rand.js';
import { REPLAY_RING_BITS, REPLAY_WINDOW, ReplayWindow } from '../../../../agent/datapath/secure/replay-window.js';
import { SEED } from './fixture.js';

const t = suite('secure replay window');

class NaiveWindow {
  readonly seen = new Set<number>();
  max = -1;
  constructor(readonly limit: number) {}
  accept(c: number): boolean {
    if (!(c >= 0 && c < this.limit) || this.seen.has(c)) return false;
    if (this.max >= 0 && c < this.max && this.max - c > REPLAY_WINDOW) return false;
    this.seen.add(c);
    this.max = Math.max(this.max, c);
    return true;
  }
}

t('RFC 6479 §2: 8192 bits in 32-bit blocks, one block recycled, so 8160 behind', () => {
  is(REPLAY_RING_BITS, 8192);
  is(REPLAY_WINDOW, 8192 - 32);
});

t('each counter once; 0 is a counter like any other', () => {
  const w = new ReplayWindow(2 ** 28);
  ok(w.check(0));
  ok(w.accept(0));
  ok(!w.accept(0), 'replayed 0');
  ok(w.accept(2));
  ok(w.accept(1), 'reordered within the window');
  ok(!w.accept(1));
  ok(!w.accept(2));
  is(w.newest, 2);
});

t('the window edge: exactly 8160 behind is in, 8161 is out; check() changes nothing', () => {
  const w = new ReplayWindow(2 ** 28);
  ok(w.accept(10_000));
  ok(w.check(10_000 - REPLAY_WINDOW));
  ok(w.check(10_000 - REPLAY_WINDOW));
  ok(!w.check(10_000 - REPLAY_WINDOW - 1));
  ok(w.accept(10_000 - REPLAY_WINDOW));
  ok(!w.accept(10_000 - REPLAY_WINDOW - 1));
  ok(!w.accept(10_000 - REPLAY_WINDOW), 'accepted once');
});

t('a jump past the whole ring clears it; the limit and junk are refused', () => {
  const w = new ReplayWindow(1000_000);
  for (let i = 0; i < 100; i++) ok(w.accept(i));
  ok(w.accept(500_000));
  ok(!w.accept(99), 'far behind');
  ok(w.accept(500_000 - 8000), 'a never-seen counter whose old block was recycled');
  ok(!w.accept(1000_000), 'at the limit');
  ok(w.accept(999_999));
  ok(!w.check(-1));
  ok(!w.check(Number.NaN));
  w.reset();
  is(w.newest, 0);
  ok(w.accept(0));
  throws(() => new ReplayWindow(0), /ReplayWindow: limit must be a positive safe integer, got 0/);
});

function runTwin(rand: Rand, ops: number, limit: number): number {
  const ring = new ReplayWindow(limit);
  const twin = new NaiveWindow(limit);
  let top = 0;
  let accepted = 0;
  for (let i = 0; i < ops; i++) {
    const k = rand.int(100);
    let c: number;
    if (k < 50) c = top + rand.int(4); // mostly in order, some duplicates
    else if (k < 70) c = Math.max(0, top - rand.int(REPLAY_WINDOW + 64)); // reordered, around the edge
    else if (k < 80) c = Math.max(0, top - REPLAY_WINDOW - 2 + rand.int(4)); // right at the edge
    else if (k < 88) c = top + rand.int(40_000); // a jump, sometimes past the whole ring
    else if (k < 95) c = Math.max(0, top - rand.int(100)); // replays of recent ones
    else if (i > ops - 1000) c = limit - 3 + rand.int(6); // around the limit, at the end (it moves the window there)
    else c = top + 1;
    const want = twin.accept(c);
    const checked = ring.check(c);
    const got = ring.accept(c);
    if (got !== want || checked !== want) throw new Error(`op ${i}: counter ${c} (newest ${twin.max}): ring ${got} (check ${checked}), twin ${want}`);
    if (got) accepted++;
    top = Math.min(limit - 1, Math.max(top, c));
  }
  return accepted;
}

t('the ring against the twin: 100k seeded random operations per sequence', () => {
  for (let s = 0; s < 4; s++) {
    const seed = SEED + s;
    const limit = s === 3 ? 300_000 : 2 ** 28;
    try {
      const n = runTwin(seededRand(seed), 100_000, limit);
      ok(n > (limit < 2 ** 28 ? 100 : 10_000), `a healthy share accepted (${n})`);
    } catch (e) {
      throw new Error(`seed ${seed}: ${(e as Error).message}`);
    }
  }
});

t.run();
