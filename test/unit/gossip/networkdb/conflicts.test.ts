// Lamport times decide (issue 5: "higher wins"), ties are broken the same
// way on every node, tombstones keep deleted entries dead for
// tombstoneReapMs, and a node corrects stale claims about itself.
import { suite, equal, is, ok } from '../../../harness.js';
import { encodeMessage, type WireEntry } from '../../../../agent/gossip/networkdb/index.js';
import { Cluster, bytes, show, text } from './fixture.js';

const t = suite('networkdb conflicts, tombstones, refutation');
const N = 'net1';
const P = 'peers';

const live = (owner: string, ltime: number, key: string, v: string): WireEntry => ({ owner, ltime, table: P, key, tombstone: false, value: bytes(v), reapLeftMs: 0 });
const dead = (owner: string, ltime: number, key: string, reapLeftMs: number): WireEntry => ({ owner, ltime, table: P, key, tombstone: true, value: new Uint8Array(0), reapLeftMs });
/** A table gossip naming each owner as a member joined at network time 1. */
function gossip(...entries: WireEntry[]): Uint8Array {
  const owners = [...new Set(entries.map((e) => e.owner))].map((node) => ({ node, netLtime: 1, leaving: false }));
  return encodeMessage({ type: 'tableGossip', nid: N, owners, entries });
}

function member(id = 'r'): Cluster {
  const c = new Cluster([id]);
  c.on(id, (db, now) => db.attachEndpoint(N, `ep-${id}`, now));
  c.discard();
  return c;
}

t('the higher Lamport time wins whatever the arrival order', () => {
  const versions = [live('x', 3, 'k', 'three'), live('y', 7, 'k', 'seven'), dead('x', 5, 'k', 1000), live('y', 1, 'k', 'one')];
  for (const order of [[0, 1, 2, 3], [3, 2, 1, 0], [1, 0, 3, 2], [2, 3, 0, 1]]) {
    const c = member();
    for (const i of order) c.db('r').receive('x', gossip(versions[i]!), c.nowMs);
    const e = c.db('r').get(N, P, 'k');
    equal([text(e?.value), e?.owner, e?.ltime], ['seven', 'y', 7], order.join(','));
  }
});

t('equal times: the greater owner wins, then a tombstone, then the greater value, on every node alike', () => {
  const cases: [WireEntry, WireEntry, string | undefined][] = [
    [live('x', 4, 'k', 'from-x'), live('y', 4, 'k', 'from-y'), 'from-y'],
    [live('y', 4, 'k', 'v'), dead('y', 4, 'k', 1000), undefined],
    [live('y', 4, 'k', 'aa'), live('y', 4, 'k', 'ab'), 'ab'],
    [live('y', 4, 'k', 'ab'), live('y', 4, 'k', 'abc'), 'abc'],
  ];
  for (const [p, q, want] of cases) {
    for (const [first, second] of [[p, q], [q, p]]) {
      const c = member();
      c.db('r').receive('x', gossip(first!), c.nowMs);
      c.db('r').receive('x', gossip(second!), c.nowMs);
      is(text(c.db('r').get(N, P, 'k')?.value), want, `${JSON.stringify(first)} then ${JSON.stringify(second)}`);
    }
  }
});

t('the table clock witnesses what it hears: the next local write is newer', () => {
  const c = member();
  c.db('r').receive('x', gossip(live('x', 100, 'other', 'v')), c.nowMs);
  c.on('r', (db, now) => db.createEntry(N, P, 'mine', bytes('m'), now));
  is(c.db('r').get(N, P, 'mine')?.ltime, 101);
});

t('a tombstone refuses a stale copy for tombstoneReapMs, and is reaped within one reap period after', () => {
  const c = new Cluster(['a', 'b']);
  for (const id of ['a', 'b']) c.on(id, (db, now) => db.attachEndpoint(N, `ep-${id}`, now));
  c.deliver();
  c.on('a', (db, now) => db.createEntry(N, P, 'k', bytes('v'), now));
  c.run(c.config.gossipIntervalMs);
  const stale = gossip(live('a', c.db('b').get(N, P, 'k')!.ltime, 'k', 'v'));
  c.on('a', (db, now) => db.deleteEntry(N, P, 'k', now));
  const deletedAt = c.nowMs;
  c.run(c.config.gossipIntervalMs);
  is(c.db('b').get(N, P, 'k'), undefined);
  // The tombstone reached b with the time a has left on it, so b reaps it when a does.
  const copy = c.delivered.find((d) => d.at === 'b' && d.msg.type === 'tableGossip' && d.msg.entries.some((e) => e.tombstone))!;
  const reapLeft = copy.msg.type === 'tableGossip' ? copy.msg.entries[0]!.reapLeftMs : -1;
  ok(reapLeft <= c.config.tombstoneReapMs && reapLeft >= c.config.tombstoneReapMs - c.config.gossipIntervalMs, `reapLeftMs ${reapLeft}`);
  c.run(deletedAt + c.config.tombstoneReapMs - c.nowMs - 1);
  for (const id of ['a', 'b']) {
    c.db(id).receive('x', stale, c.nowMs);
    is(c.db(id).get(N, P, 'k'), undefined, `${id}: refused just before the reap`);
  }
  c.run(c.config.reapPeriodMs + 1);
  c.db('b').receive('x', stale, c.nowMs);
  is(text(c.db('b').get(N, P, 'k')?.value), 'v', 'after the reap a stale copy is news again: the 30-minute bound of the guarantee');
});

