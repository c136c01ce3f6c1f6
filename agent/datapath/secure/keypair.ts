// One keypair: the two transport keys a handshake produced (DESIGN §4), with
// everything that guards them (STYLE habit 10): the send counter, the receive
// replay window, the age and message limits. The only things a caller can do
// are seal a datagram under the next counter and open a transport message.
//
// The hot path. node:crypto has no reusable GCM context, so each message
// costs one createCipheriv/createDecipheriv, plus the Buffers its update(),
// final() and getAuthTag() return; beyond those, seal allocates only the
// output message (header || ciphertext || tag, one Buffer.allocUnsafe) and
// open one view of the ciphertext. The header (ad) and tag go through
// module-level scratch buffers, the nonce too (createCipheriv copies it).
// Keys are raw 32-byte Buffers, not KeyObjects (createSecretKey): on Node 20
// the two are within run-to-run noise (~10-12 us per 1400-byte seal+open),
// on Deno 2 KeyObjects are ~5% slower (scripts/bench/secure-hotpath.ts), and
// raw bytes can be zeroed by wipe(). Failures are return codes, never exceptions.
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { SecureConfig } from './config.js';
import { ReplayWindow } from './replay-window.js';
import { DATA_HEADER_BYTES, KEY_BYTES, SECURE_OVERHEAD_BYTES, TAG_BYTES, readCounter, writeTransportHeader } from './wire-format.js';

/** open(): the plaintext is in kp.plain. */
export const OPEN_OK = 0 as const;
/** The counter was seen, is too old for the window, or is past rejectAfterMessages. */
export const OPEN_REPLAY = 1 as const;
/** The keypair is rejectAfterMs old, or wiped. */
export const OPEN_EXPIRED = 2 as const;
/** The tag did not verify. */
export const OPEN_AUTH = 3 as const;

const GCM = 'aes-256-gcm';
const GCM_OPTS = { authTagLength: TAG_BYTES } as const;
const nonce = Buffer.alloc(12);
const ad = Buffer.alloc(DATA_HEADER_BYTES);
const tag = Buffer.alloc(TAG_BYTES);
const EMPTY = new Uint8Array(0);

function writeNonce(counter: number): void {
  // Noise §12.4: 4 zero bytes, then the counter as u64 BE (bytes 0..4 stay zero).
  const hi = Math.floor(counter / 0x1_0000_0000);
  nonce[4] = hi >>> 24; nonce[5] = (hi >>> 16) & 0xff; nonce[6] = (hi >>> 8) & 0xff; nonce[7] = hi & 0xff;
  nonce[8] = counter >>> 24; nonce[9] = (counter >>> 16) & 0xff; nonce[10] = (counter >>> 8) & 0xff; nonce[11] = counter & 0xff;
}

export class Keypair<Owner = unknown> {
  /** Our index: the receiver_index the peer puts on messages under this keypair. */
  readonly localIndex: number;
  /** The peer's index, which we put on ours. */
  readonly remoteIndex: number;
  readonly isInitiator: boolean;
  readonly createdMs: number;
  /** The data key generation its handshake used as PSK. */
  readonly generation: number;
  /** Whoever holds it (the session): the plane finds it from the index. */
  readonly owner: Owner;
  /** The plaintext of the last successful open() (a Buffer from the decipher). */
  plain: Uint8Array = EMPTY;
  readonly #send: Buffer;
  readonly #recv: Buffer;
  #sendCounter = 0;
  readonly #replay: ReplayWindow;
  readonly #cfg: SecureConfig;
  #wiped = false;

  constructor(o: { localIndex: number; remoteIndex: number; isInitiator: boolean; nowMs: number; generation: number; owner: Owner; send: Uint8Array; recv: Uint8Array; cfg: SecureConfig }) {
    if (o.send.length !== KEY_BYTES || o.recv.length !== KEY_BYTES) throw new RangeError(`Keypair: keys must be ${KEY_BYTES} bytes, got ${o.send.length} and ${o.recv.length}`);
    this.localIndex = o.localIndex;
    this.remoteIndex = o.remoteIndex;
    this.isInitiator = o.isInitiator;
    this.createdMs = o.nowMs;
    this.generation = o.generation;
    this.owner = o.owner;
    this.#send = Buffer.from(o.send);
    this.#recv = Buffer.from(o.recv);
    this.#cfg = o.cfg;
    this.#replay = new ReplayWindow(o.cfg.rejectAfterMessages);
  }

