import { suite, equal, is, ok } from '../../harness.js';
import { ManualClock, realClock } from '../../../shared/clock.js';

const t = suite('clock');

t('manual clock fires timers in due order, ties in set order', () => {
  const c = new ManualClock();
  const fired: string[] = [];
  c.after(20, () => fired.push('b'));
  c.after(10, () => fired.push('a'));
  c.after(20, () => fired.push('c'));
  const cancelled = c.after(15, () => fired.push('never'));
  cancelled.cancel();
  is(c.pending(), 3);
  c.advance(19);
  equal(fired, ['a']);
  is(c.nowMs(), 19);
  c.advance(1);
  equal(fired, ['a', 'b', 'c']);
  is(c.pending(), 0);
});

t('manual clock: a timer set from a timer fires in the same advance when due', () => {
  const c = new ManualClock(100);
  const at: number[] = [];
  c.after(5, () => {
    at.push(c.nowMs());
    c.after(5, () => at.push(c.nowMs()));
  });
  c.advance(10);
  equal(at, [105, 110]);
  is(c.runNext(), false);
});

t('manual clock runNext jumps to the next due time; wall time follows', () => {
  const c = new ManualClock(0, 1000);
  c.after(500, () => {});
  ok(c.runNext());
  is(c.nowMs(), 500);
  is(c.wallMs(), 1500);
  is(c.nextDueMs(), undefined);
});

t('manual clock matches a naive sorted-list twin on random schedules', async () => {
  const { seededRand } = await import('../../../shared/rand.js');
  for (let seed = 1; seed <= 50; seed++) {
    const r = seededRand(seed);
    const c = new ManualClock();
    const fired: number[] = [];
    const twin: { at: number; id: number; dead: boolean }[] = [];
    const timers = [];
    for (let id = 0; id < 40; id++) {
      const at = r.int(100);
      timers.push(c.after(at, () => fired.push(id)));
      twin.push({ at, id, dead: false });
    }
    for (let k = 0; k < 10; k++) {
      const id = r.int(40);
      timers[id]!.cancel();
      twin[id]!.dead = true;
    }
    c.runAll();
    const expect = twin.filter((x) => !x.dead).sort((a, b) => a.at - b.at || a.id - b.id).map((x) => x.id);
    equal(fired, expect, `seed ${seed}`);
  }
});

t('real clock fires and cancels', async () => {
  const c = realClock();
  let n = 0;
  const t0 = c.nowMs();
  await new Promise<void>((resolve) => c.after(5, () => { n++; resolve(); }));
  c.after(1, () => n++).cancel();
  is(n, 1);
  ok(c.nowMs() - t0 >= 4);
});

t.run();
