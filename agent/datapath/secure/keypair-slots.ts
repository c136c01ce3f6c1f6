// The three keypair slots of a session (the WireGuard paper §5.4.7 "key
// rotation"; REFERENCE "WireGuard" indices row): previous | current | next.
//
//   seal        with current only
//   initiator   a new keypair becomes current as soon as the response checks
//               out; the old current becomes previous (or, if a responder-side
//               next was waiting, that one becomes previous and the old current
//               goes: it is older than both)
//   responder   a new keypair waits in next (the old previous goes); the first
//               packet under it proves the initiator holds it, and then
//               previous <- current <- next
//
// Every keypair leaving the slots is retired: its index released (so its
// messages meet 'unknown-index') and its keys zeroed.
import type { Keypair } from './keypair.js';

export class KeypairSlots<O> {
  previous: Keypair<O> | null = null;
  current: Keypair<O> | null = null;
  next: Keypair<O> | null = null;
  readonly #release: (kp: Keypair<O>) => void;

  /** release(kp): drop kp's index from the plane's table (called once per keypair, before its keys are zeroed). */
  constructor(release: (kp: Keypair<O>) => void) {
    this.#release = release;
  }

  /** The initiator's new keypair, usable at once. */
  installInitiator(kp: Keypair<O>): void {
    if (this.next !== null) {
      this.#retire(this.previous);
      this.previous = this.next;
      this.next = null;
      this.#retire(this.current);
    } else {
      this.#retire(this.previous);
      this.previous = this.current;
    }
    this.current = kp;
  }

  /** The responder's new keypair, waiting for its first packet. */
  installResponder(kp: Keypair<O>): void {
    this.#retire(this.next);
    this.#retire(this.previous);
    this.previous = null;
    this.next = kp;
  }

  /** The first packet under next arrived: it becomes current. */
  confirm(): void {
    this.#retire(this.previous);
    this.previous = this.current;
    this.current = this.next;
    this.next = null;
  }

  /** Retire every keypair dead() says is gone. */
  retireWhere(dead: (kp: Keypair<O>) => boolean): void {
    if (this.previous !== null && dead(this.previous)) {
      this.#retire(this.previous);
      this.previous = null;
    }
    if (this.current !== null && dead(this.current)) {
      this.#retire(this.current);
      this.current = null;
    }
    if (this.next !== null && dead(this.next)) {
      this.#retire(this.next);
      this.next = null;
    }
  }

  retireAll(): void {
    this.retireWhere(() => true);
  }

  #retire(kp: Keypair<O> | null): void {
    if (kp === null || kp.wiped) return;
    this.#release(kp);
    kp.wipe();
  }
}
