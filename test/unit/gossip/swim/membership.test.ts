// Membership scenarios: joining through a seed, incarnation numbers and
// refutation (SWIM §4.2), leaving, push-pull merges, a split healed by the
// reconnect loop, address conflicts and forgetting the dead.
import { suite, equal, is, ok } from '../../../harness.js';
import { lanConfig, testConfig, type SwimMessage } from '../../../../agent/gossip/swim/index.js';
import { addr, cluster, parts, SwimNet, type Wire } from './swim-net.js';

const t = suite('swim membership');

t('join: a push-pull with the seed, then everyone hears of the newcomer by gossip', () => {
  const net = new SwimNet();
  for (const n of ['a', 'b', 'c']) net.add(n);
  net.node('a').join([], 0);
  net.node('b').join([addr('a')], 0);
  net.collect();
  equal(net.pushPulls.map((x) => [x.from, x.to, x.state.join, x.state.members.map((m) => m.id)]), [[addr('b'), addr('a'), true, ['b']]]);
  net.exchange();
  equal(net.seen('a'), ['join:b@0']);
  equal(net.seen('b'), ['join:a@0']);
  net.node('c').join([addr('a')], 0);
  net.exchange();
  equal(net.seen('c'), ['join:a@0', 'join:b@0']);
  // b learns of c from a's gossip (a queued alive(c) when c joined).
  net.run(2_000, { tick: ['a', 'b', 'c'] });
  equal(net.seen('b'), ['join:a@0', 'join:c@0']);
  for (const n of ['a', 'b', 'c']) is(net.node(n).aliveCount(), 3);
});

t('refutation: a node that hears itself suspected takes a higher incarnation and gossips alive', () => {
  const net = cluster(['a', 'b', 'c']);
  const b = net.node('b');
  b.receivePacket(addr('a'), { type: 'suspect', incarnation: 0, node: 'b', from: 'a' }, 0);
  is(b.incarnation, 1);
  is(b.stats().refutes, 1);
  is(b.healthScore, 1, 'being asked to refute counts against our own health (Lifeguard)');
  // It outbids the accusation even when the accusation is ahead of it.
  b.receivePacket(addr('a'), { type: 'dead', incarnation: 7, node: 'b', from: 'a' }, 0);
  is(b.incarnation, 8);
  is(b.member('b')!.state, 'alive');
  // Its alive reaches a, which had b suspect: b is alive again there.
  net.node('a').receivePacket(addr('c'), { type: 'suspect', incarnation: 0, node: 'b', from: 'c' }, 0);
  net.run(1_000, { tick: ['b'] });
  equal(net.seen('a', 'b'), ['suspect:b@0', 'alive:b@8']);
  is(net.node('a').member('b')!.incarnation, 8);
});

t('a suspicion at an older incarnation is stale: no new incarnation, but a ping carrying it is answered with our alive', () => {
  const net = cluster(['a', 'b']);
  const b = net.node('b');
  b.receivePacket(addr('a'), { type: 'suspect', incarnation: 0, node: 'b', from: 'a' }, 0);
  is(b.incarnation, 1);
  b.drain();
  const msg: SwimMessage = { type: 'compound', parts: [{ type: 'ping', seq: 42, target: 'b' }, { type: 'suspect', incarnation: 0, node: 'b', from: 'a' }] };
  b.receivePacket(addr('a'), msg, 0);
  is(b.incarnation, 1);
  const out = b.drain().packets;
  is(out.length, 1);
  equal(parts({ from: b.addr, to: out[0]!.to, msg: out[0]!.msg }).slice(0, 2), [
    { type: 'ack', seq: 42 },
    { type: 'alive', incarnation: 1, node: 'b', addr: addr('b') },
  ]);
});

