// NetworkDB's wire format (agent/gossip/networkdb/wire.ts): golden bytes for
// every message type, exact sizes, every rejection, and a fuzz that only
// ever sees NetworkDbWireError (STYLE habits 6, 7, 8).
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { seededRand } from '../../../../shared/rand.js';
import { decodeMessage, encodedSize, encodeMessage, NetworkDbWireError, type NetworkDbMessage } from '../../../../agent/gossip/networkdb/index.js';
import { entryBytes, gossipHeaderBytes, ownerBytes } from '../../../../agent/gossip/networkdb/wire.js';

const t = suite('networkdb wire');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/[\s|]/g, ''), 'hex'));

const gossip: NetworkDbMessage = {
  type: 'tableGossip', nid: 'n1',
  owners: [{ node: 'a', netLtime: 2, leaving: false }, { node: 'b', netLtime: 3, leaving: true }],
  entries: [
    { owner: 'b', ltime: 5, table: 'peers', key: 'k', tombstone: false, value: Uint8Array.of(0xaa, 0xbb), reapLeftMs: 0 },
    { owner: 'a', ltime: 0x1_0000_0001, table: 'peers', key: 'j', tombstone: true, value: new Uint8Array(0), reapLeftMs: 1_800_000 },
  ],
};
const sync: NetworkDbMessage = { type: 'bulkSync', response: true, tableLtime: 9, nid: 'n1', owners: [{ node: 'a', netLtime: 2, leaving: false }], entries: [] };
const event: NetworkDbMessage = { type: 'networkEvent', node: 'a', nid: 'n1', ltime: 7, leaving: true };
const state: NetworkDbMessage = {
  type: 'networkState', networkLtime: 8,
  records: [{ node: 'a', nid: 'n1', ltime: 7, leaving: false }, { node: 'b', nid: 'n1', ltime: 6, leaving: true }],
};

// Golden bytes, field by field ("|" separates fields).
const GOLDEN: [NetworkDbMessage, string][] = [
  [gossip, `01 | 02 6e31 | 0002
            | 00 0000000000000002 01 61 | 01 0000000000000003 01 62
            | 00000002
            | 00 0001 0000000000000005 05 7065657273 01 6b | 0002 aabb
            | 01 0000 0000000100000001 05 7065657273 01 6a | 001b7740`],
  [sync, `02 | 01 | 0000000000000009 | 02 6e31 | 0001 | 00 0000000000000002 01 61 | 00000000`],
  [event, `03 | 01 | 0000000000000007 | 01 61 | 02 6e31`],
  [state, `04 | 0000000000000008 | 00000002 | 00 0000000000000007 01 61 02 6e31 | 01 0000000000000006 01 62 02 6e31`],
];

t('golden bytes for every message type, and back', () => {
  for (const [m, g] of GOLDEN) {
    is(hex(encodeMessage(m)), hex(unhex(g)), m.type);
    equal(decodeMessage(unhex(g)), m, m.type);
  }
});

t('encodedSize and the packing sizes are exact', () => {
  for (const [m] of GOLDEN) is(encodedSize(m), encodeMessage(m).length, m.type);
  if (gossip.type !== 'tableGossip') throw new Error('unreachable');
  const packed = gossipHeaderBytes(gossip.nid) + gossip.owners.reduce((n, o) => n + ownerBytes(o), 0) + gossip.entries.reduce((n, e) => n + entryBytes(e), 0);
  is(packed, encodeMessage(gossip).length);
  const wide: NetworkDbMessage = { type: 'networkEvent', node: 'nœud-é', nid: 'réseau-😀', ltime: Number.MAX_SAFE_INTEGER, leaving: false };
  is(encodedSize(wide), encodeMessage(wide).length);
  equal(decodeMessage(encodeMessage(wide)), wide);
});

function refused(g: string): string {
  try {
    decodeMessage(unhex(g));
    return 'accepted';
  } catch (e) {
    ok(e instanceof NetworkDbWireError, String(e));
    return (e as Error).message;
  }
}

