// Scenarios of issue 5 with two and three nodes moved by hand: entries reach
// the group, joins bulk-sync, leaves drop tables, only members receive.
import { suite, equal, is, ok } from '../../../harness.js';
import { Cluster, bytes, show, text } from './fixture.js';

const t = suite('networkdb membership and propagation');
const N = 'net1';
const P = 'peers';

t('create, update and delete reach the other member, and its watchers see each', () => {
  const c = new Cluster(['a', 'b']);
  c.on('a', (db, now) => db.attachEndpoint(N, 'ep-a', now));
  c.on('b', (db, now) => db.attachEndpoint(N, 'ep-b', now));
  c.deliver();
  c.on('a', (db, now) => db.createEntry(N, P, 'k', bytes('v1'), now));
  equal(show(c.takeEvents('a')), ['create peers/k=v1@a'], 'local writes reach local watchers too');
  c.run(c.config.gossipIntervalMs);
  is(text(c.db('b').get(N, P, 'k')?.value), 'v1');
  c.on('a', (db, now) => db.updateEntry(N, P, 'k', bytes('v2'), now));
  c.run(c.config.gossipIntervalMs);
  c.on('a', (db, now) => db.deleteEntry(N, P, 'k', now));
  c.run(c.config.gossipIntervalMs);
  equal(show(c.takeEvents('b')), ['create peers/k=v1@a', 'update peers/k=v2@a', 'delete peers/k=v2@a']);
  is(c.db('b').get(N, P, 'k'), undefined);
  equal(c.db('b').entries(N, P), []);
});

t('the first endpoint joins the group and the last one leaves it', () => {
  const c = new Cluster(['a', 'b']);
  is(c.on('a', (db, now) => db.attachEndpoint(N, 'ep1', now)), true);
  is(c.on('a', (db, now) => db.attachEndpoint(N, 'ep2', now)), false);
  equal(c.inFlight.map((m) => `${m.msg.type} ${m.to ?? '*'}`), ['networkEvent *'], 'one join event, to every node');
  c.deliver();
  equal(c.db('b').members(N), ['a']);
  is(c.on('a', (db, now) => db.detachEndpoint(N, 'ep1', now)), false);
  is(c.db('a').isMember(N), true);
  is(c.on('a', (db, now) => db.detachEndpoint(N, 'ep2', now)), true);
  is(c.on('a', (db, now) => db.detachEndpoint(N, 'ep2', now)), false, 'detaching twice is a no-op');
  c.deliver();
  is(c.db('a').isMember(N), false);
  equal(c.db('b').members(N), []);
});

t('a joiner bulk-syncs the whole table before any gossip round', () => {
  const c = new Cluster(['a', 'b', 'c']);
  for (const id of ['a', 'b']) c.on(id, (db, now) => db.attachEndpoint(N, `ep-${id}`, now));
  c.deliver();
  c.on('a', (db, now) => db.createEntry(N, P, 'ka', bytes('1'), now));
  c.on('b', (db, now) => db.createEntry(N, P, 'kb', bytes('2'), now));
  c.run(20 * c.config.gossipIntervalMs);
  c.on('a', (db, now) => db.deleteEntry(N, P, 'ka', now));
  c.run(20 * c.config.gossipIntervalMs);
  c.on('c', (db, now) => db.attachEndpoint(N, 'ep-c', now));
  const asks = c.inFlight.filter((m) => m.msg.type === 'bulkSync');
  equal(asks.map((m) => m.to).sort(), ['a', 'b'], 'asks joinSyncPeers (2) members');
  c.deliver(); // no tick: only the join's bulk sync moves entries
  equal(c.db('c').entries(N, P).map((e) => `${e.key}=${text(e.value)}@${e.owner}`), ['kb=2@b']);
  equal(show(c.takeEvents('c')), ['create peers/kb=2@b'], 'a tombstone synced in is no event');
  // The deleted ka came as a tombstone: a stale live copy of it is refused.
  ok(c.delivered.some((d) => d.at === 'c' && d.msg.type === 'bulkSync' && d.msg.entries.some((e) => e.key === 'ka' && e.tombstone)));
});

t('a node that joins knowing no member syncs with the first one it hears of', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.on('a', (db, now) => db.attachEndpoint(N, 'ep-a', now));
  c.on('a', (db, now) => db.createEntry(N, P, 'ka', bytes('1'), now));
  c.discard(); // nobody hears a's join event
  c.on('b', (db, now) => db.attachEndpoint(N, 'ep-b', now));
  c.on('b', (db, now) => db.createEntry(N, P, 'kb', bytes('2'), now));
  equal(c.inFlight.map((m) => m.msg.type), ['networkEvent'], 'b knows nobody to ask');
  c.drop = (m, to) => to === 'a'; // and a does not hear b's
  c.deliver();
  is(c.db('b').get(N, P, 'ka'), undefined);
  c.drop = () => false;
  c.db('b').receive('c', c.db('c').localState(), c.nowMs); // nothing new from c
  c.db('b').receive('a', c.db('a').localState(), c.nowMs); // SWIM push-pull with a: b learns a is in net1
  c.collect('b');
  equal(c.inFlight.map((m) => `${m.msg.type} ${m.to}`), ['bulkSync a'], 'once');
  c.deliver();
  equal(c.delivered.filter((d) => d.msg.type === 'bulkSync').map((d) => `${d.from}->${d.at}`), ['b->a', 'a->b'], 'a answers and asks no more');
  is(text(c.db('b').get(N, P, 'ka')?.value), '1');
  is(text(c.db('a').get(N, P, 'kb')?.value), '2', 'the request carried b\'s table');
  is(c.tableMessagesTo('c', N), 0);
});

