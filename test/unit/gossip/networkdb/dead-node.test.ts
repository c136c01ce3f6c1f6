// Issue 5: "The entries of a node declared dead are removed after a grace
// period, so a flapping node does not cause churn."
import { suite, equal, is, ok } from '../../../harness.js';
import { Cluster, bytes, show, text } from './fixture.js';

const t = suite('networkdb dead nodes');
const N = 'net1';
const P = 'peers';

function twoWithEntries(): Cluster {
  const c = new Cluster(['a', 'b', 'c']);
  for (const id of ['a', 'b', 'c']) c.on(id, (db, now) => db.attachEndpoint(N, `ep-${id}`, now));
  c.deliver();
  c.on('b', (db, now) => {
    db.createEntry(N, P, 'kb1', bytes('1'), now);
    db.createEntry(N, P, 'kb2', bytes('2'), now);
  });
  c.run(20 * c.config.gossipIntervalMs);
  for (const id of ['a', 'b', 'c']) c.takeEvents(id);
  return c;
}

t('a node flapping dead -> alive within the grace period loses nothing, and no watcher event fires', () => {
  const c = twoWithEntries();
  const g = c.config.deadNodeGraceMs;
  for (let flap = 0; flap < 3; flap++) {
    c.on('a', (db, now) => db.nodeDead('b', now));
    is(c.db('a').nodeState('b'), 'dead');
    c.run(g - 1);
    c.on('a', (db, now) => db.nodeAlive('b', now));
    c.run(c.config.reapPeriodMs);
  }
  c.run(2 * g);
  equal(c.db('a').entries(N, P).map((e) => e.key), ['kb1', 'kb2']);
  equal(c.db('a').members(N), ['a', 'b', 'c']);
  equal(show(c.takeEvents('a')), []);
});

t('past the grace period (within one reap period) a dead node\'s entries and attachment go, and its late gossip is refused', () => {
  const c = twoWithEntries();
  const copy = c.delivered.find((d) => d.msg.type === 'tableGossip' && d.from === 'b')!;
  const deadAt = c.nowMs;
  c.on('a', (db, now) => db.nodeDead('b', now));
  c.run(c.config.deadNodeGraceMs - 1);
  is(c.db('a').entries(N, P).length, 2, 'still there just before the grace period ends');
  c.run(c.config.reapPeriodMs + 1);
  ok(c.nowMs <= deadAt + c.config.deadNodeGraceMs + c.config.reapPeriodMs);
  equal(c.db('a').entries(N, P), []);
  equal(show(c.takeEvents('a')).sort(), ['delete peers/kb1=1@b', 'delete peers/kb2=2@b']);
  equal(c.db('a').members(N), ['a', 'c']);
  c.db('a').receive('c', copy.bytes, c.nowMs);
  equal(c.db('a').entries(N, P), []);
  ok(c.db('a').stats().fromGoneNode >= 1);
  is(text(c.db('c').get(N, P, 'kb1')?.value), '1', 'c never heard b was dead');
});

t('a dead node is not gossiped to, and hears what it missed once alive (bulk sync)', () => {
  const c = twoWithEntries();
  c.on('a', (db, now) => db.nodeDead('b', now));
  c.on('c', (db, now) => db.nodeDead('b', now));
  const before = c.tableMessagesTo('b', N);
  c.on('a', (db, now) => db.createEntry(N, P, 'ka', bytes('x'), now));
  c.run(c.config.deadNodeGraceMs / 2);
  is(c.tableMessagesTo('b', N), before);
  c.on('a', (db, now) => db.nodeAlive('b', now));
  c.on('c', (db, now) => db.nodeAlive('b', now));
  c.run(c.config.bulkSyncIntervalMs * 3);
  is(text(c.db('b').get(N, P, 'ka')?.value), 'x');
});

t('a node that left goes at once, with no grace period', () => {
  const c = twoWithEntries();
  c.on('a', (db, now) => db.nodeLeft('b', now));
  equal(c.db('a').entries(N, P), []);
  is(c.db('a').nodeState('b'), 'left');
  equal(c.db('a').members(N), ['a', 'c']);
});

t('back after its grace period ran out, a node re-announces and its entries return', () => {
  const c = twoWithEntries();
  for (const id of ['a', 'c']) c.on(id, (db, now) => db.nodeDead('b', now));
  c.run(c.config.deadNodeGraceMs + c.config.reapPeriodMs);
  equal(c.db('a').entries(N, P), []);
  for (const id of ['a', 'c']) c.on(id, (db, now) => db.nodeAlive('b', now));
  c.on('b', (db, now) => db.announce(now)); // SWIM: b refuted its death
  c.deliver(); // no time passes: the announce's own bulk sync brings them back
  for (const id of ['a', 'c']) {
    equal(c.db(id).entries(N, P).map((e) => `${e.key}@${e.owner}`), ['kb1@b', 'kb2@b'], id);
    equal(c.db(id).members(N), ['a', 'b', 'c'], id);
  }
});

t('dead and left nodes are forgotten after nodeReapMs', () => {
  const c = twoWithEntries();
  c.on('a', (db, now) => db.nodeDead('b', now));
  c.on('a', (db, now) => db.nodeLeft('c', now));
  c.run(c.config.nodeReapMs + c.config.reapPeriodMs);
  is(c.db('a').nodeState('b'), undefined);
  is(c.db('a').nodeState('c'), undefined);
});

t.run();