t('stale gossip is corrected at its source once the epidemic is over: whoever holds a newer alive tells the sender', () => {
  const net = cluster(['a', 'b', 'c']);
  const a = net.node('a');
  a.receivePacket(addr('b'), { type: 'alive', incarnation: 3, node: 'b', addr: addr('b') }, 0);
  // While a still spreads "b alive at 3" itself, a stale sender will hear it from the epidemic.
  a.receivePacket(addr('c'), { type: 'suspect', incarnation: 2, node: 'b', from: 'c' }, 0);
  is(a.stats().corrections, 0);
  // Once a is done spreading it, c still gossiping "b suspect at 2" missed it: a answers c directly.
  net.run(5_000, { tick: ['a'] });
  is(a.queuedBroadcasts, 0);
  a.drain();
  a.receivePacket(addr('c'), { type: 'suspect', incarnation: 2, node: 'b', from: 'c' }, net.now);
  is(a.member('b')!.state, 'alive');
  // (b itself heard "b alive at 3" from a meanwhile, and outbid it.)
  const inc = a.member('b')!.incarnation;
  ok(inc >= 3);
  const out = a.drain().packets;
  equal(out.map((p) => [p.to, parts({ from: a.addr, to: p.to, msg: p.msg })[0]]), [[addr('c'), { type: 'alive', incarnation: inc, node: 'b', addr: addr('b') }]]);
  is(a.stats().corrections, 1);
  // The same for a stale accusation of a itself (no ping in the datagram to answer).
  a.receivePacket(addr('c'), { type: 'suspect', incarnation: 0, node: 'a', from: 'c' }, net.now);
  is(a.incarnation, 1);
  net.run(10_000, { tick: ['a'] });
  a.drain();
  a.receivePacket(addr('c'), { type: 'dead', incarnation: 0, node: 'a', from: 'c' }, net.now);
  is(a.incarnation, 1);
  equal(a.drain().packets.map((p) => parts({ from: a.addr, to: p.to, msg: p.msg })[0]), [{ type: 'alive', incarnation: 1, node: 'a', addr: addr('a') }]);
});

t('leave: the goodbye is gossiped at once, others mark the node left, and it never refutes', () => {
  const net = cluster(['a', 'b', 'c']);
  const b = net.node('b');
  b.leave(100);
  net.collect();
  ok(net.packets.some((w) => w.from === b.addr && parts(w).some((m) => m.type === 'dead' && m.node === 'b' && m.from === 'b')));
  net.deliver();
  equal(net.seen('a', 'b'), ['leave:b@0']);
  equal(net.seen('c', 'b'), ['leave:b@0']);
  is(net.node('a').aliveCount(), 2);
  is(b.member('b')!.state, 'left');
  b.receivePacket(addr('a'), { type: 'suspect', incarnation: 0, node: 'b', from: 'a' }, 200);
  is(b.incarnation, 0);
  // It settles after retransmitLimit(4, 3) = 4 sends: two gossip rounds to its two peers.
  ok(!b.leaveSettled());
  net.run(2_000, { tick: ['b'] });
  ok(b.leaveSettled());
  is(b.nextDueMs(), Infinity);
  equal(b.drain().packets, []);
});

t('push-pull merge: newer alive wins, a remote "dead" is only a suspicion here, "left" is final', () => {
  const net = cluster(['a', 'b', 'c', 'd']);
  const a = net.node('a');
  const reply = a.receivePushPull(addr('b'), {
    join: false,
    members: [
      { id: 'b', addr: addr('b'), incarnation: 3, state: 'alive' },
      { id: 'c', addr: addr('c'), incarnation: 0, state: 'dead' },
      { id: 'd', addr: addr('d'), incarnation: 0, state: 'left' },
      { id: 'e', addr: addr('e'), incarnation: 2, state: 'alive' },
      { id: 'f', addr: addr('f'), incarnation: 0, state: 'dead' },
    ],
  }, 0);
  net.collect();
  equal(net.seen('a'), ['update:b@3', 'suspect:c@0', 'leave:d@0', 'join:e@2']);
  ok(a.member('f') === undefined, 'a dead member nobody here knew stays unknown');
  // The reply is our state after the merge.
  equal(
    reply.members.map((m) => [m.id, m.state, m.incarnation]).sort(),
    [['a', 'alive', 0], ['b', 'alive', 3], ['c', 'suspect', 0], ['d', 'left', 0], ['e', 'alive', 2]],
  );
});

