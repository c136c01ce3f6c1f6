// One clock timer standing for several deadlines: armed at the earliest, and
// armed again only when a deadline moves earlier than that. Deadlines that
// move later or go away leave the timer as it is; when it fires, the owner
// looks at its deadlines, acts on those due, and arms for the next. So the
// packet path only writes numbers, and the clock sees a handful of timers a
// minute per session (shared/clock.ts: the project's timer seam).
import type { Clock, Timer } from '../../../shared/clock.js';

export class EarliestTimer {
  readonly #clock: Clock;
  readonly #fire: () => void;
  #timer: Timer | null = null;
  #atMs = Infinity;
  #closed = false;

  /** fire runs when the timer is due, with the timer already disarmed. */
  constructor(clock: Clock, fire: () => void) {
    this.#clock = clock;
    this.#fire = () => {
      this.#timer = null;
      this.#atMs = Infinity;
      if (!this.#closed) fire();
    };
  }

  /** Makes sure the timer fires at or before atMs (Infinity: nothing to do). */
  arm(atMs: number): void {
    if (atMs >= this.#atMs || this.#closed) return;
    this.#timer?.cancel();
    this.#atMs = atMs;
    this.#timer = this.#clock.after(atMs - this.#clock.nowMs(), this.#fire);
  }

  /** Cancels it for good. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
    this.#atMs = Infinity;
  }
}