t('a tombstone copy never outlives the original, nor the receiver\'s own limit', () => {
  const c = member();
  c.db('r').receive('x', gossip(dead('x', 9, 'k', 1_000), dead('x', 9, 'j', 5 * c.config.tombstoneReapMs)), c.nowMs);
  c.run(1_000 + c.config.reapPeriodMs);
  c.db('r').receive('x', gossip(live('x', 8, 'k', 'old'), live('x', 8, 'j', 'old')), c.nowMs);
  is(text(c.db('r').get(N, P, 'k')?.value), 'old', 'k went with the 1 s the sender had left on it');
  is(c.db('r').get(N, P, 'j'), undefined, 'j is still dead');
  c.run(c.config.tombstoneReapMs);
  c.db('r').receive('x', gossip(live('x', 8, 'j', 'old')), c.nowMs);
  is(text(c.db('r').get(N, P, 'j')?.value), 'old', 'j went on the receiver\'s own limit, not 5 times it');
});

t('a restarted node corrects its old attachment: its leave wins over the record others hold', () => {
  const c = new Cluster(['a', 'b']);
  for (const id of ['a', 'b']) c.on(id, (db, now) => db.attachEndpoint(N, `ep-${id}`, now));
  c.on('b', (db, now) => db.attachEndpoint('net2', 'ep-b2', now));
  c.deliver();
  c.on('b', (db, now) => db.createEntry(N, P, 'kb', bytes('old'), now));
  c.run(c.config.gossipIntervalMs);
  c.takeEvents('a');
  c.add('b'); // b restarts with no state, faster than anyone declares it dead
  c.db('b').receive('a', c.db('a').localState(), c.nowMs); // the SWIM join push-pull
  c.collect('b');
  equal(c.inFlight.map((m) => m.msg.type === 'networkEvent' && `${m.msg.nid} ${m.msg.leaving ? 'leave' : 'join'}`).sort(), ['net1 leave', 'net2 leave']);
  c.deliver();
  equal(c.db('a').members(N), ['a']);
  equal(show(c.takeEvents('a')), ['delete peers/kb=old@b']);
  ok(c.db('b').stats().refuted >= 2);
  c.on('b', (db, now) => db.attachEndpoint(N, 'ep-b', now)); // and rejoins with a newer time
  c.deliver();
  equal(c.db('a').members(N), ['a', 'b']);
});

t('a restarted node that re-creates a key at a reused time wins once it hears its old version', () => {
  const c = new Cluster(['a', 'b']);
  for (const id of ['a', 'b']) c.on(id, (db, now) => db.attachEndpoint(N, `ep-${id}`, now));
  c.deliver();
  c.on('b', (db, now) => {
    db.createEntry(N, P, 'k0', bytes('x'), now);
    db.createEntry(N, P, 'k', bytes('old'), now);
  });
  c.run(c.config.gossipIntervalMs);
  is(c.db('a').get(N, P, 'k')?.ltime, 2);
  c.add('b');
  c.db('b').receive('a', c.db('a').localState(), c.nowMs); // witnesses the network clock (its refuting leave is lost)
  c.discard();
  c.on('b', (db, now) => db.attachEndpoint(N, 'ep-b', now)); // joins anew and asks a for its table
  c.on('b', (db, now) => db.createEntry(N, P, 'k', bytes('new'), now));
  c.deliver();
  c.run(10 * c.config.gossipIntervalMs);
  const e = c.db('a').get(N, P, 'k');
  equal([text(e?.value), e?.owner], ['new', 'b']);
  is(c.db('a').get(N, P, 'k0'), undefined, 'the old k0 b no longer holds is deleted by b itself');
  is(c.db('b').get(N, P, 'k0'), undefined);
});

t('a claim about our own entry that is no newer than ours is ignored', () => {
  const c = member('r');
  c.on('r', (db, now) => db.createEntry(N, P, 'k', bytes('v'), now));
  c.discard();
  const e = c.db('r').get(N, P, 'k')!;
  c.db('r').receive('x', gossip(live('r', e.ltime, 'k', 'v')), c.nowMs);
  c.db('r').receive('x', gossip(live('r', e.ltime - 1 || 1, 'k', 'older')), c.nowMs);
  is(c.db('r').stats().refuted, 0);
  equal(c.db('r').takeOutput().sends, []);
});

t.run();
