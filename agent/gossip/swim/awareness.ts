// Local health (Lifeguard, "Local Health Aware Probe"; memberlist
// awareness.go): a score in [0, max - 1] that rises when this node misses
// acks it should have had (nacks that never came, being asked to refute) and
// falls with every successful probe. A node that is itself slow or losing
// packets then probes, and waits for acks, (score + 1) times longer instead
// of accusing healthy peers.

export class Awareness {
  #score = 0;

  constructor(readonly maxMultiplier: number) {
    if (!Number.isSafeInteger(maxMultiplier) || maxMultiplier < 1) {
      throw new RangeError(`Awareness: maxMultiplier must be an integer >= 1, got ${maxMultiplier}`);
    }
  }

  get score(): number {
    return this.#score;
  }

  /** Add delta, clamped to [0, maxMultiplier - 1]. */
  apply(delta: number): void {
    this.#score = Math.min(this.maxMultiplier - 1, Math.max(0, this.#score + delta));
  }

  /** ms stretched by the current health: ms · (score + 1). */
  scale(ms: number): number {
    return ms * (this.#score + 1);
  }
}