t('only members receive a network\'s entries', () => {
  const c = new Cluster(['a', 'b', 'x']);
  c.on('a', (db, now) => db.attachEndpoint(N, 'ep-a', now));
  c.on('b', (db, now) => db.attachEndpoint(N, 'ep-b', now));
  c.on('x', (db, now) => db.attachEndpoint('other', 'ep-x', now));
  c.deliver();
  for (let i = 0; i < 20; i++) c.on(i % 2 ? 'a' : 'b', (db, now) => db.createEntry(N, P, `k${i}`, bytes(`v${i}`), now));
  c.run(c.config.bulkSyncIntervalMs * 3);
  is(c.db('b').entries(N, P).length, 20);
  is(c.tableMessagesTo('x', N), 0, 'x got no table gossip or bulk sync for net1');
  equal(c.db('x').entries(N, P), []);
  equal(c.db('x').members(N), ['a', 'b'], 'x knows who is in net1: network events go to every node');
  is(c.db('x').stats().notMember, 0);
});

t('a leaver drops the network\'s tables; the others drop its entries and stop sending to it', () => {
  const c = new Cluster(['a', 'b', 'c']);
  for (const id of ['a', 'b', 'c']) c.on(id, (db, now) => db.attachEndpoint(N, `ep-${id}`, now));
  c.deliver();
  c.on('a', (db, now) => db.createEntry(N, P, 'ka', bytes('1'), now));
  c.on('b', (db, now) => db.createEntry(N, P, 'kb', bytes('2'), now));
  c.run(20 * c.config.gossipIntervalMs);
  for (const id of ['a', 'b', 'c']) c.takeEvents(id);
  c.on('b', (db, now) => db.detachEndpoint(N, 'ep-b', now));
  equal(show(c.takeEvents('b')).sort(), ['delete peers/ka=1@a', 'delete peers/kb=2@b'], 'the leaver\'s watchers see every entry go');
  equal(c.db('b').entries(N, P), []);
  c.deliver();
  equal(show(c.takeEvents('a')), ['delete peers/kb=2@b']);
  equal(show(c.takeEvents('c')), ['delete peers/kb=2@b']);
  equal(c.db('a').members(N), ['a', 'c']);
  const before = c.tableMessagesTo('b', N);
  c.on('a', (db, now) => db.createEntry(N, P, 'ka2', bytes('3'), now));
  c.run(c.config.bulkSyncIntervalMs * 2);
  is(c.tableMessagesTo('b', N), before, 'nothing more for net1 reached b');
  is(text(c.db('c').get(N, P, 'ka2')?.value), '3');
});

t('a member that gossips before its join event arrives is accepted: the batch names it as a member', () => {
  const c = new Cluster(['a', 'b']);
  c.on('a', (db, now) => db.attachEndpoint(N, 'ep-a', now));
  c.deliver();
  c.on('b', (db, now) => db.attachEndpoint(N, 'ep-b', now));
  c.discard(); // b's join event and its bulk sync are lost
  is(c.db('a').members(N).includes('b'), false);
  c.on('b', (db, now) => db.createEntry(N, P, 'kb', bytes('2'), now));
  c.run(c.config.gossipIntervalMs);
  is(text(c.db('a').get(N, P, 'kb')?.value), '2');
  equal(c.db('a').members(N), ['a', 'b']);
});

t('entries of an owner that left are refused, even when a stale copy arrives later', () => {
  const c = new Cluster(['a', 'b', 'c']);
  for (const id of ['a', 'b', 'c']) c.on(id, (db, now) => db.attachEndpoint(N, `ep-${id}`, now));
  c.deliver();
  c.on('b', (db, now) => db.createEntry(N, P, 'kb', bytes('2'), now));
  c.run(c.config.gossipIntervalMs);
  const copy = c.delivered.find((d) => d.msg.type === 'tableGossip' && d.from === 'b')!;
  c.on('b', (db, now) => db.detachEndpoint(N, 'ep-b', now));
  c.deliver();
  is(c.db('a').get(N, P, 'kb'), undefined);
  c.db('a').receive('c', copy.bytes, c.nowMs); // c relays the old gossip late
  is(c.db('a').get(N, P, 'kb'), undefined);
  ok(c.db('a').stats().ownerNotMember >= 1);
});

t('a network event is passed on once: news is rebroadcast, a repeat or an older one is not', () => {
  const c = new Cluster(['a', 'b']);
  c.on('a', (db, now) => db.attachEndpoint(N, 'ep-a', now));
  const join = c.inFlight[0]!.bytes;
  c.on('a', (db, now) => db.detachEndpoint(N, 'ep-a', now));
  const leave = c.inFlight[1]!.bytes;
  const b = c.db('b');
  b.receive('a', join, c.nowMs);
  equal(b.takeOutput().broadcasts.map((x) => `${x.msg.node} ${x.msg.leaving ? 'leave' : 'join'} ${x.msg.ltime}`), ['a join 1']);
  b.receive('a', join, c.nowMs);
  equal(b.takeOutput().broadcasts, []);
  b.receive('a', leave, c.nowMs);
  equal(b.takeOutput().broadcasts.map((x) => x.key), ['a\u0000net1']);
  b.receive('a', join, c.nowMs);
  equal(b.takeOutput().broadcasts, [], 'the join is older than the leave');
  equal(b.members(N), []);
});

t.run();
