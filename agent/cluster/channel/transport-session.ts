// The transport half of a 2377 channel (issue 4): a session object that owns
// the two CipherStates from Split() and offers only seal/open (STYLE habit 10).
//
// An application message of any size (up to maxMessageBytes) is cut into
// chunks; each chunk becomes one Noise transport message (Noise spec rev 34
// §5.1 EncryptWithAd, empty ad, nonce = the CipherState's counter, §12.4
// AESGCM), carried in one u32 length-prefixed frame (shared/wire/frame.ts).
//
//   chunk plaintext = flags(1) data(0..65518)
//     flags 0x01 FINAL: the last chunk of a message; 0x00: more chunks follow
//     (other bits reserved: a chunk with any of them set is malformed)
//   Noise message   = AES-256-GCM(chunk plaintext) || tag(16)  <= 65535 bytes (§3)
//
// Streams are ordered, so nonces are consecutive; a chunk that fails to
// authenticate (tampered, replayed, reordered, dropped) is fatal for the
// session: open() throws and the caller closes the connection.
import type { CipherState } from '../../../shared/crypto/noise-cipher-state.js';
import { NOISE_MAX_MESSAGE_BYTES } from '../../../shared/crypto/noise-handshake.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../../../shared/wire/frame.js';
import { ChannelError } from './errors.js';

export const AEAD_TAG_BYTES = 16 as const;
export const CHUNK_HEADER_BYTES = 1 as const;
/** 65535 - 16 - 1 = 65518 bytes of application data per Noise message. */
export const MAX_CHUNK_DATA_BYTES = NOISE_MAX_MESSAGE_BYTES - AEAD_TAG_BYTES - CHUNK_HEADER_BYTES;
export const CHUNK_FLAG_FINAL = 0x01 as const;
/** As large as the largest frame the control plane reads elsewhere (a Raft snapshot). */
export const DEFAULT_MAX_MESSAGE_BYTES = DEFAULT_MAX_FRAME_BYTES;
const EMPTY = new Uint8Array(0);

export class TransportSession {
  readonly #send: CipherState;
  readonly #recv: CipherState;
  readonly #maxMessageBytes: number;
  #parts: Uint8Array[] = [];
  #partBytes = 0;
  #broken = false;

  constructor(send: CipherState, recv: CipherState, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0) {
      throw new RangeError(`TransportSession: maxMessageBytes must be a positive integer, got ${maxMessageBytes}`);
    }
    this.#send = send;
    this.#recv = recv;
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** One application message as Noise messages (frame bodies), in order. */
  seal(msg: Uint8Array): Uint8Array[] {
    // A wiped CipherState would "encrypt" to plaintext (§5.1 with k empty): refuse instead.
    if (this.#broken) throw new ChannelError('ECHAN_PROTOCOL', 'channel: session already closed');
    if (msg.length > this.#maxMessageBytes) throw new RangeError(`send: message of ${msg.length} bytes is over the ${this.#maxMessageBytes}-byte limit`);
    const out: Uint8Array[] = [];
    let off = 0;
    do {
      const n = Math.min(MAX_CHUNK_DATA_BYTES, msg.length - off);
      const chunk = new Uint8Array(CHUNK_HEADER_BYTES + n);
      chunk[0] = off + n === msg.length ? CHUNK_FLAG_FINAL : 0;
      chunk.set(msg.subarray(off, off + n), CHUNK_HEADER_BYTES);
      out.push(this.#send.encryptWithAd(EMPTY, chunk));
      off += n;
    } while (off < msg.length);
    return out;
  }

  /**
   * One Noise message in: the application message it completes, or undefined
   * when more chunks are due. Throws ChannelError ECHAN_PROTOCOL on anything
   * wrong, after which the session refuses everything.
   */
  open(noiseMessage: Uint8Array): Uint8Array | undefined {
    if (this.#broken) throw new ChannelError('ECHAN_PROTOCOL', 'channel: session already failed');
    let chunk: Uint8Array;
    try {
      chunk = this.#recv.decryptWithAd(EMPTY, noiseMessage);
    } catch (e) {
      this.#fail(`transport message did not authenticate (${(e as Error).message})`);
    }
    const flags = chunk[0];
    if (flags === undefined || (flags & ~CHUNK_FLAG_FINAL) !== 0) this.#fail(`malformed chunk: flags ${String(flags)}`);
    const data = chunk.subarray(CHUNK_HEADER_BYTES);
    this.#partBytes += data.length;
    if (this.#partBytes > this.#maxMessageBytes) this.#fail(`message over the ${this.#maxMessageBytes}-byte limit`);
    if ((flags & CHUNK_FLAG_FINAL) === 0) {
      this.#parts.push(data);
      return undefined;
    }
    if (this.#parts.length === 0) {
      this.#partBytes = 0;
      return data;
    }
    this.#parts.push(data);
    const msg = new Uint8Array(this.#partBytes);
    let off = 0;
    for (const p of this.#parts) {
      msg.set(p, off);
      off += p.length;
    }
    this.#parts = [];
    this.#partBytes = 0;
    return msg;
  }

  /** Zero both keys; the session is unusable afterwards. */
  wipe(): void {
    this.#broken = true;
    this.#parts = [];
    this.#send.wipe();
    this.#recv.wipe();
  }

  #fail(what: string): never {
    this.#broken = true;
    this.#parts = [];
    throw new ChannelError('ECHAN_PROTOCOL', `channel: ${what}`);
  }
}
