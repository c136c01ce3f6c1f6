// HandshakeState (Noise spec rev 34 §5.3) for Noise_*_25519_AESGCM_SHA256,
// driven by the pattern tokens of noise-patterns.ts, with psk modifiers (§9)
// and a prologue (§6).
//
// Each writeMessage/readMessage is all-or-nothing: if it throws, the state is
// exactly as before the call, so a forged or corrupted message (ENOISE_AUTH,
// ENOISE_SHORT, ENOISE_DH) can be dropped while the handshake waits for the
// genuine one. Messages are at most 65535 bytes (§3).
import type { Rand } from '../rand.js';
import { nodeAesGcm, type AesGcmImpl } from './aead.js';
import type { CipherState } from './noise-cipher-state.js';
import { DH_BYTES, dh, generateKeypair, keyPairFromPrivate, type KeyPair } from './noise-dh.js';
import { NoiseError } from './noise-error.js';
import { parsePattern, protocolName, type HandshakePattern, type Token } from './noise-patterns.js';
import { SymmetricState, type SymmetricSnapshot } from './noise-symmetric-state.js';

/** Largest Noise message (§3). */
export const NOISE_MAX_MESSAGE_BYTES = 65535 as const;
export const PSK_BYTES = 32 as const;
const TAG_BYTES = 16;
const EMPTY = new Uint8Array(0);

export interface HandshakeOptions {
  /** Pattern with modifiers, e.g. "IKpsk2" or "XXpsk3". */
  pattern: string;
  initiator: boolean;
  /** Bytes both sides must agree on, mixed into h before any message (§6). */
  prologue?: Uint8Array;
  /** Local static key pair; required when the pattern sends or pre-shares it. */
  s?: KeyPair;
  /** Fixed local ephemeral key pair: only for test vectors. */
  e?: KeyPair;
  /** Remote static public key, when the pattern pre-shares it (e.g. the responder's in IK). */
  rs?: Uint8Array;
  /** Remote ephemeral public key, for patterns that pre-share it (none of the ones here). */
  re?: Uint8Array;
  /** PSKs in the order their "psk" tokens occur, 32 bytes each (§9). */
  psks?: readonly Uint8Array[];
  /** Source of the ephemeral key (cryptoRand() in production, seededRand() in tests). */
  rand?: Rand;
  /** AES-GCM implementation; node:crypto by default. */
  aead?: AesGcmImpl;
}

interface Snapshot {
  ss: SymmetricSnapshot;
  e: KeyPair | null;
  re: Uint8Array | null;
  rs: Uint8Array | null;
  pskIndex: number;
}

function copyKey(what: string, key: Uint8Array): Uint8Array {
  if (key.length !== DH_BYTES) throw new RangeError(`HandshakeState: ${what} must be ${DH_BYTES} bytes, got ${key.length}`);
  return Uint8Array.from(key);
}

export class HandshakeState {
  readonly protocolName: string;
  readonly pattern: HandshakePattern;
  readonly initiator: boolean;
  readonly #ss: SymmetricState;
  readonly #s: KeyPair | null;
  #e: KeyPair | null;
  #rs: Uint8Array | null;
  #re: Uint8Array | null;
  readonly #psks: Uint8Array[];
  #pskIndex = 0;
  readonly #rand: Rand | undefined;
  #next = 0;
  #split = false;

