// The leader's key rotation timer (issues 5 and 7): the gossip keyring
// (gossip-keys.ts) and the encrypted overlays' data keys (data-keys.ts) each
// give a schedule, pure functions of the store; this shell looks at them at
// least every second and proposes what is due. Made when a manager starts
// leading, stopped when it stops; a new leader continues from the newest
// keys' createdAtMs, which the store carries, so a leader change neither
// skips a rotation nor adds one.
import type { Clock, Timer } from '../../shared/clock.js';
import type { Rand } from '../../shared/rand.js';
import type { Fields, Logger } from '../daemon/log.js';
import type { Command, Store } from '../cluster/store/index.js';
import { CLUSTER_ID_KEY } from './store-ids.js';

/** One kind of key the leader rotates every keyRotationMs. */
export interface KeySchedule {
  /** For the log line: `${name} rotated`. */
  name: string;
  /** Wall ms at which something is due (Infinity when nothing ever is). */
  dueAtMs(store: Store, periodMs: number, nowMs: number): number;
  /** The command for what is due at nowMs, with what to log; undefined when nothing is. */
  rotate(store: Store, rand: Rand, periodMs: number, nowMs: number): { command: Command; fields: Fields } | undefined;
}

/** How often the leader looks at the newest keys' age, at most: a period changed by `swarm update` takes effect within this. */
export const ROTATION_CHECK_MS = 1_000;

export interface KeyRotatorDeps {
  clock: Clock;
  rand: Rand;
  store(): Store;
  /** Still the leader (and not closing). */
  leading(): boolean;
  /** Commit a command; rejects when it was not applied. */
  propose(cmd: Command): Promise<void>;
  /**
   * Run f with no other leader write to keys in flight (NetworkOps.exclusive):
   * network create and remove read the keys they change, so a rotation
   * between their read and their commit would make them fail.
   */
  exclusive<T>(f: () => Promise<T>): Promise<T>;
  schedules: readonly KeySchedule[];
  log: Logger;
}

export class KeyRotator {
  readonly #d: KeyRotatorDeps;
  #timer: Timer | undefined;
  #stopped = false;

  constructor(d: KeyRotatorDeps) {
    this.#d = d;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  /** Ms until the next look: when the earliest schedule is due, at most ROTATION_CHECK_MS. */
  #delayMs(): number {
    const store = this.#d.store();
    const c = store.get('cluster', CLUSTER_ID_KEY);
    if (!c) return ROTATION_CHECK_MS;
    const now = this.#d.clock.wallMs();
    const due = Math.min(...this.#d.schedules.map((s) => s.dueAtMs(store, c.keyRotationMs, now)));
    return Math.max(0, Math.min(ROTATION_CHECK_MS, due - now));
  }

  #schedule(failed = false): void {
    // After a refused proposal, wait a full check rather than retry at once.
    this.#timer = this.#d.clock.after(failed ? ROTATION_CHECK_MS : this.#delayMs(), () => void this.#rotate());
  }

  async #rotate(): Promise<void> {
    let failed = false;
    for (const s of this.#d.schedules) {
      if (this.#stopped || !this.#d.leading()) return;
      try {
        await this.#d.exclusive(async () => {
          // Read inside the lock: what is due is decided on the store the command will meet.
          const store = this.#d.store();
          const c = store.get('cluster', CLUSTER_ID_KEY);
          if (!c || this.#stopped || !this.#d.leading()) return;
          const r = s.rotate(store, this.#d.rand, c.keyRotationMs, this.#d.clock.wallMs());
          if (!r) return;
          await this.#d.propose(r.command);
          this.#d.log.info(`${s.name} rotated`, r.fields);
        });
      } catch (e) {
        failed = true;
        this.#d.log.debug(`${s.name} rotation not committed`, { error: (e as Error).message });
      }
    }
    if (!this.#stopped && this.#d.leading()) this.#schedule(failed);
  }
}
