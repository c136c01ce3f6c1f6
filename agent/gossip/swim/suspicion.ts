// How long a suspect member has to refute before it is declared dead
// (Lifeguard, "Local Health Aware Suspicion"; memberlist suspicion.go).
//
// The timer starts at the maximum and shrinks, on a log scale, towards the
// minimum as distinct members confirm the suspicion: a member suspected by
// one possibly unhealthy accuser gets a long time to answer, one that many
// members independently find silent is declared dead quickly. k, the number
// of confirmations that reach the minimum, is suspicionMult - 2 (memberlist:
// with no known phase between probers, the nominal timeout is reached two
// probe periods short of what the multiplier implies), and 0 when the
// cluster is too small to supply them, in which case the minimum applies at
// once.

/**
 * The minimum suspicion timeout for a cluster of n members:
 * suspicionMult · max(1, log10(max(1, n))) · probeIntervalMs, with the log
 * term truncated to thousandths as memberlist does.
 */
export function suspicionMinMs(suspicionMult: number, n: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return Math.floor((suspicionMult * Math.floor(nodeScale * 1000) * probeIntervalMs) / 1000);
}

/** The total timeout after `confirmations` of k wanted: max shrunk towards min by log(c + 1) / log(k + 1), whole ms. */
export function suspicionTimeoutMs(confirmations: number, k: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs;
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  const t = Math.floor(maxMs - frac * (maxMs - minMs));
  return Math.max(minMs, t);
}

export class Suspicion {
  /** The deadline passed; a verification probe of the suspect is pending. */
  expired = false;
  readonly #k: number;
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #startMs: number;
  readonly #from = new Set<string>();
  #confirmations = 0;
  #deadlineMs: number;

  /** `from` is the first accuser; it never counts as a confirmation (our own suspicion may come back to us). */
  constructor(from: string, k: number, minMs: number, maxMs: number, startMs: number) {
    this.#k = k;
    this.#minMs = minMs;
    this.#maxMs = maxMs;
    this.#startMs = startMs;
    this.#from.add(from);
    this.#deadlineMs = startMs + (k < 1 ? minMs : maxMs);
  }

  get minMs(): number {
    return this.#minMs;
  }

  /** A verification probe was answered: wait again, the minimum time from now, for the refutation. */
  rearm(nowMs: number): void {
    this.expired = false;
    this.#deadlineMs = nowMs + this.#minMs;
  }

  get deadlineMs(): number {
    return this.#deadlineMs;
  }

  get confirmations(): number {
    return this.#confirmations;
  }

  get k(): number {
    return this.#k;
  }

  /**
   * A distinct member also suspects. Returns true when that is news (a new
   * accuser while more confirmations still shorten the timer): the caller
   * re-gossips the suspicion then.
   */
  confirm(from: string): boolean {
    if (this.#confirmations >= this.#k) return false;
    if (this.#from.has(from)) return false;
    this.#from.add(from);
    this.#confirmations++;
    this.#deadlineMs = this.#startMs + suspicionTimeoutMs(this.#confirmations, this.#k, this.#minMs, this.#maxMs);
    return true;
  }
}
