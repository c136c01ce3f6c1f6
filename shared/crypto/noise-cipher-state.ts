// CipherState (Noise spec rev 34 §5.1) for AESGCM (§12.4), with the optional
// Rekey() of §4.2/§11.3. Used during the handshake and for control-plane
// transport, where messages arrive in order. The data path takes the key out
// with detach() and runs its own counters and replay window.
import { AesGcmKey, AEAD_KEY_BYTES, AEAD_MAX_COUNTER, AEAD_TAG_BYTES, nodeAesGcm, type AesGcmImpl } from './aead.js';
import { NoiseError } from './noise-error.js';

export class CipherState {
  #k: Uint8Array | null = null;
  #aead: AesGcmKey | null = null;
  #n = 0;
  readonly #impl: AesGcmImpl;

  constructor(impl: AesGcmImpl = nodeAesGcm) {
    this.#impl = impl;
  }

  /** InitializeKey(key): sets k and n = 0; null empties the state. */
  initializeKey(key: Uint8Array | null): void {
    this.#wipeKey();
    if (key !== null) {
      if (key.length !== AEAD_KEY_BYTES) throw new RangeError(`CipherState.initializeKey: key must be ${AEAD_KEY_BYTES} bytes, got ${key.length}`);
      this.#k = Uint8Array.from(key);
      this.#aead = new AesGcmKey(this.#k, this.#impl);
    }
    this.#n = 0;
  }

  hasKey(): boolean {
    return this.#k !== null;
  }

  /** The next nonce n. */
  get nonce(): number {
    return this.#n;
  }

  /** SetNonce(nonce) (§5.1). */
  setNonce(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > AEAD_MAX_COUNTER) throw new RangeError(`CipherState.setNonce: nonce must be an integer in 0..2^53-1, got ${n}`);
    this.#n = n;
  }

  /** EncryptWithAd(ad, plaintext): plaintext unchanged (copied) while there is no key. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.#aead === null) return Uint8Array.from(plaintext);
    this.#checkNonce();
    const out = this.#aead.seal(this.#n, ad, plaintext);
    this.#n++;
    return out;
  }

  /**
   * DecryptWithAd(ad, ciphertext). Throws NoiseError ENOISE_AUTH when the
   * ciphertext does not authenticate; n is then not incremented (§5.1).
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.#aead === null) return Uint8Array.from(ciphertext);
    this.#checkNonce();
    if (ciphertext.length < AEAD_TAG_BYTES) throw new NoiseError('ENOISE_SHORT', `decryptWithAd: ciphertext of ${ciphertext.length} bytes is shorter than the ${AEAD_TAG_BYTES}-byte tag`);
    const out = this.#aead.open(this.#n, ad, ciphertext);
    if (out === null) throw new NoiseError('ENOISE_AUTH', `decryptWithAd: authentication failed at nonce ${this.#n}`);
    this.#n++;
    return out;
  }

  /** Rekey() (§4.2, §11.3): k = REKEY(k); n is unchanged. */
  rekey(): void {
    if (this.#aead === null) throw new NoiseError('ENOISE_STATE', 'rekey: the CipherState has no key');
    const next = this.#aead.rekeyBytes();
    const n = this.#n;
    this.initializeKey(next);
    next.fill(0);
    this.#n = n;
  }

  /**
   * Moves the key out for the data path: returns an AesGcmKey and the next
   * nonce, and empties this CipherState so the two can never reuse a nonce.
   */
  detach(): { key: AesGcmKey; nextNonce: number } {
    if (this.#k === null) throw new NoiseError('ENOISE_STATE', 'detach: the CipherState has no key');
    const key = new AesGcmKey(this.#k, this.#impl);
    const nextNonce = this.#n;
    this.initializeKey(null);
    return { key, nextNonce };
  }

  /** A copy of the state, for the handshake's all-or-nothing messages. */
  snapshot(): { k: Uint8Array | null; n: number } {
    return { k: this.#k === null ? null : Uint8Array.from(this.#k), n: this.#n };
  }

  restore(snap: { k: Uint8Array | null; n: number }): void {
    this.initializeKey(snap.k);
    this.#n = snap.n;
  }

  /** Zeroes the key and empties the state. */
  wipe(): void {
    this.initializeKey(null);
  }

  #wipeKey(): void {
    this.#aead?.wipe();
    this.#k?.fill(0);
    this.#aead = null;
    this.#k = null;
  }

  #checkNonce(): void {
    // §5.1 reserves n = 2^64-1; our counters stop at 2^53-1 (aead.ts).
    if (this.#n >= AEAD_MAX_COUNTER) throw new NoiseError('ENOISE_NONCE', 'CipherState: nonces exhausted; rekey or start a new handshake');
  }
}
