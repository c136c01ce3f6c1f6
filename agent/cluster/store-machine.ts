// The cluster store as the replica's state machine. Restoring a snapshot
// (one installed by the leader) swaps in a new Store; the old one's watchers
// are failed so their consumers re-read the new store and watch again.
import type { StateMachine } from './replica.js';
import { Store, type ApplyResult } from './store/index.js';

export class StoreMachine implements StateMachine<ApplyResult> {
  #store = new Store();

  /** The current store; read it again after a restore. */
  get store(): Store {
    return this.#store;
  }

  apply(index: number, data: Uint8Array): ApplyResult {
    return this.#store.apply(index, data);
  }

  skip(index: number): void {
    this.#store.skip(index);
  }

  snapshot(): Uint8Array {
    return this.#store.snapshot();
  }

  restore(data: Uint8Array): void {
    const next = Store.restore(data);
    const old = this.#store;
    this.#store = next;
    old.failWatchers(new Error('the store was replaced by a snapshot from the leader: read it again and watch anew'));
  }
}
