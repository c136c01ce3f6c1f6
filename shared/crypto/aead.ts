// AES-256-GCM with the Noise nonce layout (Noise spec rev 34 §12.4 "AESGCM").
//
//   nonce (12 bytes):  0      4                              12
//                      +------+------------------------------+
//                      | 0000 |  counter n, u64 big-endian    |
//                      +------+------------------------------+
//   sealed (out):      ciphertext (= plaintext length) || tag (16 bytes)
//
// Two implementations of the same function: node:crypto (the fast path, also
// present on Deno 2) and @noble/ciphers (pure JS, the cross-check twin; STYLE
// habit 5). A failed authentication is an answer, not an exception: open
// returns null and openInto returns -1, so the data path can count and drop.
//
// Counters are JS numbers: 0 ..= Number.MAX_SAFE_INTEGER (2^53 - 1). Every
// rekey limit we use is far below that (DESIGN §4: 2^60 is WireGuard's, and
// AES-GCM wants far fewer, RFC 9001 §6.6), so the top 11 bits of the wire's
// u64 are always zero here.
//
// Aliasing rules for sealInto/openInto (the data path reuses one buffer per
// packet):
//   - out may be exactly in place over the input (same buffer, same first
//     byte: seal over the plaintext, open over the sealed bytes), or fully
//     disjoint from it; a partial overlap is rejected with a RangeError;
//   - ad must not overlap the bytes written to out (it may sit just before
//     them, as the 16-byte transport header does);
//   - openInto writes nothing to out unless the tag verifies.
// Both implementations finish reading the input before they write out, but
// the contract above is what callers may rely on.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';

export const AEAD_KEY_BYTES = 32 as const;
export const AEAD_NONCE_BYTES = 12 as const;
export const AEAD_TAG_BYTES = 16 as const;
/** Largest counter this module accepts (see the note on counters above). */
export const AEAD_MAX_COUNTER = Number.MAX_SAFE_INTEGER;

const TWO_32 = 0x1_0000_0000;
const EMPTY = new Uint8Array(0);

/** One AES-256-GCM implementation, with an explicit 12-byte nonce. */
export interface AesGcmImpl {
  readonly name: string;
  /** Writes ciphertext || tag (plaintext.length + 16 bytes) at out[outOff]. */
  sealInto(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOff: number): void;
  /** Writes the plaintext (sealed.length - 16 bytes) at out[outOff]; false, with nothing written, if the tag does not verify. */
  openInto(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array, out: Uint8Array, outOff: number): boolean;
}

/** node:crypto: one createCipheriv per message (Node has no reusable GCM context). */
export const nodeAesGcm: AesGcmImpl = {
  name: 'node:crypto',
  sealInto(key, nonce, ad, plaintext, out, outOff) {
    const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES });
    if (ad.length > 0) c.setAAD(ad);
    const ct = c.update(plaintext);
    c.final();
    const tag = c.getAuthTag();
    out.set(ct, outOff);
    out.set(tag, outOff + ct.length);
  },
  openInto(key, nonce, ad, sealed, out, outOff) {
    const ctLen = sealed.length - AEAD_TAG_BYTES;
    const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES });
    d.setAuthTag(sealed.subarray(ctLen));
    if (ad.length > 0) d.setAAD(ad);
    const pt = d.update(sealed.subarray(0, ctLen));
    try {
      d.final();
    } catch {
      return false;
    }
    out.set(pt, outOff);
    return true;
  },
};

/** @noble/ciphers: pure JS, used to cross-check node:crypto. */
export const nobleAesGcm: AesGcmImpl = {
  name: '@noble/ciphers',
  sealInto(key, nonce, ad, plaintext, out, outOff) {
    out.set(gcm(key, nonce, ad.length > 0 ? ad : undefined).encrypt(plaintext), outOff);
  },
  openInto(key, nonce, ad, sealed, out, outOff) {
    let pt: Uint8Array;
    try {
      pt = gcm(key, nonce, ad.length > 0 ? ad : undefined).decrypt(sealed);
    } catch {
      return false;
    }
    out.set(pt, outOff);
    return true;
  },
};

function checkCounter(op: string, counter: number): void {
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new RangeError(`${op}: counter must be an integer in 0..2^53-1, got ${counter}`);
  }
}

/** Writes the Noise AESGCM nonce for counter into nonce[0..12) (§12.4). */
export function writeNoiseNonce(nonce: Uint8Array, counter: number): void {
  checkCounter('writeNoiseNonce', counter);
  const hi = Math.floor(counter / TWO_32);
  const lo = counter >>> 0;
  nonce[0] = 0; nonce[1] = 0; nonce[2] = 0; nonce[3] = 0;
  nonce[4] = hi >>> 24; nonce[5] = (hi >>> 16) & 0xff; nonce[6] = (hi >>> 8) & 0xff; nonce[7] = hi & 0xff;
  nonce[8] = lo >>> 24; nonce[9] = (lo >>> 16) & 0xff; nonce[10] = (lo >>> 8) & 0xff; nonce[11] = lo & 0xff;
}