t('every rejection, with its exact message', () => {
  const cases: [string, string][] = [
    ['', 'truncated type'],
    ['09', 'unknown message type 9'],
    ['00', 'unknown message type 0'],
    ['03 01 0000000000000007 01 61 02 6e31 00', '1 bytes after the networkEvent message'],
    ['03 02 0000000000000007 01 61 02 6e31', 'record flags 0x02 has unknown bits'],
    ['03 00 0000000000000000 01 61 02 6e31', 'ltime must not be 0'],
    ['03 00 0020000000000000 01 61 02 6e31', 'ltime exceeds 2^53-1'],
    ['03 00 0000000000000007 00 02 6e31', 'node must be 1..32 bytes, got 0'],
    [`03 00 0000000000000007 21 ${'61'.repeat(33)} 02 6e31`, 'node must be 1..32 bytes, got 33'],
    [`03 00 0000000000000007 01 61 41 ${'6e'.repeat(65)}`, 'network id must be 1..64 bytes, got 65'],
    ['03 00 0000000000000007 01 ff 02 6e31', 'node is not UTF-8'],
    ['03 00 0000000000000007 01 61 02 6e', 'truncated network id'],
    ['03 00 00000000', 'truncated ltime'],
    ['02 02 0000000000000009 02 6e31 0000 00000000', 'bulk sync flags 0x02 has unknown bits'],
    ['02 00 0020000000000000 02 6e31 0000 00000000', 'table ltime exceeds 2^53-1'],
    ['01 02 6e31 0001 80 0000000000000002 01 61 00000000', 'owner flags 0x80 has unknown bits'],
    ['01 02 6e31 0001 00 0000000000000000 01 61 00000000', 'owner network ltime must not be 0'],
    ['01 02 6e31 0002 00 0000000000000002 01 61 00 0000000000000003 01 61 00000000', 'owner a listed twice'],
    ['01 02 6e31 03e8 00', 'owner count 1000 exceeds the message'],
    ['01 02 6e31 0000 00010000 00', 'entry count 65536 exceeds the message'],
    ['01 02 6e31 0001 00 0000000000000002 01 61 00000001 02 0000 0000000000000005 05 7065657273 01 6b 0000', 'entry flags 0x02 has unknown bits'],
    ['01 02 6e31 0001 00 0000000000000002 01 61 00000001 00 0001 0000000000000005 05 7065657273 01 6b 0000', 'owner index 1 past 1 owners'],
    ['01 02 6e31 0001 00 0000000000000002 01 61 00000001 00 0000 0000000000000000 05 7065657273 01 6b 0000', 'entry ltime must not be 0'],
    [`01 02 6e31 0001 00 0000000000000002 01 61 00000001 00 0000 0000000000000005 21 ${'74'.repeat(33)} 01 6b 0000`, 'table must be 1..32 bytes, got 33'],
    ['01 02 6e31 0001 00 0000000000000002 01 61 00000001 00 0000 0000000000000005 05 7065657273 00 0000', 'key must be 1..255 bytes, got 0'],
    ['01 02 6e31 0001 00 0000000000000002 01 61 00000001 00 0000 0000000000000005 05 7065657273 01 6b 0201', 'value must be at most 512 bytes, got 513'],
    ['01 02 6e31 0001 00 0000000000000002 01 61 00000001 00 0000 0000000000000005 05 7065657273 01 6b 0002 aa', 'truncated value'],
    ['01 02 6e31 0001 00 0000000000000002 01 61 00000001 01 0000 0000000000000005 05 7065657273 01 6b 0000', 'truncated reap left'],
    ['04 0000000000000008 00000002 00 0000000000000007 01 61 02 6e31', 'record count 2 exceeds the message'],
  ];
  for (const [g, want] of cases) is(refused(g), want, g);
});

t('the encoder refuses what the wire cannot carry, naming the field', () => {
  const bad = (m: NetworkDbMessage) => {
    try {
      encodeMessage(m);
      return 'accepted';
    } catch (e) {
      ok(e instanceof RangeError, String(e));
      return (e as Error).message;
    }
  };
  const e0 = { owner: 'a', ltime: 1, table: 'peers', key: 'k', tombstone: false, value: new Uint8Array(0), reapLeftMs: 0 };
  const own = [{ node: 'a', netLtime: 1, leaving: false }];
  const g = (entries: (typeof e0)[], owners = own): NetworkDbMessage => ({ type: 'tableGossip', nid: 'n', owners, entries });
  is(bad(g([{ ...e0, owner: 'z' }])), 'encodeMessage: entry owner z is not in the owner list');
  is(bad(g([{ ...e0, tombstone: true, value: Uint8Array.of(1) }])), 'encodeMessage: a tombstone carries no value, got 1 bytes');
  is(bad(g([{ ...e0, tombstone: true, reapLeftMs: -1 }])), 'encodeMessage: reapLeftMs must be an integer in 0..4294967295, got -1');
  is(bad(g([{ ...e0, value: new Uint8Array(513) }])), 'encodeMessage: value must be at most 512 bytes, got 513');
  is(bad(g([{ ...e0, ltime: 0 }])), 'encodeMessage: entry ltime must be an integer in 1..2^53-1, got 0');
  is(bad(g([{ ...e0, key: '' }])), 'encodeMessage: key must be 1..255 bytes of UTF-8, got 0');
  is(bad(g([], [...own, ...own])), 'encodeMessage: owner a listed twice');
  is(bad({ type: 'networkEvent', node: 'x'.repeat(33), nid: 'n', ltime: 1, leaving: false }), 'encodeMessage: node must be 1..32 bytes of UTF-8, got 33');
  is(bad({ type: 'networkState', networkLtime: -1, records: [] }), 'encodeMessage: networkLtime must be an integer in 0..2^53-1, got -1');
  throws(() => encodeMessage({ type: 'bulkSync', response: false, tableLtime: 1.5, nid: 'n', owners: [], entries: [] }), /tableLtime must be an integer/);
});

t('malformed input only ever raises NetworkDbWireError (20k seeded mutations)', () => {
  const r = seededRand(5);
  const samples = GOLDEN.map(([m]) => encodeMessage(m));
  let refusedCount = 0;
  for (let i = 0; i < 20_000; i++) {
    const buf = Uint8Array.from(samples[r.int(samples.length)]!);
    const mode = r.int(3);
    if (mode === 0) buf[r.int(buf.length)] = r.int(256);
    const input = mode === 1 ? buf.subarray(0, r.int(buf.length)) : mode === 2 ? r.bytes(r.int(60)) : buf;
    try {
      const m = decodeMessage(input);
      is(encodedSize(m), input.length, 'a decoded message re-encodes to its length');
    } catch (e) {
      ok(e instanceof NetworkDbWireError, String(e));
      refusedCount++;
    }
  }
  ok(refusedCount > 10_000, `only ${refusedCount} refused`);
});

t.run();
