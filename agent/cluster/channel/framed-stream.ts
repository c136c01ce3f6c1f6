// A Stream read as u32 length-prefixed frames (shared/wire/frame.ts), with
// one replaceable handler: the handshake drivers read it first, then hand it
// to the SecureChannel of the established connection. (Stream.onData cannot
// be unregistered, so the switch happens here rather than on the stream.)
import { NOISE_MAX_MESSAGE_BYTES } from '../../../shared/crypto/noise-handshake.js';
import type { Stream } from '../../../shared/transport/types.js';
import { encodeFrame, FrameReader } from '../../../shared/wire/frame.js';
import { ChannelError } from './errors.js';

export interface FrameHandler {
  /** One frame body. Handlers catch their own errors. */
  frame(body: Uint8Array): void;
  /** A frame announced a length over the limit; no more frames will come. */
  bad(err: ChannelError): void;
  /** The stream closed (err from the transport, if any). Called once. */
  closed(err?: Error): void;
}

const IGNORE: FrameHandler = { frame: () => {}, bad: () => {}, closed: () => {} };

export class FramedStream {
  handler: FrameHandler = IGNORE;
  readonly #reader: FrameReader;
  #closed = false;

  /** Every frame on 2377 is one Noise message, so none is over 65535 bytes (Noise spec §3). */
  constructor(readonly stream: Stream) {
    this.#reader = new FrameReader(NOISE_MAX_MESSAGE_BYTES);
    stream.onData((d) => this.#data(d));
    stream.onClose((err) => {
      if (this.#closed) return;
      this.#closed = true;
      this.handler.closed(err);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Write each body as one frame, in a single write. */
  write(bodies: readonly Uint8Array[]): void {
    if (this.#closed) return;
    if (bodies.length === 1) {
      this.stream.write(encodeFrame(bodies[0]!));
      return;
    }
    const frames = bodies.map(encodeFrame);
    const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let off = 0;
    for (const f of frames) {
      all.set(f, off);
      off += f.length;
    }
    this.stream.write(all);
  }

  /** Stop reading and close gracefully (what was written is still delivered). */
  end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stream.end();
  }

  /** Stop reading and reset the stream. */
  destroy(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stream.destroy(err);
  }

  #data(d: Uint8Array): void {
    if (this.#closed) return;
    let frames: Uint8Array[];
    try {
      frames = this.#reader.push(d);
    } catch (e) {
      this.handler.bad(new ChannelError('ECHAN_PROTOCOL', `channel: ${(e as Error).message}`));
      return;
    }
    // The handler may change (handshake -> channel) or the stream close between frames.
    for (const f of frames) {
      if (this.#closed) return;
      this.handler.frame(f);
    }
  }
}
