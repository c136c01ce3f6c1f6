// The encrypted overlays' data keys in the store (agent/swarm/data-keys.ts,
// issue 7): made with the network in one batch, removed with it, rotated per
// network keeping the newest three; and what a node's assignment carries:
// keys only for the encrypted networks it has endpoints on, peers only the
// nodes it shares one with.
import { suite, is, ok, equal } from '../../harness.js';
import { seededRand } from '../../../shared/rand.js';
import {
  DATA_KEY_BYTES, KEEP_DATA_KEYS, dataAssignment, dataKeyId, dataKeysOf, nextDataRotationAtMs, rotateDataKeys, vtepOf,
} from '../../../agent/swarm/data-keys.js';
import { KEEP_GOSSIP_KEYS } from '../../../agent/swarm/gossip-keys.js';
import { ipamId } from '../../../agent/swarm/network-ops.js';
import { HOUR, PERIOD_MS, hex, world, type World } from './data-fixture.js';

const t = suite('swarm/data-keys');
const SEED = Number(process.env.TEST_SEED ?? 0xda7a);
const seedNote = `(seed ${SEED}; TEST_SEED=${SEED} to replay)`;

const changesOf = (w: World, i: number): string[] => {
  const c = w.leader.commits[i]!;
  return c.op === 'batch' ? c.changes.map((x) => `${x.op} ${x.kind}`) : [`${c.op} ${c.kind}`];
};

/** Apply one rotation at wall time nowMs, as the leader would; the networks it rotated. */
function rotate(w: World, nowMs: number, rand = w.rand): string[] {
  const r = rotateDataKeys(w.store, rand, PERIOD_MS, nowMs);
  if (!r) return [];
  const a = w.leader.applyNow(r.command);
  ok(a.ok, `rotation refused: ${a.ok ? '' : a.error.message} ${seedNote}`);
  return r.networks;
}

const gens = (w: World, nid: string): number[] => dataKeysOf(w.store, nid).map((k) => k.generation);

t('KEEP_DATA_KEYS is the gossip keyring rule (3); a key is 32 bytes (a Noise PSK)', () => {
  is(KEEP_DATA_KEYS, KEEP_GOSSIP_KEYS);
  is(KEEP_DATA_KEYS, 3);
  is(DATA_KEY_BYTES, 32);
});

t('network create --opt encrypted: network, IPAM record and generation 1 in one batch; a plain network has no key', async () => {
  const w = await world(SEED);
  w.leader.commits.length = 0;
  const sec = await w.net({ Name: 'sec', Options: { encrypted: '' } });
  equal(changesOf(w, 0), ['create network', 'create ipam', 'create key']);
  const keys = dataKeysOf(w.store, sec);
  is(keys.length, 1);
  const k = keys[0]!;
  equal({ id: k.id, kind: k.kind, networkId: k.networkId, generation: k.generation, createdAtMs: k.createdAtMs }, {
    id: dataKeyId(sec, 1), kind: 'data', networkId: sec, generation: 1, createdAtMs: w.clock.wallMs(),
  });
  is(k.key.length, 32);
  is(w.store.get('network', sec)!.encrypted, true);

  const plain = await w.net({ Name: 'plain' });
  equal(changesOf(w, 1), ['create network', 'create ipam']);
  equal(dataKeysOf(w.store, plain), []);
  // The same seed makes the same key; another seed another.
  const again = await world(SEED);
  const sec2 = await again.net({ Name: 'sec', Options: { encrypted: '' } });
  is(hex(dataKeysOf(again.store, sec2)[0]!.key), hex(k.key), `deterministic ${seedNote}`);
  const other = await world(SEED + 1);
  const sec3 = await other.net({ Name: 'sec', Options: { encrypted: '' } });
  ok(hex(dataKeysOf(other.store, sec3)[0]!.key) !== hex(k.key));
});

