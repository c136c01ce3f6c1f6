// When a responder must see a cookie before it spends Diffie-Hellman on a
// handshake message, and when it refuses one outright (the WireGuard paper
// §5.3; wireguard-go's ratelimiter). Token buckets over the injected clock:
//
//   global   every handshake message with a valid mac1 takes a token from a
//            bucket of handshakesPerSecond (burst: one second's worth). Empty:
//            the node is under load, and stays so for underLoadHoldMs.
//   source   the same message also takes a token from its source's bucket
//            (sourceHandshakesPerSecond, burst sourceHandshakeBurst). Empty:
//            that source is under load on its own.
//   proven   under load, a message with a valid mac2 (its sender really is at
//            that source) takes a token from a second per-source bucket of the
//            same size; empty: 'rate-limited'.
//
// Messages without a valid mac2 never touch a proven bucket, so a forger who
// spoofs a peer's address can make it show cookies but cannot starve it.
// Buckets are kept per source VTEP; the plane only lets known peers' VTEPs
// here and forgets a peer's buckets with the peer, so the maps stay small.

export class TokenBucket {
  #tokens: number;
  #lastMs: number;
  readonly #perMs: number;
  readonly #burst: number;

  constructor(perSecond: number, burst: number, nowMs: number) {
    this.#perMs = perSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#lastMs = nowMs;
  }

  /** Takes a token if there is one. */
  take(nowMs: number): boolean {
    if (nowMs > this.#lastMs) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (nowMs - this.#lastMs) * this.#perMs);
      this.#lastMs = nowMs;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

export interface LoadGuardConfig {
  handshakesPerSecond: number;
  underLoadHoldMs: number;
  sourceHandshakesPerSecond: number;
  sourceHandshakeBurst: number;
}

export class LoadGuard {
  readonly #cfg: LoadGuardConfig;
  readonly #global: TokenBucket;
  #underLoadUntilMs = -Infinity;
  readonly #sources = new Map<string, TokenBucket>();
  readonly #proven = new Map<string, TokenBucket>();

  constructor(cfg: LoadGuardConfig, nowMs: number) {
    this.#cfg = cfg;
    this.#global = new TokenBucket(cfg.handshakesPerSecond, cfg.handshakesPerSecond, nowMs);
  }

  /** A handshake message with a valid mac1 from src: true when it must carry a valid mac2 to be processed. */
  needsCookie(src: string, nowMs: number): boolean {
    if (!this.#global.take(nowMs)) this.#underLoadUntilMs = Math.max(this.#underLoadUntilMs, nowMs + Math.max(1, this.#cfg.underLoadHoldMs));
    const sourceOk = this.#bucket(this.#sources, src, nowMs).take(nowMs);
    return nowMs < this.#underLoadUntilMs || !sourceOk;
  }

  /** Under load, a message from src with a valid mac2: may it be processed? */
  allowProven(src: string, nowMs: number): boolean {
    return this.#bucket(this.#proven, src, nowMs).take(nowMs);
  }

  /** True while the node as a whole is under load. */
  underLoad(nowMs: number): boolean {
    return nowMs < this.#underLoadUntilMs;
  }

  forget(src: string): void {
    this.#sources.delete(src);
    this.#proven.delete(src);
  }

  #bucket(m: Map<string, TokenBucket>, src: string, nowMs: number): TokenBucket {
    let b = m.get(src);
    if (b === undefined) m.set(src, (b = new TokenBucket(this.#cfg.sourceHandshakesPerSecond, this.#cfg.sourceHandshakeBurst, nowMs)));
    return b;
  }
}
