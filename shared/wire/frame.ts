// Length-prefixed frames on a byte stream (control plane: Raft, dispatcher).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                 length of the body (u32, big-endian)          |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                 body (length bytes)                 ...
//
// A peer that announces a body over the reader's limit is broken or hostile:
// the reader fails once and the caller closes the stream.

export const FRAME_HEADER_BYTES = 4 as const;
/** Large enough for a Raft snapshot of a big cluster's store. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

export function encodeFrame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length, false);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

export class FrameTooLargeError extends Error {
  readonly code = 'EFRAMETOOLARGE';
  override name = 'FrameTooLargeError';
}

/** Reassembles frames from arbitrary chunks. */
export class FrameReader {
  readonly #max: number;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #failed = false;

  constructor(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.#max = maxFrameBytes;
  }

  /** Feed a chunk; returns every frame body completed by it. Throws FrameTooLargeError once, then returns nothing. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failed) return [];
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.#buffered < FRAME_HEADER_BYTES) break;
      const head = this.#peek(FRAME_HEADER_BYTES);
      const len = new DataView(head.buffer, head.byteOffset, FRAME_HEADER_BYTES).getUint32(0, false);
      if (len > this.#max) {
        this.#failed = true;
        this.#chunks = [];
        this.#buffered = 0;
        throw new FrameTooLargeError(`frame of ${len} bytes exceeds the limit of ${this.#max}`);
      }
      if (this.#buffered < FRAME_HEADER_BYTES + len) break;
      const whole = this.#take(FRAME_HEADER_BYTES + len);
      out.push(whole.subarray(FRAME_HEADER_BYTES));
    }
    return out;
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.#buffered;
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return this.#flatten().subarray(0, n);
  }

  #take(n: number): Uint8Array {
    const flat = this.#chunks[0]!.length >= n ? this.#chunks[0]! : this.#flatten();
    const head = flat.slice(0, n);
    const rest = flat.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered -= n;
    return head;
  }

  #flatten(): Uint8Array {
    const all = new Uint8Array(this.#buffered);
    let off = 0;
    for (const c of this.#chunks) {
      all.set(c, off);
      off += c.length;
    }
    this.#chunks = [all];
    return all;
  }
}