t('network rm and prune remove the data keys in the batch that removes the network', async () => {
  const w = await world(SEED);
  const a = await w.net({ Name: 'a', Options: { encrypted: '' } });
  const b = await w.net({ Name: 'b', Options: { encrypted: '' } });
  rotate(w, w.clock.wallMs() + PERIOD_MS);
  rotate(w, w.clock.wallMs() + 2 * PERIOD_MS);
  equal(gens(w, a), [1, 2, 3]);
  w.leader.commits.length = 0;
  await w.networks.remove('a');
  equal(changesOf(w, 0), ['delete network', 'delete ipam', 'delete key', 'delete key', 'delete key']);
  equal(dataKeysOf(w.store, a), []);
  equal(gens(w, b), [1, 2, 3], 'the other network keeps its keys');
  is(w.store.get('ipam', ipamId(a)), undefined);
  // Prune: the same batch shape.
  w.leader.commits.length = 0;
  equal(await w.networks.prune(), { NetworksDeleted: ['b'] });
  equal(changesOf(w, 0), ['delete network', 'delete ipam', 'delete key', 'delete key', 'delete key']);
  equal(w.store.list('key', (k) => k.kind === 'data'), []);
});

t('rotation: a new generation per encrypted network every period, the newest 3 kept, each key new', async () => {
  const w = await world(SEED);
  const t0 = w.clock.wallMs();
  const a = await w.net({ Name: 'a', Options: { encrypted: '' } });
  await w.net({ Name: 'plain' });
  const seen = new Set(dataKeysOf(w.store, a).map((k) => hex(k.key)));
  for (let round = 1; round <= 6; round++) {
    const due = t0 + round * PERIOD_MS;
    equal(rotate(w, due - 1), [], `round ${round}: not due 1 ms early`);
    equal(rotate(w, due), [`a:${round + 1}`], `round ${round}`);
    const keys = dataKeysOf(w.store, a);
    const g = round + 1;
    equal(keys.map((k) => k.generation), Array.from({ length: Math.min(g, 3) }, (_, i) => g - Math.min(g, 3) + 1 + i));
    const newest = keys.at(-1)!;
    is(newest.id, dataKeyId(a, g));
    is(newest.createdAtMs, due);
    ok(!seen.has(hex(newest.key)), 'every key is new');
    seen.add(hex(newest.key));
    is(nextDataRotationAtMs(w.store, PERIOD_MS, due), due + PERIOD_MS);
  }
  equal(w.store.list('key', (k) => k.kind === 'data' && k.networkId !== a), [], 'no key for the plain network');
});

t("rotation: each network on its own schedule (one period after its newest key); one batch for all that are due", async () => {
  const w = await world(SEED);
  const t0 = w.clock.wallMs();
  const a = await w.net({ Name: 'a', Options: { encrypted: '' } });
  w.clock.advance(3 * HOUR);
  const b = await w.net({ Name: 'b', Options: { encrypted: '' } });
  is(nextDataRotationAtMs(w.store, PERIOD_MS, t0 + 3 * HOUR), t0 + PERIOD_MS);
  equal(rotate(w, t0 + PERIOD_MS), ['a:2']);
  equal(gens(w, b), [1]);
  is(nextDataRotationAtMs(w.store, PERIOD_MS, t0 + PERIOD_MS), t0 + 3 * HOUR + PERIOD_MS);
  // Both overdue (no leader for a while): one batch, one new generation each, not one per missed period.
  equal(rotate(w, t0 + 5 * PERIOD_MS).sort(), ['a:3', 'b:2']);
  const c = w.leader.commits.at(-1)!;
  is(c.op, 'batch');
  equal(gens(w, a), [1, 2, 3]);
  equal(gens(w, b), [1, 2]);
  equal(rotate(w, t0 + 5 * PERIOD_MS), [], 'nothing due right after');
  // No encrypted network: nothing is ever due.
  const empty = await world(SEED);
  is(nextDataRotationAtMs(empty.store, PERIOD_MS, 5), Infinity);
  is(rotateDataKeys(empty.store, empty.rand, PERIOD_MS, 5), undefined);
});

