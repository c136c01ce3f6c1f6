// The gossip keyring (issue 5): validation with exact messages, the choice of
// the sending key, per-key nonce state across set(), the per-key message
// limit, and the rotation scenario of agent/gossip/keyring.ts's header: nodes
// on the current ring or one rotation behind all read each other; two
// rotations behind they do not, and the drop is counted.
import { suite, equal, is, ok, throws } from '../../harness.js';
import { seededRand } from '../../../shared/rand.js';
import { nobleAesGcm, nodeAesGcm } from '../../../shared/crypto/aead.js';
import { GossipKeyring, DEFAULT_MAX_SEALS_PER_KEY, type GossipKey } from '../../../agent/gossip/keyring.js';
import { open, seal, NONCE_OFFSET, CIPHERTEXT_OFFSET } from '../../../agent/gossip/sealed-packet.js';

const t = suite('gossip keyring');
const SEED = 0x6b657972;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

/** Deterministic key bytes per generation, the same on every "node". */
function keyOf(generation: number): GossipKey {
  return { generation, key: seededRand(SEED + generation).bytes(32) };
}
const ring = (...gens: number[]): GossipKey[] => gens.map(keyOf);
const totalDrops = (r: GossipKeyring): number => r.drops.unknownKey + r.drops.badTag + r.drops.tooShort + r.drops.badVersion;

t('set() validates with exact messages and is all or nothing', () => {
  const k = keyOf(1).key;
  throws(() => new GossipKeyring([]), (e: Error) => e.message === 'GossipKeyring: keys must hold 1 to 3 keys, got 0');
  throws(() => new GossipKeyring(ring(1, 2, 3, 4)), (e: Error) => e.message === 'GossipKeyring: keys must hold 1 to 3 keys, got 4');
  throws(() => new GossipKeyring('k' as never), (e: Error) => e instanceof TypeError && e.message === 'GossipKeyring: keys must be an array, got string');
  for (const g of [-1, 1.5, 2 ** 32, NaN, '1']) {
    throws(
      () => new GossipKeyring([{ generation: g as number, key: k }]),
      (e: Error) => e instanceof RangeError && e.message === `GossipKeyring: keys[0].generation must be an integer in 0..2^32-1, got ${g}`,
    );
  }
  throws(
    () => new GossipKeyring([keyOf(1), { generation: 2, key: k.subarray(0, 16) }]),
    (e: Error) => e.message === 'GossipKeyring: keys[1].key must be 32 bytes, got 16',
  );
  throws(
    () => new GossipKeyring([{ generation: 2, key: [...k] as never }]),
    (e: Error) => e instanceof TypeError && e.message === 'GossipKeyring: keys[0].key must be a Uint8Array, got object',
  );
  throws(() => new GossipKeyring([keyOf(7), keyOf(7)]), (e: Error) => e.message === 'GossipKeyring: generation 7 appears more than once');
  for (const m of [0, 1.5, 2 ** 32 + 1]) {
    throws(() => new GossipKeyring(ring(1), { maxSealsPerKey: m }), (e: Error) => e.message === `GossipKeyring: maxSealsPerKey must be an integer in 1..2^32, got ${m}`);
  }
  // Edges that are valid.
  new GossipKeyring([{ generation: 0, key: k }, { generation: 2 ** 32 - 1, key: k }], { maxSealsPerKey: 2 ** 32 });

  const r = new GossipKeyring(ring(1, 2));
  throws(() => r.set([keyOf(3), { generation: 4, key: new Uint8Array(31) }]), /keys\[1\]\.key must be 32 bytes, got 31/);
  equal(r.generations, [1, 2], 'a rejected set() leaves the ring as it was');
});

t('primary(): the second newest key, the only one when there is one; input order does not matter', () => {
  is(new GossipKeyring(ring(5)).primary().generation, 5);
  is(new GossipKeyring(ring(5, 6)).primary().generation, 5);
  is(new GossipKeyring(ring(6, 5)).primary().generation, 5);
  is(new GossipKeyring(ring(5, 6, 7)).primary().generation, 6);
  const r = new GossipKeyring(ring(9, 7, 8));
  equal(r.generations, [7, 8, 9]);
  is(r.primary().generation, 8);
  is(r.get(7)?.generation, 7);
  is(r.get(10), undefined);
  ok(Object.isFrozen(r.generations));
});

t('the ring holds its own copy of the key bytes', () => {
  const k = keyOf(1);
  const mine = { generation: 1, key: Uint8Array.from(k.key) };
  const r = new GossipKeyring([mine]);
  const packet = seal(r, enc('hello'));
  mine.key.fill(0);
  is(dec(open(new GossipKeyring([k]), packet)), 'hello', 'sealed with the original bytes');
  is(dec(open(r, packet)), 'hello', 'and the ring still opens it');
});

t('set(): a kept generation keeps its count; new bytes under the same generation replace the key and start a fresh count', () => {
  const r = new GossipKeyring(ring(1, 2));
  seal(r, enc('a'));
  seal(r, enc('b'));
  r.set(ring(2, 1));
  is(r.get(1)?.sealed, 2);
  const other = { generation: 1, key: seededRand(4321).bytes(32) };
  r.set([other, keyOf(2)]);
  is(r.get(1)?.sealed, 0);
  is(dec(open(new GossipKeyring([other]), seal(r, enc('new bytes')))), 'new bytes');
  is(open(new GossipKeyring([keyOf(1)]), seal(r, enc('x'))), undefined, 'the old bytes are gone');
});

