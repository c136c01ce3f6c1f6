// SymmetricState (Noise spec rev 34 §5.2) for SHA256 (§12.5): the chaining
// key ck, the handshake hash h and the CipherState they key.
import type { AesGcmImpl } from './aead.js';
import { nodeAesGcm } from './aead.js';
import { HASH_BYTES, hkdf2, hkdf3, sha256 } from './hash.js';
import { CipherState } from './noise-cipher-state.js';

const EMPTY = new Uint8Array(0);

export interface SymmetricSnapshot {
  ck: Uint8Array;
  h: Uint8Array;
  cs: { k: Uint8Array | null; n: number };
}

export class SymmetricState {
  #ck: Uint8Array;
  #h: Uint8Array;
  readonly #cs: CipherState;
  readonly #impl: AesGcmImpl;

  /** InitializeSymmetric(protocol_name). */
  constructor(protocolName: string, impl: AesGcmImpl = nodeAesGcm) {
    const name = new TextEncoder().encode(protocolName);
    if (name.length <= HASH_BYTES) {
      this.#h = new Uint8Array(HASH_BYTES);
      this.#h.set(name);
    } else {
      this.#h = sha256(name);
    }
    this.#ck = Uint8Array.from(this.#h);
    this.#impl = impl;
    this.#cs = new CipherState(impl);
  }

  /** MixKey(input_key_material). */
  mixKey(ikm: Uint8Array): void {
    const [ck, k] = hkdf2(this.#ck, ikm);
    this.#ck.fill(0);
    this.#ck = ck;
    this.#cs.initializeKey(k);
    k.fill(0);
  }

  /** MixHash(data): h = HASH(h || data). */
  mixHash(data: Uint8Array): void {
    this.#h = sha256(this.#h, data);
  }

  /** MixKeyAndHash(input_key_material), used by the "psk" token (§9). */
  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, th, k] = hkdf3(this.#ck, ikm);
    this.#ck.fill(0);
    this.#ck = ck;
    this.mixHash(th);
    this.#cs.initializeKey(k);
    k.fill(0);
  }

  /** GetHandshakeHash(): a copy of h. */
  handshakeHash(): Uint8Array {
    return Uint8Array.from(this.#h);
  }

  hasKey(): boolean {
    return this.#cs.hasKey();
  }

  /** EncryptAndHash(plaintext): the ciphertext is hashed, with h as AD. */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const c = this.#cs.encryptWithAd(this.#h, plaintext);
    this.mixHash(c);
    return c;
  }

  /** DecryptAndHash(ciphertext); throws NoiseError on authentication failure. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const p = this.#cs.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return p;
  }

  /** Split(): (c1 initiator→responder, c2 responder→initiator). HASHLEN is 32, so no truncation. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf2(this.#ck, EMPTY);
    const c1 = new CipherState(this.#impl);
    const c2 = new CipherState(this.#impl);
    c1.initializeKey(k1);
    c2.initializeKey(k2);
    k1.fill(0);
    k2.fill(0);
    return [c1, c2];
  }

  snapshot(): SymmetricSnapshot {
    return { ck: Uint8Array.from(this.#ck), h: Uint8Array.from(this.#h), cs: this.#cs.snapshot() };
  }

  restore(s: SymmetricSnapshot): void {
    this.#ck.fill(0);
    this.#ck = s.ck;
    this.#h = s.h;
    this.#cs.restore(s.cs);
    s.cs.k?.fill(0);
  }

  /** Zeroes ck and the handshake key; h stays readable (channel binding, §11.2). */
  wipe(): void {
    this.#ck.fill(0);
    this.#cs.wipe();
  }
}