t('a split healed: each side declares the other dead, then the reconnect loop and refutations merge them back', () => {
  const net = cluster(['a', 'b', 'c', 'd'], testConfig());
  const left = new Set([addr('a'), addr('b')]);
  const sameSide = (x: string, y: string) => left.has(x) === left.has(y);
  const split = (w: Wire) => sameSide(w.from, w.to);
  net.run(10_000, { keep: split, pushPull: sameSide });
  for (const [n, other] of [['a', 'c'], ['c', 'a']] as const) is(net.node(n).member(other)!.state, 'dead', `${n} sees ${other} dead`);
  for (const n of ['a', 'b', 'c', 'd']) is(net.node(n).aliveCount(), 2);
  const healAt = net.now;
  let healed = -1;
  net.run(healAt + 10_000, {
    pushPull: true,
    after: () => {
      if (healed < 0 && [...net.nodes.values()].every((n) => n.aliveCount() === 4)) healed = net.now;
    },
  });
  ok(healed > 0, 'merged back');
  ok(healed - healAt <= 1_000, `merged ${healed - healAt} ms after the heal (reconnect every 100 ms in testConfig)`);
  ok(net.seen('a', 'c').includes(`join:c@${net.node('c').incarnation}`));
});

t('an alive claim for a live member from another address is a conflict: dropped and counted', () => {
  const net = cluster(['a', 'b']);
  const a = net.node('a');
  a.receivePacket(addr('z'), { type: 'alive', incarnation: 9, node: 'b', addr: '203.0.113.9:7946' }, 0);
  is(a.member('b')!.addr, addr('b'));
  is(a.stats().conflicts, 1);
  // ... but a member that left may come back from anywhere.
  a.receivePacket(addr('b'), { type: 'dead', incarnation: 0, node: 'b', from: 'b' }, 0);
  a.receivePacket(addr('z'), { type: 'alive', incarnation: 0, node: 'b', addr: '203.0.113.9:7946' }, 0);
  equal(a.member('b'), { id: 'b', addr: '203.0.113.9:7946', incarnation: 0, state: 'alive' });
  equal(a.drain().events.map((e) => e.type), ['leave', 'join']);
});

t('a restarted node (incarnation 0 again) outbids its old life when it hears of it', () => {
  const net = cluster(['a', 'b']);
  net.node('b').receivePacket(addr('a'), { type: 'suspect', incarnation: 4, node: 'b', from: 'a' }, 0);
  is(net.node('b').incarnation, 5);
  const fresh = new SwimNet();
  fresh.add('b');
  const b2 = fresh.node('b');
  b2.join([], 0);
  // Its seed still holds "b alive at 5": the push-pull reply makes the new b refute to 6.
  b2.receivePushPullReply(addr('a'), { join: false, members: [{ id: 'b', addr: addr('b'), incarnation: 5, state: 'alive' }] }, 0);
  is(b2.incarnation, 6);
});

t('dead members are forgotten deadRetentionMs after they died (at a probe-order wrap)', () => {
  const cfg = { ...testConfig(), deadRetentionMs: 5_000 };
  const net = cluster(['a', 'b', 'c'], cfg);
  const a = net.node('a');
  a.receivePacket(addr('b'), { type: 'dead', incarnation: 0, node: 'c', from: 'b' }, 0);
  is(a.member('c')!.state, 'dead');
  const ca = addr('c');
  net.run(4_000, { tick: ['a'], keep: (w) => w.to !== ca });
  is(a.member('c')!.state, 'dead');
  net.run(6_000, { tick: ['a'], keep: (w) => w.to !== ca });
  is(a.member('c'), undefined);
  equal(a.members().map((m) => m.id).sort(), ['a', 'b']);
});

t('user broadcasts reach the others as they arrive, duplicates included (the layer above dedupes)', () => {
  const net = cluster(['a', 'b', 'c'], lanConfig());
  net.node('a').broadcast(Uint8Array.from([1, 2, 3]));
  net.run(1_000, { tick: ['a'] });
  for (const n of ['b', 'c']) {
    const got = net.users.get(n)!;
    ok(got.length >= 1, `${n} got it`);
    ok(got.every((p) => Buffer.from(p).equals(Buffer.from([1, 2, 3]))));
  }
  equal(net.users.get('a'), []);
});

t.run();
