// The randomness seam (STYLE habit 3). Keys, nonces and session indices come
// from cryptoRand(); election timeouts, jitter and every choice a simulation
// makes come from whatever Rand the caller injects, so a test can pass
// seededRand(seed) and replay the exact same run.

export interface Rand {
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** Uniform integer in [0, maxExclusive); maxExclusive must be a positive safe integer <= 2^32. */
  int(maxExclusive: number): number;
  /** n fresh random bytes. */
  bytes(n: number): Uint8Array;
  /** An independent generator derived from this one (a child stream for a node of a simulation). */
  fork(): Rand;
}

const TWO_32 = 0x1_0000_0000;

function checkBound(maxExclusive: number): void {
  if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0 || maxExclusive > TWO_32) {
    throw new RangeError(`int: maxExclusive must be an integer in 1..2^32, got ${maxExclusive}`);
  }
}

/** Draw uniformly below maxExclusive without modulo bias (rejection sampling). */
function uniformBelow(u32: () => number, maxExclusive: number): number {
  checkBound(maxExclusive);
  const limit = TWO_32 - (TWO_32 % maxExclusive);
  for (;;) {
    const x = u32();
    if (x < limit) return x % maxExclusive;
  }
}

/** Randomness from the platform CSPRNG (globalThis.crypto works on Node 20 and Deno 2). */
export function cryptoRand(): Rand {
  const one = new Uint32Array(1);
  const self: Rand = {
    u32() {
      globalThis.crypto.getRandomValues(one);
      return one[0]!;
    },
    float: () => self.u32() / TWO_32,
    int: (maxExclusive) => uniformBelow(self.u32, maxExclusive),
    bytes(n) {
      const out = new Uint8Array(n);
      // getRandomValues refuses more than 65,536 bytes per call.
      for (let off = 0; off < n; off += 65_536) globalThis.crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65_536)));
      return out;
    },
    fork: () => cryptoRand(),
  };
  return self;
}

/** SplitMix32: spreads a small seed into well-mixed state words. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A deterministic generator (xoshiro128**, Blackman & Vigna) for tests and
 * simulations. Never use it for keys: it is predictable by design.
 */
export function seededRand(seed: number): Rand {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seededRand: seed must be an integer, got ${seed}`);
  const mix = splitmix32((seed ^ Math.floor(seed / TWO_32)) >>> 0);
  let a = mix(), b = mix(), c = mix(), d = mix();
  if ((a | b | c | d) === 0) a = 1;
  const self: Rand = {
    u32() {
      const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
      const t = (b << 9) >>> 0;
      c ^= a; d ^= b; b ^= c; a ^= d;
      c ^= t;
      d = rotl(d, 11);
      a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
      return result;
    },
    float: () => self.u32() / TWO_32,
    int: (maxExclusive) => uniformBelow(self.u32, maxExclusive),
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i += 4) {
        let x = self.u32();
        for (let j = i; j < Math.min(n, i + 4); j++, x >>>= 8) out[j] = x & 0xff;
      }
      return out;
    },
    fork: () => seededRand(self.u32() * 0x200000 + (self.u32() >>> 11)),
  };
  return self;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
