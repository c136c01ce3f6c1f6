// Failed join attempts per source address, limited with a token bucket: each
// source may fail `burstFailures` times at once, then once per
// refill interval. Only failures cost: a joiner with a valid token is never
// slowed. 128-bit secrets cannot be guessed at any rate, so the limit is
// not what keeps the secret safe; it keeps a misconfigured node or a
// scanner from spending a manager's CPU on handshakes and flooding its log
// (swarmkit has no such limit; the issue asks for one).
//
// Pure: the caller passes the source and the injected clock supplies time.
import type { Clock } from '../../../shared/clock.js';

export interface JoinRateLimiterConfig {
  /** Failures a source may make back to back before it is refused. */
  burstFailures: number;
  /** One more failure is allowed per this many ms (5 per minute by default). */
  refillIntervalMs: number;
  /**
   * Sources remembered at most. Beyond it the least recently seen is
   * forgotten (an attacker still failing is seen recently, so it stays):
   * memory stays bounded even when a flood comes from many addresses.
   */
  maxSources: number;
}

/** An operator who mistypes a token gets 5 tries at once, then one every 12 s. */
export function defaultJoinRateLimiterConfig(): JoinRateLimiterConfig {
  return { burstFailures: 5, refillIntervalMs: 12_000, maxSources: 10_000 };
}

export type JoinRateDecision = { ok: true } | { ok: false; retryAfterMs: number; message: string };

interface Bucket {
  tokens: number;
  atMs: number;
}

export class JoinRateLimiter {
  readonly #clock: Clock;
  readonly #cfg: JoinRateLimiterConfig;
  // Insertion order = least recently seen first (a touched entry is re-inserted).
  readonly #buckets = new Map<string, Bucket>();

  constructor(clock: Clock, config: JoinRateLimiterConfig = defaultJoinRateLimiterConfig()) {
    for (const k of ['burstFailures', 'refillIntervalMs', 'maxSources'] as const) {
      const v = config[k];
      if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`JoinRateLimiter: ${k} must be a positive integer, got ${v}`);
    }
    this.#clock = clock;
    this.#cfg = { ...config };
  }

  /** The bucket of a source brought up to now (not stored). */
  #current(source: string): Bucket {
    const now = this.#clock.nowMs();
    const b = this.#buckets.get(source);
    if (b === undefined) return { tokens: this.#cfg.burstFailures, atMs: now };
    const tokens = Math.min(this.#cfg.burstFailures, b.tokens + (now - b.atMs) / this.#cfg.refillIntervalMs);
    return { tokens, atMs: now };
  }

  /** May this source try to join now? Call before checking its token. */
  check(source: string): JoinRateDecision {
    const b = this.#current(source);
    // A source whose bucket has refilled is forgotten: the map holds only sources with recent failures.
    if (b.tokens >= this.#cfg.burstFailures) this.#buckets.delete(source);
    if (b.tokens >= 1) return { ok: true };
    const retryAfterMs = Math.ceil((1 - b.tokens) * this.#cfg.refillIntervalMs);
    return { ok: false, retryAfterMs, message: `too many failed join attempts from ${source}; retry in ${Math.ceil(retryAfterMs / 1000)} s` };
  }

  /** Record a failed attempt (bad or missing token) from source. */
  recordFailure(source: string): void {
    const b = this.#current(source);
    b.tokens = Math.max(0, b.tokens - 1);
    this.#buckets.delete(source);
    this.#buckets.set(source, b);
    if (this.#buckets.size > this.#cfg.maxSources) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done !== true) this.#buckets.delete(oldest.value);
    }
  }

  /** Sources currently remembered (for tests and metrics). */
  size(): number {
    return this.#buckets.size;
  }
}
