// NetworkDb's boundary: argument validation with exact messages, the error
// codes callers branch on, config presets, timers, packet budget, and
// receive() dropping (never throwing) whatever it cannot use.
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { seededRand } from '../../../../shared/rand.js';
import {
  lanConfig, LARGEST_ENTRY_PACKET_BYTES, NetworkDb, NetworkDbError, testConfig, validateNetworkDbConfig, encodeMessage,
} from '../../../../agent/gossip/networkdb/index.js';
import { Cluster, bytes } from './fixture.js';

const t = suite('networkdb api');
const N = 'net1';
const P = 'peers';

function message(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (e) {
    return `${(e as Error).name}${(e as NetworkDbError).code ? ` ${(e as NetworkDbError).code}` : ''}: ${(e as Error).message}`;
  }
}

t('local writes: the codes callers branch on', () => {
  const c = new Cluster(['a', 'b']);
  const a = c.db('a');
  is(message(() => a.createEntry(N, P, 'k', bytes('v'), 0)), 'NetworkDbError ENOTMEMBER: createEntry: no local endpoint on network net1');
  c.on('a', (db, now) => db.attachEndpoint(N, 'ep-a', now));
  c.on('b', (db, now) => db.attachEndpoint(N, 'ep-b', now));
  c.deliver();
  c.on('a', (db, now) => db.createEntry(N, P, 'k', bytes('v'), now));
  is(message(() => a.createEntry(N, P, 'k', bytes('v'), 0)), 'NetworkDbError EEXIST: createEntry: peers/k exists in network net1');
  is(message(() => a.updateEntry(N, P, 'nope', bytes('v'), 0)), 'NetworkDbError ENOENT: updateEntry: peers/nope does not exist in network net1');
  c.run(c.config.gossipIntervalMs);
  is(message(() => c.db('b').deleteEntry(N, P, 'k', c.nowMs)), 'NetworkDbError ENOTOWNER: deleteEntry: peers/k in network net1 belongs to a');
  c.on('a', (db, now) => db.deleteEntry(N, P, 'k', now));
  is(message(() => a.deleteEntry(N, P, 'k', c.nowMs)), 'NetworkDbError ENOENT: deleteEntry: peers/k does not exist in network net1');
  c.on('a', (db, now) => db.createEntry(N, P, 'k', bytes('again'), now)); // over a tombstone
  ok(a.get(N, P, 'k'));
});

t('bad arguments are RangeErrors naming the argument', () => {
  const c = new Cluster(['a']);
  const a = c.on('a', (db, now) => (db.attachEndpoint(N, 'ep', now), db));
  const cases: [() => unknown, string][] = [
    [() => a.createEntry('', P, 'k', bytes('v'), 0), 'createEntry: nid must be 1..64 bytes of UTF-8, got 0'],
    [() => a.createEntry(N, 't'.repeat(33), 'k', bytes('v'), 0), 'createEntry: table must be 1..32 bytes of UTF-8, got 33'],
    [() => a.createEntry(N, P, 'k'.repeat(256), bytes('v'), 0), 'createEntry: key must be 1..255 bytes of UTF-8, got 256'],
    [() => a.createEntry(N, P, 'k', new Uint8Array(513), 0), 'createEntry: value must be at most 512 bytes, got 513'],
    [() => a.createEntry(N, P, 'k', 'v' as unknown as Uint8Array, 0), 'createEntry: value must be a Uint8Array, got string'],
    [() => a.updateEntry(N, P, 'k', bytes('v'), NaN), 'updateEntry: nowMs must be a finite number, got NaN'],
    [() => a.attachEndpoint(N, '', 0), 'attachEndpoint: endpointId must be 1..255 bytes of UTF-8, got 0'],
    [() => a.nodeDead('x'.repeat(33), 0), 'nodeDead: id must be 1..32 bytes of UTF-8, got 33'],
    [() => a.tick(Infinity), 'tick: nowMs must be a finite number, got Infinity'],
    [() => new NetworkDb({ nodeId: '', config: testConfig(), rand: seededRand(1), nowMs: 0 }), 'NetworkDb: nodeId must be 1..32 bytes of UTF-8, got 0'],
  ];
  for (const [f, want] of cases) is(message(f), `RangeError: ${want}`);
});

t('config presets validate, and validation names the first bad field', () => {
  validateNetworkDbConfig(lanConfig());
  validateNetworkDbConfig(testConfig());
  const lan = lanConfig();
  equal([lan.gossipIntervalMs, lan.gossipFanout, lan.retransmitMult, lan.bulkSyncIntervalMs, lan.tombstoneReapMs], [200, 3, 4, 30_000, 1_800_000]);
  is(lan.packetBudgetBytes, 1333);
  ok(LARGEST_ENTRY_PACKET_BYTES <= lan.packetBudgetBytes, `${LARGEST_ENTRY_PACKET_BYTES}`);
  is(message(() => validateNetworkDbConfig({ ...lan, gossipFanout: 0 })), 'RangeError: NetworkDbConfig.gossipFanout: expected an integer >= 1, got 0');
  is(message(() => validateNetworkDbConfig({ ...lan, networkLeaveReapMs: 1 })), 'RangeError: NetworkDbConfig.networkLeaveReapMs: expected an integer >= 1800000, got 1');
  is(message(() => validateNetworkDbConfig({ ...lan, packetBudgetBytes: 500 })), `RangeError: NetworkDbConfig.packetBudgetBytes: expected an integer >= ${LARGEST_ENTRY_PACKET_BYTES}, got 500`);
});

