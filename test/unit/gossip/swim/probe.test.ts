// Failure detection scenarios (SWIM §3.1, Lifeguard): a direct probe and
// its ack, a probe saved by ping-req helpers, and how local health moves.
// Time and every delivery are driven by hand; lanConfig numbers throughout.
import { suite, equal, is, ok } from '../../../harness.js';
import { cluster, parts, type Wire } from './swim-net.js';

const t = suite('swim probe');

const isPing = (w: Wire) => parts(w).some((m) => m.type === 'ping');
const has = (type: string) => (w: Wire) => parts(w).some((m) => m.type === type);

t('probe -> ack: the target answers, the round ends with nobody suspected', () => {
  const net = cluster(['a', 'b']);
  const ping = net.until('a', isPing);
  const t0 = net.now;
  is(ping.to, net.node('b').addr);
  net.deliver();
  equal(net.node('a').stats().probes, 1);
  // The round lasts one probe interval; nothing goes wrong at its end.
  net.run(t0 + 1_000, { tick: ['a'] });
  const a = net.node('a');
  is(a.stats().probeFailures, 0);
  is(a.stats().indirectProbes, 0);
  is(a.member('b')!.state, 'alive');
  is(a.healthScore, 0);
  equal(net.seen('a'), []);
});

t('indirect probe: the direct ping is lost, a ping-req helper relays the ack (probeTimeoutMs = 500)', () => {
  const net = cluster(['a', 'b', 'c', 'd']);
  const ping = net.until('a', isPing);
  const t0 = net.now;
  const target = ping.to;
  // Lose only a's direct ping.
  net.deliver((w) => w !== ping);
  net.run(t0 + 499, { tick: ['a'] });
  equal(net.packets.filter(has('ping-req')), []);
  net.run(t0 + 500, { tick: ['a'], keep: () => true });
  const a = net.node('a');
  is(a.stats().indirectProbes, 1);
  net.run(t0 + 1_000, { tick: ['a'] });
  is(a.stats().probeFailures, 0);
  is(a.member([...net.nodes.entries()].find(([, n]) => n.addr === target)![0])!.state, 'alive');
  equal(net.seen('a'), []);
});

t('the ping-reqs: nack wanted, one to each of up to indirectChecks alive members, never the target', () => {
  const net = cluster(['a', 'b', 'c', 'd', 'e', 'f']);
  const ping = net.until('a', isPing);
  const t0 = net.now;
  net.packets = [];
  const a = net.node('a');
  a.tick(t0 + 500);
  const reqs = a
    .drain()
    .packets.flatMap((p) => parts({ from: a.addr, to: p.to, msg: p.msg }).map((m) => ({ to: p.to, m })))
    .filter((x) => x.m.type === 'ping-req');
  is(reqs.length, 3);
  ok(reqs.every((r) => r.to !== ping.to));
  is(new Set(reqs.map((r) => r.to)).size, 3);
  for (const { m } of reqs) equal(m.type === 'ping-req' && [m.nack, m.targetAddr], [true, ping.to]);
});

t('awareness: a failed probe with every nack back leaves health at 0 (the target is the problem)', () => {
  const net = cluster(['a', 'b', 'c', 'd', 'e']);
  const ping = net.until('a', isPing);
  const t0 = net.now;
  const silent = ping.to;
  // The target hears nothing and says nothing; everyone else is fine and ticks (relays send nacks).
  const keep = (w: Wire) => w.to !== silent && w.from !== silent;
  net.deliver(keep);
  net.run(t0 + 1_000, { keep });
  const a = net.node('a');
  is(a.stats().probeFailures, 1);
  is(a.stats().nacksIn, 3);
  is(a.healthScore, 0);
});

t('awareness: nacks missing means our own links are bad: health rises by the missing count and stretches the next round', () => {
  const net = cluster(['a', 'b', 'c', 'd', 'e']);
  const ping = net.until('a', isPing);
  const t0 = net.now;
  const a = net.node('a');
  // a is cut off: nothing it sends arrives.
  const keep = (w: Wire) => w.from !== a.addr;
  net.deliver(keep);
  net.run(t0 + 1_000, { tick: ['a'], keep });
  is(a.stats().probeFailures, 1);
  is(a.healthScore, 3, 'three ping-reqs sent, no nack back');
  // The next round started at t0 + 1000 and now lasts (3 + 1) × 1000 ms; its
  // ack wait is (3 + 1) × 500 ms, so its ping-reqs leave at t0 + 3000, not t0 + 1500.
  net.packets = [];
  net.run(t0 + 2_999, { tick: ['a'], keep: () => false });
  const before = a.stats().indirectProbes;
  a.tick(t0 + 3_000);
  ok(a.drain().packets.some((p) => parts({ from: a.addr, to: p.to, msg: p.msg }).some((m) => m.type === 'ping-req')));
  is(a.stats().indirectProbes, before + 1);
  is(ping.from, a.addr);
});

t('awareness: every answered probe lowers health by one, down to 0, and the rounds shrink back to 1 s', () => {
  const net = cluster(['a', 'b', 'c', 'd', 'e']);
  const a = net.node('a');
  net.until('a', isPing);
  const t0 = net.now;
  const keep = (w: Wire) => w.from !== a.addr;
  net.run(t0 + 999, { tick: ['a'], keep });
  // Links back. At t0 + 1000 the round fails (health 3) and a 4 s round starts; its ack lowers health to 2.
  const seen: [number, number][] = [];
  let last = a.stats().probes;
  net.run(t0 + 11_000, {
    tick: ['a'],
    after: () => {
      if (a.stats().probes !== last) {
        last = a.stats().probes;
        seen.push([net.now - t0, a.healthScore]);
      }
    },
  });
  equal(seen.slice(0, 5), [
    [1_000, 2],
    [5_000, 1],
    [8_000, 0],
    [10_000, 0],
    [11_000, 0],
  ]);
});

t('a ping for another node id is dropped and counted, not answered', () => {
  const net = cluster(['a', 'b']);
  const b = net.node('b');
  b.receivePacket(net.node('a').addr, { type: 'ping', seq: 5, target: 'zz' }, 0);
  equal(b.drain().packets, []);
  is(b.stats().misdirected, 1);
});

t.run();
