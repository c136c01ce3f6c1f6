// Datagrams a session holds while its handshake runs: copies (the caller may
// reuse its buffer as soon as send returns), oldest first, at most
// queuePackets; beyond that the oldest is dropped and counted ('queue-full'),
// as WireGuard's staged queue does.
import { D_QUEUE_FULL, STAGED } from './stats.js';

export class StagedQueue {
  #q: Uint8Array[] = [];
  readonly #max: number;
  readonly #c: Float64Array;

  /** c: the plane's counters (stats.ts). */
  constructor(max: number, c: Float64Array) {
    this.#max = max;
    this.#c = c;
  }

  get length(): number {
    return this.#q.length;
  }

  /** Queues a copy of buf[0..len). */
  push(buf: Uint8Array, len: number): void {
    this.#c[STAGED]!++;
    if (this.#max === 0) {
      this.#c[D_QUEUE_FULL]!++;
      return;
    }
    if (this.#q.length >= this.#max) {
      this.#q.shift();
      this.#c[D_QUEUE_FULL]!++;
    }
    const copy = new Uint8Array(len);
    copy.set(buf.subarray(0, len));
    this.#q.push(copy);
  }

  /** Everything, oldest first; the queue is then empty. */
  take(): Uint8Array[] {
    const q = this.#q;
    this.#q = [];
    return q;
  }

  /** Puts back, in front and in order, what take() gave and could not be sent. */
  putBack(rest: Uint8Array[]): void {
    this.#q = rest.concat(this.#q);
  }

  /** Drops everything, counted under the drop counter index given. */
  drop(counter: number): void {
    this.#c[counter]! += this.#q.length;
    this.#q = [];
  }
}
