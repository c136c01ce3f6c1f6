// Suspicion timing (Lifeguard "Local Health Aware Suspicion", memberlist
// suspicion.go) to the millisecond: the minimum and maximum timeouts, the
// shrink with independent confirmations, and our verification of hearsay
// suspicions before they become deaths.
import { suite, equal, is, ok } from '../../../harness.js';
import { lanConfig, suspicionMinMs, suspicionTimeoutMs, type SwimMessage } from '../../../../agent/gossip/swim/index.js';
import { Suspicion } from '../../../../agent/gossip/swim/suspicion.js';
import { cluster, parts, type SwimNet, type Wire } from './swim-net.js';

const t = suite('swim suspicion');

t('minimum timeout: suspicionMult · max(1, log10 N) · probeIntervalMs (log term to thousandths)', () => {
  equal(
    [1, 3, 10, 11, 50, 100, 1000].map((n) => suspicionMinMs(4, n, 1_000)),
    [4_000, 4_000, 4_000, 4_164, 6_792, 8_000, 12_000],
  );
});

t('timeout after c of k confirmations: max shrunk by log(c + 1) / log(k + 1), never below min', () => {
  // 11 members: min 4164, max 6 × 4164 = 24984, k = 2.
  equal([0, 1, 2, 3].map((c) => suspicionTimeoutMs(c, 2, 4_164, 24_984)), [24_984, 11_848, 4_164, 4_164]);
  is(suspicionTimeoutMs(0, 0, 4_164, 24_984), 4_164, 'k = 0: nobody to confirm, the minimum at once');
});

t('Suspicion: the first accuser and repeated accusers do not count; the deadline only moves earlier', () => {
  const s = new Suspicion('a', 2, 4_164, 24_984, 1_000);
  is(s.deadlineMs, 25_984);
  is(s.confirm('a'), false);
  is(s.confirm('c'), true);
  is(s.deadlineMs, 1_000 + 11_848);
  is(s.confirm('c'), false);
  is(s.confirm('d'), true);
  is(s.deadlineMs, 1_000 + 4_164);
  is(s.confirm('e'), false, 'k reached: no more news');
  is(new Suspicion('a', 0, 4_000, 24_000, 0).deadlineMs, 4_000);
});

const NAMES = 'abcdefghijk'.split(''); // 11 members: min 4164 ms, max 24984 ms, k = 2
// Health pinned at 0 (a multiplier of at most 1), so every round lasts exactly 1 s here; awareness has its own tests.
const CFG = { ...lanConfig(), awarenessMaxMultiplier: 1 };

/** a probes someone, who from then on is silent; only a's timers run. Returns the silent one's name and when a suspected it. */
function silenceFirstTarget(net: SwimNet): { x: string; t1: number; keep: (w: Wire) => boolean } {
  const ping = net.until('a', (w) => parts(w).some((m) => m.type === 'ping'));
  const t0 = net.now;
  const x = [...net.nodes].find(([, n]) => n.addr === ping.to)![0];
  const xa = ping.to;
  const keep = (w: Wire) => w.to !== xa && w.from !== xa;
  net.deliver(keep);
  net.run(t0 + 1_000, { tick: ['a'], keep });
  equal(net.seen('a', x), [`suspect:${x}@0`]);
  return { x, t1: t0 + 1_000, keep };
}

/** Run a alone until it declares x dead; returns when, and when it sent its last ping to x before that. */
function untilDead(net: SwimNet, x: string, keep: (w: Wire) => boolean, limit: number): { deadAt: number; lastPingToX: number } {
  const a = net.node('a');
  const xa = net.node(x).addr;
  let deadAt = -1;
  let lastPingToX = -1;
  net.run(limit, {
    tick: ['a'],
    keep: (w) => {
      if (deadAt < 0 && w.from === a.addr && w.to === xa && parts(w).some((m) => m.type === 'ping')) lastPingToX = net.now;
      return keep(w);
    },
    after: () => {
      if (deadAt < 0 && a.member(x)!.state === 'dead') deadAt = net.now;
    },
  });
  return { deadAt, lastPingToX };
}

t('suspect -> dead, to the millisecond: own probe fails at t1; deadline t1 + max; one verification round; dead', () => {
  const net = cluster(NAMES, CFG);
  const { x, t1, keep } = silenceFirstTarget(net);
  const a = net.node('a');
  is(a.suspicionDeadlineMs(x), t1 + 24_984);
  net.run(t1 + 24_984, { tick: ['a'], keep });
  is(a.member(x)!.state, 'suspect', 'at the deadline: suspect still, a verification probe is due');
  // a's rounds start every 1000 ms from t1: the next one, at t1 + 25000, probes x; it fails at t1 + 26000.
  const r = untilDead(net, x, keep, t1 + 30_000);
  is(r.lastPingToX, t1 + 25_000);
  is(r.deadAt, t1 + 26_000);
  equal(net.seen('a', x), [`suspect:${x}@0`, `dead:${x}@0`]);
  is(a.aliveCount(), 10);
  is(a.stats().verifications, 1);
});

