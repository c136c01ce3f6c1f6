// The gossip keyring in the store (issue 5, DESIGN §1): the leader makes a
// new AES-256 key every keyRotationMs (12 h by default) and keeps the newest
// KEEP_GOSSIP_KEYS, as swarmkit's key manager does. Nodes get the ring in
// their assignment; they send with a key every node already holds and
// accept all of them (agent/gossip/keyring.ts). Pure: the leader's timer
// lives in key-rotator.ts.
import type { Rand } from '../../shared/rand.js';
import { batch, create, remove, type Command, type Store } from '../cluster/store/index.js';
import type { Key } from '../cluster/store/types.js';
import type { KeySchedule } from './key-rotator.js';

/** swarmkit keeps three: the one being phased out, the one in use, the newest (REFERENCE: key manager). */
export const KEEP_GOSSIP_KEYS = 3;
export const GOSSIP_KEY_BYTES = 32;

export function gossipKeyId(generation: number): string {
  return `gossip-${generation}`;
}

/** The gossip keys in the store, oldest first. */
export function gossipKeys(store: Store): Key[] {
  return store.list('key', (k) => k.kind === 'gossip').sort((a, b) => a.generation - b.generation);
}

/** Wall time at which the next key is due: one period after the newest key was made (now, if there is none). */
export function nextRotationAtMs(keys: readonly Pick<Key, 'createdAtMs'>[], periodMs: number, nowMs: number): number {
  const newest = keys.reduce((m, k) => Math.max(m, k.createdAtMs), -Infinity);
  return Number.isFinite(newest) ? newest + periodMs : nowMs;
}

/** The command that adds the next key and drops keys beyond KEEP_GOSSIP_KEYS, oldest first. */
export function rotateGossipKeys(keys: readonly Key[], rand: Rand, nowMs: number): Command {
  const generation = keys.reduce((m, k) => Math.max(m, k.generation), 0) + 1;
  const drop = keys.length + 1 - KEEP_GOSSIP_KEYS;
  const sorted = [...keys].sort((a, b) => a.generation - b.generation);
  return batch(
    create('key', { id: gossipKeyId(generation), kind: 'gossip', generation, key: rand.bytes(GOSSIP_KEY_BYTES), createdAtMs: Math.floor(nowMs) }),
    ...sorted.slice(0, Math.max(0, drop)).map((k) => remove('key', k.id, k.meta.version)),
  );
}

/** The gossip keyring's schedule for the leader's KeyRotator. */
export const GOSSIP_KEY_SCHEDULE: KeySchedule = {
  name: 'gossip key',
  dueAtMs: (store, periodMs, nowMs) => nextRotationAtMs(gossipKeys(store), periodMs, nowMs),
  rotate(store, rand, periodMs, nowMs) {
    const keys = gossipKeys(store);
    if (nextRotationAtMs(keys, periodMs, nowMs) > nowMs) return undefined;
    const generation = keys.reduce((m, k) => Math.max(m, k.generation), 0) + 1;
    return { command: rotateGossipKeys(keys, rand, nowMs), fields: { generation } };
  },
};
