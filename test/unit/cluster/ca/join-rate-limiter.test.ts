// Failed join attempts per source, over a ManualClock.
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { ManualClock } from '../../../../shared/clock.js';
import { seededRand } from '../../../../shared/rand.js';
import { JoinRateLimiter, defaultJoinRateLimiterConfig } from '../../../../agent/cluster/ca/join-rate-limiter.js';

const t = suite('join rate limiter');
const A = '10.0.0.1';
const B = '10.0.0.2';

t('defaults: 5 failures at once, then one per 12 s, with a clear refusal', () => {
  const clock = new ManualClock();
  const lim = new JoinRateLimiter(clock);
  equal(defaultJoinRateLimiterConfig(), { burstFailures: 5, refillIntervalMs: 12_000, maxSources: 10_000 });
  for (let i = 0; i < 5; i++) {
    ok(lim.check(A).ok, `attempt ${i + 1}`);
    lim.recordFailure(A);
  }
  equal(lim.check(A), { ok: false, retryAfterMs: 12_000, message: 'too many failed join attempts from 10.0.0.1; retry in 12 s' });
  ok(lim.check(B).ok, 'another source is not affected');
  clock.advance(5_000);
  equal(lim.check(A), { ok: false, retryAfterMs: 7_000, message: 'too many failed join attempts from 10.0.0.1; retry in 7 s' });
  clock.advance(6_500);
  const d = lim.check(A);
  ok(!d.ok && d.retryAfterMs === 500 && d.message.endsWith('retry in 1 s'));
  clock.advance(500);
  ok(lim.check(A).ok);
  lim.recordFailure(A);
  ok(!lim.check(A).ok, 'one refill allows exactly one more failure');
  clock.advance(60_000);
  for (let i = 0; i < 5; i++) {
    ok(lim.check(A).ok);
    lim.recordFailure(A);
  }
  ok(!lim.check(A).ok, 'the burst never grows beyond 5');
});

t('checks alone cost nothing: a source with a valid token is never slowed', () => {
  const lim = new JoinRateLimiter(new ManualClock());
  for (let i = 0; i < 1000; i++) ok(lim.check(A).ok);
  is(lim.size(), 0);
});

t('memory: refilled sources are forgotten, and at most maxSources are kept (least recently seen goes)', () => {
  const clock = new ManualClock();
  const lim = new JoinRateLimiter(clock, { burstFailures: 2, refillIntervalMs: 1_000, maxSources: 3 });
  for (const s of ['a', 'b', 'c', 'd']) lim.recordFailure(s);
  is(lim.size(), 3);
  lim.recordFailure('b');
  lim.recordFailure('e'); // drops c, the least recently seen
  lim.recordFailure('b');
  ok(!lim.check('b').ok, 'a source still failing is remembered');
  clock.advance(2_000);
  for (const s of ['a', 'b', 'c', 'd', 'e']) ok(lim.check(s).ok);
  is(lim.size(), 0);
});

t('config validation names the knob', () => {
  const c = new ManualClock();
  throws(() => new JoinRateLimiter(c, { ...defaultJoinRateLimiterConfig(), burstFailures: 0 }), /JoinRateLimiter: burstFailures must be a positive integer, got 0/);
  throws(() => new JoinRateLimiter(c, { ...defaultJoinRateLimiterConfig(), refillIntervalMs: 0.5 }), /refillIntervalMs must be a positive integer, got 0.5/);
});

t('invariant under seeded random traffic: failures admitted in any window <= burst + window / refill', () => {
  const seed = 777;
  const r = seededRand(seed);
  const clock = new ManualClock();
  const cfg = { burstFailures: 5, refillIntervalMs: 12_000, maxSources: 100 };
  const lim = new JoinRateLimiter(clock, cfg);
  const admitted = new Map<string, number[]>();
  for (let step = 0; step < 20_000; step++) {
    clock.advance(r.int(4_000));
    const src = `10.0.0.${r.int(4)}`;
    if (lim.check(src).ok) {
      lim.recordFailure(src);
      const list = admitted.get(src) ?? [];
      list.push(clock.nowMs());
      admitted.set(src, list);
    }
  }
  for (const [src, times] of admitted) {
    for (let i = 0; i < times.length; i++) {
      for (let j = i; j < times.length && j < i + 40; j++) {
        const bound = cfg.burstFailures + (times[j]! - times[i]!) / cfg.refillIntervalMs;
        ok(j - i + 1 <= bound + 1e-9, `seed ${seed}: ${src} admitted ${j - i + 1} failures in ${times[j]! - times[i]!} ms`);
      }
    }
    ok(times.length > 100, `${src} was admitted ${times.length} times: the limiter must not starve`);
  }
});

t.run();
