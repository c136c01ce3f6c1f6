// The leader's gossip keyring in the store (issue 5): a new key every period,
// the newest three kept, generations only growing.
import { suite, is, ok, equal } from '../../harness.js';
import { seededRand } from '../../../shared/rand.js';
import { Store, encodeCommand } from '../../../agent/cluster/store/index.js';
import { GOSSIP_KEY_BYTES, KEEP_GOSSIP_KEYS, gossipKeyId, gossipKeys, nextRotationAtMs, rotateGossipKeys } from '../../../agent/swarm/gossip-keys.js';

const t = suite('gossip keys');
const HOUR = 3_600_000;

t('rotation adds the next generation and keeps the newest three, oldest dropped first', () => {
  const store = new Store();
  const rand = seededRand(7);
  let index = 0;
  const seen = new Set<string>();
  for (let round = 1; round <= 6; round++) {
    const r = store.apply(++index, encodeCommand(rotateGossipKeys(gossipKeys(store), rand, round * HOUR)));
    ok(r.ok, `round ${round}: ${r.ok ? '' : r.error.message}`);
    const keys = gossipKeys(store);
    equal(keys.map((k) => k.generation), Array.from({ length: Math.min(round, KEEP_GOSSIP_KEYS) }, (_, i) => round - Math.min(round, KEEP_GOSSIP_KEYS) + 1 + i));
    const newest = keys.at(-1)!;
    is(newest.id, gossipKeyId(round));
    is(newest.key.length, GOSSIP_KEY_BYTES);
    is(newest.createdAtMs, round * HOUR);
    const hex = Buffer.from(newest.key).toString('hex');
    ok(!seen.has(hex), 'every key is new');
    seen.add(hex);
  }
});

t('the next rotation is one period after the newest key, or now when there is none', () => {
  is(nextRotationAtMs([], 12 * HOUR, 5), 5);
  is(nextRotationAtMs([{ createdAtMs: 1 * HOUR }, { createdAtMs: 3 * HOUR }, { createdAtMs: 2 * HOUR }], 12 * HOUR, 0), 15 * HOUR);
});

t.run();