t('receive drops and counts what it cannot use, and never throws (10k seeded mutations)', () => {
  const c = new Cluster(['a', 'b']);
  for (const id of ['a', 'b']) c.on(id, (db, now) => db.attachEndpoint(N, `ep-${id}`, now));
  c.deliver();
  for (let i = 0; i < 5; i++) c.on('b', (db, now) => db.createEntry(N, P, `k${i}`, bytes(`v${i}`), now));
  c.run(c.config.gossipIntervalMs);
  c.on('b', (db, now) => db.detachEndpoint(N, 'ep-b', now));
  const samples = c.delivered.map((d) => d.bytes).concat([c.db('b').localState()]);
  const r = seededRand(9);
  const victim = c.db('a');
  let before = victim.stats().malformed;
  victim.receive('b', new Uint8Array(0), 0);
  victim.receive('b', Uint8Array.of(0x63), 0);
  is(victim.stats().malformed, before + 2);
  before = victim.stats().malformed;
  for (let i = 0; i < 10_000; i++) {
    const buf = Uint8Array.from(samples[r.int(samples.length)]!);
    buf[r.int(buf.length)] = r.int(256);
    victim.receive(r.int(2) ? 'b' : 'zz', r.int(4) ? buf : buf.subarray(0, r.int(buf.length)), c.nowMs + i);
    victim.takeOutput();
  }
  ok(victim.stats().malformed > before, 'some were malformed');
});

t('table gossip for a network we are not in is counted, not applied', () => {
  const c = new Cluster(['a']);
  const msg = encodeMessage({ type: 'tableGossip', nid: N, owners: [{ node: 'x', netLtime: 1, leaving: false }], entries: [{ owner: 'x', ltime: 1, table: P, key: 'k', tombstone: false, value: bytes('v'), reapLeftMs: 0 }] });
  c.db('a').receive('x', msg, 0);
  is(c.db('a').stats().notMember, 1);
  equal(c.db('a').entries(N, P), []);
});

t('gossip datagrams stay within the packet budget, and a burst still reaches everyone', () => {
  const c = new Cluster(['a', 'b', 'c', 'd']);
  for (const id of ['a', 'b', 'c', 'd']) c.on(id, (db, now) => db.attachEndpoint(N, `ep-${id}`, now));
  c.deliver();
  for (let i = 0; i < 60; i++) c.on('a', (db, now) => db.createEntry(N, 'services', `task-${i}`, new Uint8Array(400).fill(i), now));
  c.run(100 * c.config.gossipIntervalMs);
  const datagrams = c.delivered.filter((d) => !d.reliable && d.msg.type === 'tableGossip');
  ok(datagrams.length > 0);
  ok(datagrams.every((d) => d.bytes.length <= c.config.packetBudgetBytes), `largest ${Math.max(...datagrams.map((d) => d.bytes.length))}`);
  ok(datagrams.some((d) => d.bytes.length > c.config.packetBudgetBytes - 420), 'packets are filled');
  for (const id of ['b', 'c', 'd']) is(c.db(id).entries(N, 'services').length, 60, id);
});

t('a version is gossiped in retransmitMult·ceil(log10(members + 1)) rounds to gossipFanout members, then no more', () => {
  const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
  const c = new Cluster(ids);
  for (const id of ids) c.on(id, (db, now) => db.attachEndpoint(N, `ep-${id}`, now));
  c.deliver();
  c.on('a', (db, now) => db.createEntry(N, P, 'k', bytes('v'), now));
  c.run(50 * c.config.gossipIntervalMs);
  const fromA = c.delivered.filter((d) => d.from === 'a' && d.msg.type === 'tableGossip');
  is(fromA.length, c.config.retransmitMult * Math.ceil(Math.log10(ids.length + 1)) * c.config.gossipFanout);
});

t('an idle node wakes only for the reaper and, once in a network, for bulk sync', () => {
  const cfg = testConfig();
  const db = new NetworkDb({ nodeId: 'a', config: cfg, rand: seededRand(1), nowMs: 1000 });
  is(db.nextDueMs(), 1000 + cfg.reapPeriodMs);
  db.attachEndpoint(N, 'ep', 1000);
  ok(db.nextDueMs() <= 1000 + cfg.bulkSyncIntervalMs);
  db.tick(db.nextDueMs());
  db.createEntry(N, P, 'k', bytes('v'), 1100);
  db.takeOutput();
  ok(db.nextDueMs() >= 1100, 'never in the past');
  throws(() => db.tick(NaN));
});

t.run();