t('rotation: an encrypted network without a key gets generation 1 now; stray keys of removed networks are swept', async () => {
  const w = await world(SEED);
  const a = await w.net({ Name: 'a', Options: { encrypted: '' } });
  // As a store from before data keys: the network without its key.
  const k1 = dataKeysOf(w.store, a)[0]!;
  w.leader.applyNow({ op: 'delete', kind: 'key', id: k1.id });
  const now = w.clock.wallMs() + 10;
  is(nextDataRotationAtMs(w.store, PERIOD_MS, now), now);
  equal(rotate(w, now), ['a:1']);
  equal(gens(w, a), [1]);
  // A key left behind for a network that is gone: due at once, removed alone.
  w.leader.applyNow({ op: 'create', kind: 'key', object: { id: 'data-gone-4', kind: 'data', networkId: 'gone', generation: 4, key: new Uint8Array(32), createdAtMs: now } });
  is(nextDataRotationAtMs(w.store, PERIOD_MS, now + 1), now + 1);
  equal(rotate(w, now + 1), []);
  equal(changesOf(w, w.leader.commits.length - 1), ['delete key']);
  is(w.store.get('key', 'data-gone-4'), undefined);
  equal(gens(w, a), [1]);
});

t('rotation with a seeded Rand is deterministic: the same store and seed give the same keys', async () => {
  const make = async () => {
    const w = await world(SEED);
    await w.net({ Name: 'a', Options: { encrypted: '' } });
    await w.net({ Name: 'b', Options: { encrypted: '' } });
    const r = seededRand(SEED ^ 0x55);
    for (let i = 1; i <= 4; i++) rotate(w, w.clock.wallMs() + i * PERIOD_MS, r);
    return w.store.list('key').map((k) => `${k.id}=${hex(k.key)}`);
  };
  equal(await make(), await make(), seedNote);
});

// ---- the assignment ----------------------------------------------------------

const A = 'nodea';
const B = 'nodeb';
const C = 'nodec';
const D = 'noded';

/** Three nodes; networks sec (encrypted), sec2 (encrypted), plain. */
async function cluster(): Promise<World & { sec: string; sec2: string; plain: string }> {
  const w = await world(SEED);
  w.node(A);
  w.node(B, { dataAddr: '' });
  w.node(C);
  w.node(D);
  const sec = await w.net({ Name: 'sec', Options: { encrypted: '' } });
  const sec2 = await w.net({ Name: 'sec2', Options: { encrypted: '' } });
  const plain = await w.net({ Name: 'plain' });
  return { ...w, sec, sec2, plain };
}

t('assignment: keys only for the encrypted networks the node has tasks with addresses on, oldest first, with the VNI', async () => {
  const w = await cluster();
  equal(dataAssignment(w.store, A), { dataKeys: [], peers: [] }, 'no tasks: nothing');
  w.task('t1', A, { [w.plain]: '10.0.2.2/24' });
  equal(dataAssignment(w.store, A), { dataKeys: [], peers: [] }, 'a plain network: nothing');
  w.task('t2', A, { [w.sec]: '10.0.0.2/24', [w.plain]: '10.0.2.3/24' });
  rotate(w, w.clock.wallMs() + PERIOD_MS);
  rotate(w, w.clock.wallMs() + 2 * PERIOD_MS);
  rotate(w, w.clock.wallMs() + 3 * PERIOD_MS);
  const keys = dataKeysOf(w.store, w.sec);
  equal(keys.map((k) => k.generation), [2, 3, 4]);
  equal(dataAssignment(w.store, A).dataKeys, [
    { networkId: w.sec, vni: w.store.get('network', w.sec)!.vni!, keys: keys.map((k) => ({ generation: k.generation, key: k.key })) },
  ]);
  // A task not on sec2 does not bring sec2's key; B (no tasks) gets nothing.
  equal(dataAssignment(w.store, B).dataKeys, []);
  // A task on sec2 too: both networks, by id.
  w.task('t3', A, { [w.sec2]: '10.0.1.2/24' });
  equal(dataAssignment(w.store, A).dataKeys.map((d) => d.networkId), [w.sec, w.sec2].sort());
});

