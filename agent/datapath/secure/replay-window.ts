// The anti-replay window of one keypair's receive direction: RFC 6479
// ("IPsec Anti-Replay Algorithm without Bit Shifting") with a ring of
// 256 u32 blocks = 8192 bits (as WireGuard's, there with 64-bit blocks).
//
// The ring holds the block of the newest accepted counter and the 255 before
// it. Moving forward clears only the blocks the window slides over (RFC 6479
// §2: no bit shifting). One block is always being recycled, so the window
// proper is 8192 - 32 = 8160 counters: a counter is accepted once, and only
// if it is newer than the newest accepted or at most 8160 behind it.
// Counters at or past the limit (rejectAfterMessages) are never accepted.
//
// check() before decrypting (a replay costs no AES), accept() after the tag
// verified: only authenticated counters move the window. The per-packet path
// allocates nothing and never throws.

export const REPLAY_BLOCK_BITS = 32 as const;
export const REPLAY_RING_BLOCKS = 256 as const;
export const REPLAY_RING_BITS = 8192 as const;
/** How far behind the newest accepted counter a counter may be (RFC 6479 §2: ring bits less one block). */
export const REPLAY_WINDOW = 8160 as const;

export class ReplayWindow {
  readonly #ring = new Uint32Array(REPLAY_RING_BLOCKS);
  /** The newest accepted counter; 0 before any (the ring then says whether 0 was seen). */
  #last = 0;
  readonly #limit: number;

  /** limit: counters >= limit are rejected (a safe integer). */
  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`ReplayWindow: limit must be a positive safe integer, got ${limit}`);
    this.#limit = limit;
  }

  /** The newest counter accepted (0 when none yet). */
  get newest(): number {
    return this.#last;
  }

  /** Whether counter would be accepted now; changes nothing. */
  check(counter: number): boolean {
    if (!(counter >= 0 && counter < this.#limit)) return false; // also NaN
    if (counter > this.#last) return true;
    if (this.#last - counter > REPLAY_WINDOW) return false;
    const bit = 1 << counter % REPLAY_BLOCK_BITS;
    return (this.#ring[Math.floor(counter / REPLAY_BLOCK_BITS) % REPLAY_RING_BLOCKS]! & bit) === 0;
  }

  /** Accepts counter if check(counter) and records it; false (nothing changed) otherwise. */
  accept(counter: number): boolean {
    if (!this.check(counter)) return false;
    const block = Math.floor(counter / REPLAY_BLOCK_BITS);
    if (counter > this.#last) {
      const current = Math.floor(this.#last / REPLAY_BLOCK_BITS);
      const diff = Math.min(block - current, REPLAY_RING_BLOCKS);
      for (let i = 1; i <= diff; i++) this.#ring[(current + i) % REPLAY_RING_BLOCKS] = 0;
      this.#last = counter;
    }
    this.#ring[block % REPLAY_RING_BLOCKS]! |= 1 << counter % REPLAY_BLOCK_BITS;
    return true;
  }

  /** Back to the initial state (a new keypair). */
  reset(): void {
    this.#ring.fill(0);
    this.#last = 0;
  }
}