  /** Initialize() (§5.3). Validates that the keys the pattern needs are present. */
  constructor(opts: HandshakeOptions) {
    this.pattern = parsePattern(opts.pattern);
    this.protocolName = protocolName(this.pattern.name);
    this.initiator = opts.initiator;
    this.#s = opts.s ? keyPairFromPrivate(opts.s.privateKey) : null;
    this.#e = opts.e ? keyPairFromPrivate(opts.e.privateKey) : null;
    this.#rs = opts.rs ? copyKey('rs', opts.rs) : null;
    this.#re = opts.re ? copyKey('re', opts.re) : null;
    this.#rand = opts.rand;
    const psks = opts.psks ?? [];
    if (psks.length !== this.pattern.pskCount) {
      throw new RangeError(`HandshakeState: pattern ${this.pattern.name} needs ${this.pattern.pskCount} psk(s), got ${psks.length}`);
    }
    psks.forEach((p, i) => {
      if (p.length !== PSK_BYTES) throw new RangeError(`HandshakeState: psks[${i}] must be ${PSK_BYTES} bytes, got ${p.length}`);
    });
    this.#psks = psks.map((p) => Uint8Array.from(p));
    this.#checkKeys();

    this.#ss = new SymmetricState(this.protocolName, opts.aead ?? nodeAesGcm);
    this.#ss.mixHash(opts.prologue ?? EMPTY);
    // Pre-messages: the initiator's keys are hashed first (§7.1); in a psk
    // handshake an "e" here also calls MixKey (§9.2).
    const [ipre, rpre] = [this.pattern.initiatorPre, this.pattern.responderPre];
    for (const [tokens, local] of [[ipre, this.initiator], [rpre, !this.initiator]] as const) {
      for (const t of tokens) {
        const key = t === 's' ? (local ? this.#s!.publicKey : this.#rs!) : local ? this.#e!.publicKey : this.#re!;
        this.#ss.mixHash(key);
        if (t === 'e' && this.pattern.psk) this.#ss.mixKey(key);
      }
    }
  }

  /** True once every message of the pattern has been written or read. */
  get complete(): boolean {
    return this.#next >= this.pattern.messages.length;
  }

  /** True when the next message is ours to write. */
  get isMyTurn(): boolean {
    return !this.complete && (this.#next % 2 === 0) === this.initiator;
  }

  /** h: final once complete; usable for channel binding (§11.2). */
  get handshakeHash(): Uint8Array {
    return this.#ss.handshakeHash();
  }

  /** The peer's static public key, once known. */
  get remoteStatic(): Uint8Array | null {
    return this.#rs === null ? null : Uint8Array.from(this.#rs);
  }

  /** WriteMessage(payload, message_buffer) (§5.3): returns the message bytes. */
  writeMessage(payload: Uint8Array = EMPTY): Uint8Array {
    this.#checkTurn('writeMessage', true);
    const tokens = this.pattern.messages[this.#next]!;
    const snap = this.#snapshot();
    try {
      const parts: Uint8Array[] = [];
      for (const t of tokens) this.#writeToken(t, parts);
      parts.push(this.#ss.encryptAndHash(payload));
      const total = parts.reduce((n, p) => n + p.length, 0);
      if (total > NOISE_MAX_MESSAGE_BYTES) {
        throw new NoiseError('ENOISE_LONG', `writeMessage: message would be ${total} bytes, over the ${NOISE_MAX_MESSAGE_BYTES}-byte limit (payload ${payload.length})`);
      }
      const out = new Uint8Array(total);
      let off = 0;
      for (const p of parts) {
        out.set(p, off);
        off += p.length;
      }
      this.#next++;
      this.#discard(snap);
      return out;
    } catch (err) {
      this.#restore(snap);
      throw err;
    }
  }

  /** ReadMessage(message, payload_buffer) (§5.3): returns the payload; throws NoiseError, leaving the state unchanged. */
  readMessage(message: Uint8Array): Uint8Array {
    this.#checkTurn('readMessage', false);
    if (message.length > NOISE_MAX_MESSAGE_BYTES) {
      throw new NoiseError('ENOISE_LONG', `readMessage: message of ${message.length} bytes is over the ${NOISE_MAX_MESSAGE_BYTES}-byte limit`);
    }
    const tokens = this.pattern.messages[this.#next]!;
    const snap = this.#snapshot();
    try {
      let off = 0;
      const take = (n: number, what: string): Uint8Array => {
        if (message.length - off < n) {
          throw new NoiseError('ENOISE_SHORT', `readMessage: message ${this.#next} is ${message.length} bytes, too short for ${what}`);
        }
        const b = message.subarray(off, off + n);
        off += n;
        return b;
      };
      for (const t of tokens) {
        if (t === 'e') {
          this.#re = Uint8Array.from(take(DH_BYTES, 'the ephemeral key'));
          this.#ss.mixHash(this.#re);
          if (this.pattern.psk) this.#ss.mixKey(this.#re);
        } else if (t === 's') {
          const n = DH_BYTES + (this.#ss.hasKey() ? TAG_BYTES : 0);
          this.#rs = this.#ss.decryptAndHash(take(n, 'the static key'));
        } else {
          this.#mixToken(t);
        }
      }
      const rest = message.subarray(off);
      if (this.#ss.hasKey() && rest.length < TAG_BYTES) take(TAG_BYTES, 'the payload tag');
      const payload = this.#ss.decryptAndHash(rest);
      this.#next++;
      this.#discard(snap);
      return payload;
    } catch (err) {
      this.#restore(snap);
      throw err;
    }
  }

  /**
   * Split() (§5.2) once complete: [c1, c2], c1 for initiator→responder and c2
   * for responder→initiator. Callable once; then the ephemeral private key,
   * the local static copy, ck and the psks are zeroed.
   */
  split(): [CipherState, CipherState] {
    if (!this.complete) throw new NoiseError('ENOISE_STATE', `split: handshake not complete (${this.#next} of ${this.pattern.messages.length} messages)`);
    if (this.#split) throw new NoiseError('ENOISE_STATE', 'split: already called');
    this.#split = true;
    const pair = this.#ss.split();
    this.#ss.wipe();
    this.#e?.privateKey.fill(0);
    this.#s?.privateKey.fill(0);
    for (const p of this.#psks) p.fill(0);
    return pair;
  }

  /** split() seen from this side: send and receive CipherStates. */
  splitSendRecv(): { send: CipherState; recv: CipherState } {
    const [c1, c2] = this.split();
    return this.initiator ? { send: c1, recv: c2 } : { send: c2, recv: c1 };
  }

  #checkKeys(): void {
    const p = this.pattern;
    const mine = this.initiator ? p.initiatorPre : p.responderPre;
    const theirs = this.initiator ? p.responderPre : p.initiatorPre;
    const sendsS = p.messages.some((m, i) => (i % 2 === 0) === this.initiator && m.includes('s'));
    if ((mine.includes('s') || sendsS) && !this.#s) throw new RangeError(`HandshakeState: pattern ${p.name} needs a local static key (s) for the ${this.#role()}`);
    if (mine.includes('e') && !this.#e) throw new RangeError(`HandshakeState: pattern ${p.name} needs a pre-shared local ephemeral key (e) for the ${this.#role()}`);
    if (theirs.includes('s') && !this.#rs) throw new RangeError(`HandshakeState: pattern ${p.name} needs the remote static key (rs) for the ${this.#role()}`);
    if (theirs.includes('e') && !this.#re) throw new RangeError(`HandshakeState: pattern ${p.name} needs the remote ephemeral key (re) for the ${this.#role()}`);
    const sendsE = p.messages.some((m, i) => (i % 2 === 0) === this.initiator && m.includes('e'));
    if (sendsE && !this.#e && !this.#rand) throw new RangeError(`HandshakeState: the ${this.#role()} needs rand (or a fixed e) to generate its ephemeral key`);
  }

  #role(): string {
    return this.initiator ? 'initiator' : 'responder';
  }

  #checkTurn(op: string, writing: boolean): void {
    if (this.complete) throw new NoiseError('ENOISE_STATE', `${op}: handshake already complete`);
    if (this.isMyTurn !== writing) {
      throw new NoiseError('ENOISE_STATE', `${op}: message ${this.#next} is the ${writing ? 'peer' : 'local side'}'s to write (${this.#role()})`);
    }
  }

  #writeToken(t: Token, parts: Uint8Array[]): void {
    if (t === 'e') {
      if (this.#e === null) this.#e = generateKeypair(this.#rand!);
      parts.push(Uint8Array.from(this.#e.publicKey));
      this.#ss.mixHash(this.#e.publicKey);
      if (this.pattern.psk) this.#ss.mixKey(this.#e.publicKey);
    } else if (t === 's') {
      parts.push(this.#ss.encryptAndHash(this.#s!.publicKey));
    } else {
      this.#mixToken(t);
    }
  }

  /** The tokens that read and write alike: DHs and psk. */
  #mixToken(t: Exclude<Token, 'e' | 's'>): void {
    const need = <T>(v: T | null, what: string): T => {
      if (v === null) throw new NoiseError('ENOISE_STATE', `token ${t}: ${what} is not known yet`);
      return v;
    };
    let shared: Uint8Array;
    switch (t) {
      case 'ee':
        shared = dh(need(this.#e, 'e'), need(this.#re, 're'));
        break;
      case 'es':
        shared = this.initiator ? dh(need(this.#e, 'e'), need(this.#rs, 'rs')) : dh(need(this.#s, 's'), need(this.#re, 're'));
        break;
      case 'se':
        shared = this.initiator ? dh(need(this.#s, 's'), need(this.#re, 're')) : dh(need(this.#e, 'e'), need(this.#rs, 'rs'));
        break;
      case 'ss':
        shared = dh(need(this.#s, 's'), need(this.#rs, 'rs'));
        break;
      case 'psk': {
        const psk = this.#psks[this.#pskIndex++];
        if (psk === undefined) throw new NoiseError('ENOISE_STATE', 'token psk: no psk left');
        this.#ss.mixKeyAndHash(psk);
        return;
      }
    }
    this.#ss.mixKey(shared);
    shared.fill(0);
  }

  #snapshot(): Snapshot {
    return { ss: this.#ss.snapshot(), e: this.#e, re: this.#re, rs: this.#rs, pskIndex: this.#pskIndex };
  }

  #restore(s: Snapshot): void {
    this.#ss.restore(s.ss);
    if (this.#e !== s.e) this.#e?.privateKey.fill(0);
    this.#e = s.e;
    this.#re = s.re;
    this.#rs = s.rs;
    this.#pskIndex = s.pskIndex;
  }

  #discard(s: Snapshot): void {
    s.ss.ck.fill(0);
    s.ss.cs.k?.fill(0);
  }
}