/** A fresh 12-byte Noise AESGCM nonce for counter. */
export function noiseNonce(counter: number): Uint8Array {
  const n = new Uint8Array(AEAD_NONCE_BYTES);
  writeNoiseNonce(n, counter);
  return n;
}

function checkRange(op: string, what: string, buf: Uint8Array, off: number, len: number): void {
  if (!Number.isSafeInteger(off) || off < 0 || off + len > buf.length) {
    throw new RangeError(`${op}: ${what} needs ${len} bytes at offset ${off}, but the buffer holds ${buf.length}`);
  }
}

/** Enforces the aliasing rules in the header comment. */
function checkAliasing(op: string, out: Uint8Array, outOff: number, outLen: number, input: Uint8Array, ad: Uint8Array): void {
  if (outLen === 0) return;
  const o = out.byteOffset + outOff;
  if (out.buffer === input.buffer && input.length > 0) {
    const i = input.byteOffset;
    if (o !== i && o < i + input.length && i < o + outLen) {
      throw new RangeError(`${op}: out overlaps the input without starting at the same byte; only exact in-place or disjoint buffers are allowed`);
    }
  }
  if (out.buffer === ad.buffer && ad.length > 0) {
    const a = ad.byteOffset;
    if (o < a + ad.length && a < o + outLen) throw new RangeError(`${op}: out overlaps ad`);
  }
}

/**
 * An AES-256-GCM key with counter-based Noise nonces. Holds its own copy of
 * the key; wipe() zeroes it. Not a session: it keeps no counter and no replay
 * state, the caller owns both.
 */
export class AesGcmKey {
  readonly #key: Uint8Array;
  readonly #impl: AesGcmImpl;
  readonly #nonce = new Uint8Array(AEAD_NONCE_BYTES);

  constructor(key: Uint8Array, impl: AesGcmImpl = nodeAesGcm) {
    if (key.length !== AEAD_KEY_BYTES) throw new RangeError(`AesGcmKey: key must be ${AEAD_KEY_BYTES} bytes, got ${key.length}`);
    this.#key = Uint8Array.from(key);
    this.#impl = impl;
  }

  get implName(): string {
    return this.#impl.name;
  }

  /** ciphertext || tag of plaintext under counter's nonce, authenticating ad. */
  seal(counter: number, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES);
    this.sealInto(out, 0, counter, ad, plaintext);
    return out;
  }

  /** The plaintext, or null if sealed does not authenticate (never throws for that). */
  open(counter: number, ad: Uint8Array, sealed: Uint8Array): Uint8Array | null {
    if (sealed.length < AEAD_TAG_BYTES) return null;
    const out = new Uint8Array(sealed.length - AEAD_TAG_BYTES);
    return this.openInto(out, 0, counter, ad, sealed) < 0 ? null : out;
  }

  /** Seals into out[outOff ..]; returns the bytes written (plaintext.length + 16). */
  sealInto(out: Uint8Array, outOff: number, counter: number, ad: Uint8Array, plaintext: Uint8Array): number {
    const n = plaintext.length + AEAD_TAG_BYTES;
    checkCounter('sealInto', counter);
    checkRange('sealInto', 'out', out, outOff, n);
    checkAliasing('sealInto', out, outOff, n, plaintext, ad);
    writeNoiseNonce(this.#nonce, counter);
    this.#impl.sealInto(this.#key, this.#nonce, ad, plaintext, out, outOff);
    return n;
  }

  /**
   * Opens into out[outOff ..]; returns the plaintext length, or -1 if sealed
   * is shorter than a tag or does not authenticate (out is then untouched).
   */
  openInto(out: Uint8Array, outOff: number, counter: number, ad: Uint8Array, sealed: Uint8Array): number {
    if (sealed.length < AEAD_TAG_BYTES) return -1;
    const n = sealed.length - AEAD_TAG_BYTES;
    checkCounter('openInto', counter);
    checkRange('openInto', 'out', out, outOff, n);
    checkAliasing('openInto', out, outOff, n, sealed, ad);
    writeNoiseNonce(this.#nonce, counter);
    return this.#impl.openInto(this.#key, this.#nonce, ad, sealed, out, outOff) ? n : -1;
  }

  /**
   * REKEY(k) for AESGCM (Noise spec §4.2 default, §11.3): the first 32 bytes
   * of ENCRYPT(k, maxnonce = 2^64-1, zerolen, zeros(32)). Returns the new key
   * bytes; the caller builds the next AesGcmKey and wipes this one.
   */
  rekeyBytes(): Uint8Array {
    const nonce = Uint8Array.of(0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    const out = new Uint8Array(AEAD_KEY_BYTES + AEAD_TAG_BYTES);
    this.#impl.sealInto(this.#key, nonce, EMPTY, new Uint8Array(AEAD_KEY_BYTES), out, 0);
    return out.slice(0, AEAD_KEY_BYTES);
  }

  /** Zeroes the key; the object must not be used afterwards. */
  wipe(): void {
    this.#key.fill(0);
  }
}