  /** Messages sealed so far (the next counter). */
  get sent(): number {
    return this.#sendCounter;
  }

  get wiped(): boolean {
    return this.#wiped;
  }

  /** Can seal now: not wiped, younger than rejectAfterMs, counter below rejectAfterMessages. */
  canSend(nowMs: number): boolean {
    return !this.#wiped && nowMs - this.createdMs < this.#cfg.rejectAfterMs && this.#sendCounter < this.#cfg.rejectAfterMessages;
  }

  /** Can open now: not wiped and younger than rejectAfterMs. */
  canReceive(nowMs: number): boolean {
    return !this.#wiped && nowMs - this.createdMs < this.#cfg.rejectAfterMs;
  }

  /** The sender should start a new handshake (WireGuard: by age only as initiator, by count either way). */
  wantsRekey(nowMs: number): boolean {
    return this.#sendCounter >= this.#cfg.rekeyAfterMessages || (this.isInitiator && nowMs - this.createdMs >= this.#cfg.rekeyAfterMs);
  }

  /**
   * Seals buf[0..len) (len 0: a keepalive) under the next counter into a new
   * message of len + 32 bytes. The caller has checked canSend().
   */
  seal(buf: Uint8Array, len: number): Buffer {
    const counter = this.#sendCounter++;
    writeTransportHeader(ad, this.remoteIndex, counter);
    writeNonce(counter);
    const c = createCipheriv(GCM, this.#send, nonce, GCM_OPTS);
    c.setAAD(ad);
    const out = Buffer.allocUnsafe(len + SECURE_OVERHEAD_BYTES);
    out.set(ad, 0);
    if (len > 0) out.set(c.update(len === buf.length ? buf : buf.subarray(0, len)), DATA_HEADER_BYTES);
    c.final();
    out.set(c.getAuthTag(), DATA_HEADER_BYTES + len);
    return out;
  }

  /** Whether a message with this counter could be opened now (before spending AES on it). */
  admits(counter: number, nowMs: number): number {
    if (!this.canReceive(nowMs)) return OPEN_EXPIRED;
    return this.#replay.check(counter) ? OPEN_OK : OPEN_REPLAY;
  }

  /**
   * Opens the transport message buf[0..len) (len >= 32, receiver index ours):
   * OPEN_OK with the datagram in this.plain, or why not. Only an authentic
   * counter moves the replay window.
   */
  open(buf: Uint8Array, len: number, nowMs: number): number {
    const counter = readCounter(buf);
    const why = this.admits(counter, nowMs);
    if (why !== OPEN_OK) return why;
    for (let i = 0; i < DATA_HEADER_BYTES; i++) ad[i] = buf[i]!;
    const ctEnd = len - TAG_BYTES;
    for (let i = 0; i < TAG_BYTES; i++) tag[i] = buf[ctEnd + i]!;
    writeNonce(counter);
    const d = createDecipheriv(GCM, this.#recv, nonce, GCM_OPTS);
    d.setAuthTag(tag);
    d.setAAD(ad);
    const pt = ctEnd > DATA_HEADER_BYTES ? d.update(buf.subarray(DATA_HEADER_BYTES, ctEnd)) : EMPTY;
    try {
      d.final();
    } catch {
      return OPEN_AUTH;
    }
    this.#replay.accept(counter);
    this.plain = pt;
    return OPEN_OK;
  }

  /** Zeroes both keys; the keypair seals and opens nothing afterwards. */
  wipe(): void {
    this.#wiped = true;
    this.#send.fill(0);
    this.#recv.fill(0);
    this.plain = EMPTY;
  }
}
