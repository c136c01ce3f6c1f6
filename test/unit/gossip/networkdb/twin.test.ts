// Conflict resolution checked against a dumb twin (STYLE habit 5): the twin
// keeps every version it was given and answers "what is the entry" by
// sorting them all by (Lamport time, owner, tombstone, value) and applying
// them in that order. The real table keeps one version per key and decides
// on arrival. Random versions (ties and duplicates included) reach a real
// node in random batches, orders and from random relays; after every message
// its view, and the view its watchers rebuilt from events, must equal the
// twin's over what was delivered so far. Gossip and bulk sync alike.
import { suite, equal, ok } from '../../../harness.js';
import { seededRand, type Rand } from '../../../../shared/rand.js';
import { encodeMessage, type TableEvent, type WireEntry } from '../../../../agent/gossip/networkdb/index.js';
import { Cluster } from './fixture.js';

const t = suite('networkdb conflict resolution vs a dumb twin');
const N = 'net1';
const OWNERS = ['n1', 'n2', 'n3', 'n4'];
const KEYS = ['k1', 'k2', 'k3'];
const TABLES = ['peers', 'services'];

/** The twin: all versions, sorted and applied one by one. */
function twinView(versions: WireEntry[]): Map<string, string> {
  const sorted = [...versions].sort((a, b) => {
    if (a.ltime !== b.ltime) return a.ltime - b.ltime;
    if (a.owner !== b.owner) return a.owner < b.owner ? -1 : 1;
    if (a.tombstone !== b.tombstone) return a.tombstone ? 1 : -1;
    return Buffer.compare(Buffer.from(a.value), Buffer.from(b.value));
  });
  const view = new Map<string, string>();
  for (const v of sorted) {
    const id = `${v.table}/${v.key}`;
    if (v.tombstone) view.delete(id);
    else view.set(id, `${Buffer.from(v.value).toString('hex')}@${v.owner}`);
  }
  return view;
}

function randomVersion(r: Rand): WireEntry {
  const tombstone = r.int(4) === 0;
  return {
    owner: OWNERS[r.int(OWNERS.length)]!,
    ltime: 1 + r.int(12), // few times: many ties
    table: TABLES[r.int(TABLES.length)]!,
    key: KEYS[r.int(KEYS.length)]!,
    tombstone,
    value: tombstone ? new Uint8Array(0) : r.bytes(r.int(3)),
    reapLeftMs: tombstone ? 60_000 : 0,
  };
}

const sortedEntries = (m: Map<string, string>) => [...m.entries()].sort();

function runSeed(seed: number): void {
  const r = seededRand(seed);
  const c = new Cluster(['me']);
  c.on('me', (db, now) => db.attachEndpoint(N, 'ep', now));
  c.discard();
  const db = c.db('me');
  const versions = Array.from({ length: 40 }, () => randomVersion(r));
  // Duplicates: some versions are sent twice, by different relays.
  const sends = [...versions, ...versions.filter(() => r.int(3) === 0)];
  for (let i = sends.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [sends[i], sends[j]] = [sends[j]!, sends[i]!];
  }
  const delivered: WireEntry[] = [];
  const watched = new Map<string, string>();
  const apply = (evs: TableEvent[]) => {
    for (const e of evs) {
      const id = `${e.table}/${e.key}`;
      if (e.type === 'delete') {
        ok(watched.has(id), `seed=${seed}: delete of ${id} that watchers never saw`);
        watched.delete(id);
      } else {
        ok((e.type === 'create') === !watched.has(id), `seed=${seed}: ${e.type} of ${id}`);
        watched.set(id, `${Buffer.from(e.value).toString('hex')}@${e.owner}`);
      }
    }
  };
  while (sends.length > 0) {
    const batch = sends.splice(0, 1 + r.int(4));
    const owners = [...new Set(batch.map((v) => v.owner))].map((node) => ({ node, netLtime: 1, leaving: false }));
    const msg = r.int(2)
      ? encodeMessage({ type: 'tableGossip', nid: N, owners, entries: batch })
      : encodeMessage({ type: 'bulkSync', response: true, tableLtime: 0, nid: N, owners, entries: batch });
    db.receive(OWNERS[r.int(OWNERS.length)]!, msg, c.nowMs);
    delivered.push(...batch);
    apply(db.takeOutput().events);
    const real = new Map<string, string>();
    for (const table of TABLES) for (const e of db.entries(N, table)) real.set(`${table}/${e.key}`, `${Buffer.from(e.value).toString('hex')}@${e.owner}`);
    const twin = sortedEntries(twinView(delivered));
    equal(sortedEntries(real), twin, `seed=${seed}: table after ${delivered.length} versions`);
    equal(sortedEntries(watched), twin, `seed=${seed}: watchers' view after ${delivered.length} versions`);
  }
}

t('the real table and the watchers agree with the twin after every message (500 seeds)', () => {
  for (let seed = 1; seed <= 500; seed++) runSeed(seed);
});

t.run();