t('independent confirmations shorten it: one at t1 + 2 s -> deadline t1 + 11848; a second -> t1 + 4164, dead then', () => {
  const net = cluster(NAMES, CFG);
  const { x, t1, keep } = silenceFirstTarget(net);
  const a = net.node('a');
  const suspect = (from: string): SwimMessage => ({ type: 'suspect', incarnation: 0, node: x, from });
  net.run(t1 + 2_000, { tick: ['a'], keep });
  a.receivePacket(net.node('c').addr, suspect('a'), net.now); // the first accuser: not a confirmation
  is(a.suspicionDeadlineMs(x), t1 + 24_984);
  a.receivePacket(net.node('c').addr, suspect('c'), net.now);
  is(a.suspicionDeadlineMs(x), t1 + 11_848);
  a.receivePacket(net.node('d').addr, suspect('c'), net.now); // c again, relayed by d
  is(a.suspicionDeadlineMs(x), t1 + 11_848);
  a.receivePacket(net.node('d').addr, suspect('d'), net.now);
  is(a.suspicionDeadlineMs(x), t1 + 4_164);
  // With all k confirmations the evidence is strong: dead at the deadline itself, no verification round.
  net.run(t1 + 4_163, { tick: ['a'], keep });
  is(a.member(x)!.state, 'suspect');
  net.run(t1 + 4_164, { tick: ['a'], keep });
  is(a.member(x)!.state, 'dead');
  is(a.stats().verifications, 0);
});

t('one confirmation of two is not enough evidence: at t1 + 11848 the suspect gets a verification round first', () => {
  const net = cluster(NAMES, CFG);
  const { x, t1, keep } = silenceFirstTarget(net);
  const a = net.node('a');
  net.run(t1 + 2_000, { tick: ['a'], keep });
  a.receivePacket(net.node('c').addr, { type: 'suspect', incarnation: 0, node: x, from: 'c' }, net.now);
  is(a.suspicionDeadlineMs(x), t1 + 11_848);
  // Deadline at t1 + 11848; the verification round starts at t1 + 12000 and fails at t1 + 13000.
  const r = untilDead(net, x, keep, t1 + 20_000);
  is(r.lastPingToX, t1 + 12_000);
  is(r.deadAt, t1 + 13_000);
  is(a.stats().verifications, 1);
});

t('a new confirmation is passed on with its own accuser, so others can count it too', () => {
  const net = cluster(NAMES, CFG);
  const { x } = silenceFirstTarget(net);
  const a = net.node('a');
  net.packets = [];
  a.receivePacket(net.node('c').addr, { type: 'suspect', incarnation: 0, node: x, from: 'c' }, net.now);
  const sent = net.until('a', (w) => parts(w).some((m) => m.type === 'suspect' && m.from === 'c'));
  equal(
    parts(sent).filter((m) => m.type === 'suspect'),
    [{ type: 'suspect', incarnation: 0, node: x, from: 'c' }],
  );
});

/** b hears (only hears) that x is suspect at t0, then sleeps through the whole suspicion: no own probe of x. */
function hearsay(net: SwimNet, x: string): { t0: number } {
  const b = net.node('b');
  const t0 = 10_000;
  net.now = t0;
  net.packets = [];
  b.receivePacket(net.node('a').addr, { type: 'suspect', incarnation: 0, node: x, from: 'a' }, t0);
  is(b.suspicionDeadlineMs(x), t0 + 24_984);
  net.now = t0 + 24_984;
  b.tick(net.now);
  net.collect();
  net.packets = net.packets.filter((w) => !parts(w).some((m) => m.type === 'ping'));
  is(b.member(x)!.state, 'suspect', 'hearsay alone does not kill');
  return { t0 };
}

t('hearsay is verified: past its deadline a bystander probes the suspect, and declares it dead only when that probe fails', () => {
  const net = cluster(NAMES, CFG);
  const b = net.node('b');
  const x = 'k';
  const xa = net.node(x).addr;
  hearsay(net, x);
  let start = -1;
  let deadAt = -1;
  const keep = (w: Wire) => {
    if (start < 0 && w.from === b.addr && w.to === xa && parts(w).some((m) => m.type === 'ping')) {
      start = net.now;
      // Lifeguard buddy system: the probe of a suspect carries the suspicion.
      equal(parts(w).filter((m) => m.type === 'suspect'), [{ type: 'suspect', incarnation: 0, node: x, from: 'b' }]);
    }
    return w.to !== xa && w.from !== xa;
  };
  net.run(net.now + 5_000, {
    tick: ['b'],
    keep,
    after: () => {
      if (deadAt < 0 && b.member(x)!.state === 'dead') deadAt = net.now;
    },
  });
  ok(start > 0, 'b probed x');
  is(deadAt - start, 1_000, 'dead when the verification round ends unanswered');
  equal(net.seen('b', x), [`suspect:${x}@0`, `dead:${x}@0`]);
});

t('hearsay about a live node: the verification probe is answered with its refutation, nobody dies', () => {
  const net = cluster(NAMES, CFG);
  const b = net.node('b');
  const x = 'k';
  const xa = net.node(x).addr;
  hearsay(net, x);
  // Only b's pings reach x: the refutation can only come back on the ack.
  net.run(net.now + 5_000, { tick: ['b'], keep: (w) => w.to !== xa || parts(w).some((m) => m.type === 'ping') });
  is(b.member(x)!.state, 'alive');
  is(b.member(x)!.incarnation, 1);
  is(net.node(x).incarnation, 1);
  equal(net.seen('b', x), [`suspect:${x}@0`, `alive:${x}@1`]);
});

t.run();
