// The gossip keyring in the store (issue 5, DESIGN §1): the leader makes a
// new AES-256 key every keyRotationMs (12 h by default) and keeps the newest
// KEEP_GOSSIP_KEYS, as swarmkit's key manager does. Nodes get the ring in
// their assignment; they send with a key every node already holds and
// accept all of them (agent/gossip/keyring.ts). Pure: the leader's timer
// lives in manager.ts.
import type { Clock, Timer } from '../../shared/clock.js';
import type { Rand } from '../../shared/rand.js';
import type { Logger } from '../daemon/log.js';
import { batch, create, remove, type Command, type Store } from '../cluster/store/index.js';
import { CLUSTER_ID_KEY } from './store-ids.js';
import type { Key } from '../cluster/store/types.js';

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

/** How often the leader looks at the newest key's age. */
const ROTATION_CHECK_MS = 1_000;

export interface GossipKeyRotatorDeps {
  clock: Clock;
  rand: Rand;
  store(): Store;
  /** Still the leader (and not closing). */
  leading(): boolean;
  propose(cmd: Command): Promise<void>;
  log: Logger;
}

/**
 * The leader's rotation timer: it looks at least every second, so a period
 * changed by `swarm update` takes effect at once, and it resumes from the
 * newest key's age after a leader change. Made when a manager starts
 * leading, stopped when it stops.
 */
export class GossipKeyRotator {
  readonly #d: GossipKeyRotatorDeps;
  #timer: Timer | undefined;
  #stopped = false;

  constructor(d: GossipKeyRotatorDeps) {
    this.#d = d;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  #schedule(): void {
    const store = this.#d.store();
    const c = store.get('cluster', CLUSTER_ID_KEY);
    const now = this.#d.clock.wallMs();
    const dueMs = c ? nextRotationAtMs(gossipKeys(store), c.keyRotationMs, now) - now : ROTATION_CHECK_MS;
    this.#timer = this.#d.clock.after(Math.max(0, Math.min(ROTATION_CHECK_MS, dueMs)), () => void this.#rotate());
  }

  async #rotate(): Promise<void> {
    if (this.#stopped || !this.#d.leading()) return;
    const store = this.#d.store();
    const c = store.get('cluster', CLUSTER_ID_KEY);
    const now = this.#d.clock.wallMs();
    if (c && nextRotationAtMs(gossipKeys(store), c.keyRotationMs, now) <= now) {
      try {
        await this.#d.propose(rotateGossipKeys(gossipKeys(store), this.#d.rand, now));
        this.#d.log.info('gossip key rotated', { generation: gossipKeys(this.#d.store()).at(-1)?.generation ?? 0 });
      } catch (e) {
        this.#d.log.debug('gossip key rotation not committed', { error: (e as Error).message });
      }
    }
    if (!this.#stopped && this.#d.leading()) this.#schedule();
  }
}
