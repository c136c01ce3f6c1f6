// The clock seam (STYLE habit 3). Protocol code never calls Date.now() or
// setTimeout directly: it takes a Clock. The daemon passes realClock(); unit
// tests and the simulator pass a ManualClock that only moves when told to, so
// every run with the same inputs fires the same timers in the same order.
import { DeadlineHeap } from './deadline-heap.js';

export interface Timer {
  /** Stop the timer. Idempotent; a timer that already fired ignores it. */
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds: only differences mean anything. */
  nowMs(): number;
  /** Wall-clock milliseconds since the Unix epoch (certificate validity, logs). */
  wallMs(): number;
  /** Run fn once after delayMs (clamped to >= 0). */
  after(delayMs: number, fn: () => void): Timer;
}

/** The clock of the real world, backed by performance.now() and setTimeout. */
export function realClock(): Clock {
  return {
    nowMs: () => performance.now(),
    wallMs: () => Date.now(),
    after(delayMs, fn) {
      let handle: ReturnType<typeof setTimeout> | undefined = setTimeout(() => {
        handle = undefined;
        fn();
      }, Math.max(0, delayMs));
      return {
        cancel() {
          if (handle !== undefined) clearTimeout(handle);
          handle = undefined;
        },
      };
    },
  };
}

interface Pending {
  atMs: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when the test says so. Timers due at the same
 * instant fire in the order they were set (shared/deadline-heap.ts),
 * which is what makes simulations reproducible from a seed.
 */
export class ManualClock implements Clock {
  #now: number;
  #wallOffsetMs: number;
  readonly #heap = new DeadlineHeap<Pending>();

  constructor(startMs = 0, wallOffsetMs = 1_767_225_600_000 /* 2026-01-01T00:00:00Z */) {
    this.#now = startMs;
    this.#wallOffsetMs = wallOffsetMs;
  }

  nowMs(): number {
    return this.#now;
  }

  wallMs(): number {
    return this.#wallOffsetMs + this.#now;
  }

  after(delayMs: number, fn: () => void): Timer {
    const p: Pending = { atMs: this.#now + Math.max(0, delayMs), fn, cancelled: false };
    this.#heap.push(p.atMs, p);
    return {
      cancel() {
        p.cancelled = true;
      },
    };
  }

  /** Number of live (not cancelled) timers. */
  pending(): number {
    this.#dropCancelled();
    let n = 0;
    for (const p of this.#heap.values()) if (!p.cancelled) n++;
    return n;
  }

  /** When the next live timer is due, or undefined when none is. */
  nextDueMs(): number | undefined {
    this.#dropCancelled();
    return this.#heap.peek()?.atMs;
  }

  /**
   * Fire the next live timer, moving time to its due instant. Returns false
   * when no timer is pending. This is one "step" of a simulation.
   */
  runNext(): boolean {
    this.#dropCancelled();
    const p = this.#heap.pop();
    if (p === undefined) return false;
    if (p.atMs > this.#now) this.#now = p.atMs;
    p.fn();
    return true;
  }

  /** Move time forward by ms, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  /** Move time to targetMs, firing every timer due at or before it, in order. */
  advanceTo(targetMs: number): void {
    for (;;) {
      this.#dropCancelled();
      const top = this.#heap.peek();
      if (top === undefined || top.atMs > targetMs) break;
      this.runNext();
    }
    if (targetMs > this.#now) this.#now = targetMs;
  }

  /** Fire timers until none is left or maxSteps fired; returns how many fired. */
  runAll(maxSteps = 1_000_000): number {
    let n = 0;
    while (n < maxSteps && this.runNext()) n++;
    return n;
  }

  #dropCancelled(): void {
    while (this.#heap.peek()?.cancelled) this.#heap.pop();
  }
}
