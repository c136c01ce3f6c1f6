// The leader's orchestrator shell (issue 8): runs the pure reconcile
// (orchestrator.ts) after store changes and when a restart delay ends, and
// commits what it decides as one batch, under the lock every IPAM writer
// holds. A refused batch (an object changed meanwhile) is simply decided
// again from the newer store. Only the leader runs one.
import type { Clock, Timer } from '../../shared/clock.js';
import type { Rand } from '../../shared/rand.js';
import { encodeBase36 } from '../cluster/ca/base36.js';
import { batch, type Command, type Store } from '../cluster/store/index.js';
import type { Logger } from '../daemon/log.js';
import { ipamId } from './network-ops.js';
import { reconcile } from './orchestrator.js';

/** Store changes arriving together are reconciled once. */
const SETTLE_MS = 20;
/** After a failed pass. */
const RETRY_MS = 500;
/** Even with nothing due, a pass now and then (a lost wake-up costs at most this). */
const IDLE_MS = 5_000;
const ID_BYTES = 16;

export interface OrchestratorLoopDeps {
  clock: Clock;
  rand: Rand;
  store(): Store;
  leading(): boolean;
  commit(cmd: Command): Promise<void>;
  exclusive<T>(f: () => Promise<T>): Promise<T>;
  log: Logger;
}

export class OrchestratorLoop {
  readonly #d: OrchestratorLoopDeps;
  #timer: Timer | undefined;
  #dueAt = Infinity;
  #running = false;
  #again = false;
  #stopped = false;
  readonly stats = { passes: 0, commits: 0, failures: 0 };

  constructor(d: OrchestratorLoopDeps) {
    this.#d = d;
    this.kick();
  }

  /** Something changed: reconcile soon. */
  kick(): void {
    this.#at(this.#d.clock.nowMs() + SETTLE_MS);
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  #at(ms: number): void {
    if (this.#stopped || ms >= this.#dueAt) return;
    this.#timer?.cancel();
    this.#dueAt = ms;
    this.#timer = this.#d.clock.after(Math.max(0, ms - this.#d.clock.nowMs()), () => {
      this.#dueAt = Infinity;
      void this.#pass();
    });
  }

  async #pass(): Promise<void> {
    if (this.#stopped || !this.#d.leading()) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    let next = this.#d.clock.nowMs() + IDLE_MS;
    try {
      const wake = await this.#d.exclusive(() => this.#once());
      if (wake !== undefined) next = Math.min(next, wake);
    } catch (e) {
      this.stats.failures++;
      this.#d.log.debug('orchestrator pass failed', { error: (e as Error).message });
      next = this.#d.clock.nowMs() + RETRY_MS;
    } finally {
      this.#running = false;
    }
    if (this.#again) {
      this.#again = false;
      next = this.#d.clock.nowMs() + SETTLE_MS;
    }
    this.#at(next);
  }

  /** One reconcile and its commit; the wall-clock time the next one is due, if any. */
  async #once(): Promise<number | undefined> {
    this.stats.passes++;
    const store = this.#d.store();
    const networks = store.list('network');
    const wallNow = Math.floor(this.#d.clock.wallMs());
    const out = reconcile({
      services: store.list('service'),
      tasks: store.tasks(),
      nodes: store.list('node'),
      networks,
      ipams: networks.flatMap((n) => store.get('ipam', ipamId(n.id)) ?? []),
      nowMs: wallNow,
      newId: () => encodeBase36(this.#d.rand.bytes(ID_BYTES)).slice(0, 25),
    });
    if (out.changes.length > 0) {
      await this.#d.commit(batch(...out.changes));
      this.stats.commits++;
      // What it wrote may enable more (a slot freed by a shutdown): look again.
      this.#again = true;
    }
    // wakeAtMs is wall-clock; timers run on the monotonic clock.
    return out.wakeAtMs === undefined ? undefined : this.#d.clock.nowMs() + Math.max(0, out.wakeAtMs - wallNow);
  }
}