t('assignment: tasks being removed do not count; the last endpoint going takes the key away at once', async () => {
  const w = await cluster();
  w.task('t1', A, { [w.sec]: '10.0.0.2/24' });
  w.task('t2', A, { [w.sec]: '10.0.0.3/24' });
  w.task('tb', B, { [w.sec]: '10.0.0.4/24' });
  is(dataAssignment(w.store, A).dataKeys.length, 1);
  w.setTask('t1', { desiredState: 'remove' });
  is(dataAssignment(w.store, A).dataKeys.length, 1, 'one endpoint left');
  w.removeTask('t2');
  equal(dataAssignment(w.store, A), { dataKeys: [], peers: [] });
  // B keeps its key but has no peer left.
  equal(dataAssignment(w.store, B).peers, []);
  is(dataAssignment(w.store, B).dataKeys.length, 1);
});

t('assignment: peers are the other nodes sharing an encrypted network, by id, with their key, VTEP and shared networks', async () => {
  const w = await cluster();
  w.task('ta', A, { [w.sec]: '10.0.0.2/24', [w.sec2]: '10.0.1.2/24' });
  w.task('tb', B, { [w.sec]: '10.0.0.3/24' });
  w.task('tc', C, { [w.sec2]: '10.0.1.3/24', [w.plain]: '10.0.2.2/24' });
  w.task('td', D, { [w.plain]: '10.0.2.3/24' }); // only the plain network: never a peer
  const nodeB = w.store.get('node', B)!;
  const nodeC = w.store.get('node', C)!;
  equal(dataAssignment(w.store, A).peers, [
    { nodeId: B, publicKey: nodeB.publicKey, vtep: '10.0.0.2', networks: [w.sec] }, // no dataAddr: the advertise host
    { nodeId: C, publicKey: nodeC.publicKey, vtep: nodeC.dataAddr, networks: [w.sec2] },
  ]);
  is(vtepOf(nodeB), '10.0.0.2');
  // B shares only sec with A; C only sec2 with A; they share nothing with each other.
  equal(dataAssignment(w.store, B).peers.map((p) => [p.nodeId, p.networks]), [[A, [w.sec]]]);
  equal(dataAssignment(w.store, C).peers.map((p) => [p.nodeId, p.networks]), [[A, [w.sec2]]]);
  equal(dataAssignment(w.store, D), { dataKeys: [], peers: [] });
  // A peer task being removed: that peer goes.
  w.setTask('tc', { desiredState: 'remove' });
  equal(dataAssignment(w.store, A).peers.map((p) => p.nodeId), [B]);
});

t('assignment: a node removed from the swarm disappears from every peer list at once (its tasks may linger)', async () => {
  const w = await cluster();
  w.task('ta', A, { [w.sec]: '10.0.0.2/24' });
  w.task('tb', B, { [w.sec]: '10.0.0.3/24' });
  w.task('tc', C, { [w.sec]: '10.0.0.4/24' });
  equal(dataAssignment(w.store, A).peers.map((p) => p.nodeId), [B, C]);
  w.removeNode(B);
  ok(w.store.get('task', 'tb'), 'its task is still in the store');
  equal(dataAssignment(w.store, A).peers.map((p) => p.nodeId), [C]);
  equal(dataAssignment(w.store, C).peers.map((p) => p.nodeId), [A]);
});

t('assignment: encodes the same whatever order the store was written in (deterministic)', async () => {
  const build = async (order: number[]) => {
    const w = await cluster();
    const tasks: [string, string, Record<string, string>][] = [
      ['ta', A, { [w.sec]: '10.0.0.2/24', [w.sec2]: '10.0.1.2/24' }],
      ['tc', C, { [w.sec]: '10.0.0.4/24' }],
      ['tb', B, { [w.sec2]: '10.0.1.3/24', [w.sec]: '10.0.0.3/24' }],
    ];
    for (const i of order) w.task(...tasks[i]!);
    return JSON.stringify(dataAssignment(w.store, A), (_k, v: unknown) => (v instanceof Uint8Array ? hex(v) : v));
  };
  is(await build([0, 1, 2]), await build([2, 1, 0]));
  is(await build([1, 0, 2]), await build([0, 2, 1]));
});

t.run();