t('each key stops sealing at its limit with a clear error; a newer primary seals again', () => {
  const r = new GossipKeyring(ring(1), { maxSealsPerKey: 3, rand: seededRand(SEED) });
  for (let i = 0; i < 3; i++) seal(r, enc(`m${i}`));
  is(r.primary().sealed, 3);
  throws(
    () => seal(r, enc('one too many')),
    (e: Error) =>
      e instanceof RangeError &&
      e.message ===
        'seal: gossip key generation 1 has sealed 3 messages, its limit; refusing to use it further until the keyring holds a newer key (the leader rotates gossip keys, every 12 h by default)',
  );
  is(r.primary().sealed, 3, 'a refused seal spends nothing');
  r.set(ring(1));
  throws(() => seal(r, enc('x')), /has sealed 3 messages/, 'setting the same key again does not reset its count');
  r.set(ring(1, 2));
  throws(() => seal(r, enc('x')), /generation 1 has sealed 3/, 'with two keys the older one is still the primary');
  r.set(ring(1, 2, 3));
  is(r.primary().generation, 2);
  is(dec(open(r, seal(r, enc('again')))), 'again');
  is(DEFAULT_MAX_SEALS_PER_KEY, 2 ** 28);
});

t('nonces never repeat for a generation across seals and set() calls (same key kept, key replaced, key removed and re-added)', () => {
  const rand = seededRand(SEED);
  const r = new GossipKeyring(ring(1), { rand });
  const seen = new Set<string>();
  const other = { generation: 1, key: seededRand(99).bytes(32) };
  const steps: GossipKey[][] = [ring(1), ring(1), [other], ring(1), ring(1, 2), ring(1, 2, 3), ring(2, 3, 4), ring(1, 2, 3), ring(1)];
  for (const keys of steps) {
    r.set(keys);
    for (let i = 0; i < 300; i++) {
      const p = seal(r, enc('n'));
      const id = `${r.primary().generation}:${Buffer.from(p.subarray(NONCE_OFFSET, CIPHERTEXT_OFFSET)).toString('hex')}`;
      ok(!seen.has(id), `nonce repeated: ${id} (seed ${SEED})`);
      seen.add(id);
    }
  }
  is(seen.size, steps.length * 300);
});

// Ring history as the leader makes it: one key per rotation, the newest 3 kept.
const HISTORY: number[][] = [[1], [1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]];

// Which ring (index into HISTORY) each node holds at each step. Nodes only
// move forward, and each is at most one rotation behind the current ring.
const NODES = ['n1 (node:crypto)', 'n2 (noble)', 'n3 (node:crypto)', 'n4 (noble)'];
const SCHEDULE: number[][] = [
  [0, 0, 0, 0],
  [1, 1, 0, 0],
  [1, 2, 1, 2],
  [2, 3, 3, 2],
  [4, 3, 4, 3],
  [5, 4, 4, 5],
  [5, 5, 5, 5],
];

t('rotation: every node on the current ring or one behind opens what any other sends, both ways', () => {
  const rand = seededRand(SEED);
  const nodes = NODES.map((_, i) => new GossipKeyring(ring(...HISTORY[0]!), { rand: rand.fork(), aead: i % 2 === 0 ? nodeAesGcm : nobleAesGcm }));
  SCHEDULE.forEach((row, step) => {
    const current = Math.max(...row);
    row.forEach((h, i) => {
      ok(h === current || h === current - 1, 'the schedule only lags by one rotation');
      nodes[i]!.set(ring(...HISTORY[h]!));
    });
    for (const [i, from] of nodes.entries()) {
      const msg = `step ${step} from ${NODES[i]} on ring ${HISTORY[row[i]!]!.join(',')}`;
      const packet = seal(from, enc(msg));
      for (const [j, to] of nodes.entries()) {
        is(dec(open(to, packet)), msg, `${NODES[j]} on ring ${HISTORY[row[j]!]!.join(',')} opens: ${msg}`);
      }
    }
    // The dumb twin of primary(): the newest key the previous ring already held.
    for (let h = 1; h < HISTORY.length; h++) {
      const twin = Math.max(...HISTORY[h]!.filter((g) => HISTORY[h - 1]!.includes(g)));
      is(new GossipKeyring(ring(...HISTORY[h]!)).primary().generation, twin, `ring ${HISTORY[h]!.join(',')}`);
    }
  });
  for (const n of nodes) is(totalDrops(n), 0);
});

t('rotation: two rotations apart the newer ring is unreadable to the older, and from R3 on neither reads the other; drops count unknownKey', () => {
  for (let h = 2; h < HISTORY.length; h++) {
    const fresh = new GossipKeyring(ring(...HISTORY[h]!));
    const stale = new GossipKeyring(ring(...HISTORY[h - 2]!));
    is(open(stale, seal(fresh, enc('new'))), undefined);
    equal(stale.drops, { unknownKey: 1, badTag: 0, tooShort: 0, badVersion: 0 }, `stale ring ${HISTORY[h - 2]!.join(',')}`);
    // R0 -> R2 is the one exception: g1 is still in [1,2,3].
    const expectOld = h === 2 ? 'old' : undefined;
    is(dec(open(fresh, seal(stale, enc('old')))), expectOld, `ring ${HISTORY[h - 2]!.join(',')} -> ring ${HISTORY[h]!.join(',')}`);
    equal(fresh.drops, { unknownKey: h === 2 ? 0 : 1, badTag: 0, tooShort: 0, badVersion: 0 }, `fresh ring ${HISTORY[h]!.join(',')}`);
  }
});

t('the same generation with other key bytes is a bad tag, not a crash', () => {
  const a = new GossipKeyring(ring(1));
  const b = new GossipKeyring([{ generation: 1, key: seededRand(1234).bytes(32) }]);
  is(open(b, seal(a, enc('x'))), undefined);
  equal(b.drops, { unknownKey: 0, badTag: 1, tooShort: 0, badVersion: 0 });
});

t.run();
