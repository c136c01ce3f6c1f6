// Byte cursors for the hand-written binary codecs (SWIM packets, push-pull,
// NetworkDB messages). All integers are big-endian.
//
//   str8 = length (u8) | that many bytes of UTF-8
//   u64  = an unsigned integer of at most 2^53-1 (a JS number), as 8 bytes
//
// ByteWriter fills a buffer of a size the codec computed exactly; it does not
// validate fields (the codec does, with its own messages) and throws
// RangeError only when a write would not fit, which is a codec bug.
//
// ByteReader reads between a start and an end offset of a buffer. Anything
// wrong with the bytes is reported as a ByteCursorFault: by default thrown as
// a ByteCursorError, or handed to the caller's `fail`, which returns the
// codec's own error (with the codec's own wording) to throw instead. Offsets
// in faults are absolute positions in the buffer, not relative to `start`.

export type ByteCursorFault =
  /** Fewer than `need` bytes are left at `offset`. */
  | { kind: 'truncated'; what: string; need: number; offset: number; have: number }
  /** A str8 length outside 1..max. */
  | { kind: 'length'; what: string; max: number; got: number }
  /** A str8 that is not well-formed UTF-8. */
  | { kind: 'utf8'; what: string }
  /** A u64 above 2^53-1. */
  | { kind: 'u64'; what: string }
  /** Bytes left over where the message should have ended. */
  | { kind: 'trailing'; what: string; have: number };

export function describeFault(f: ByteCursorFault): string {
  switch (f.kind) {
    case 'truncated':
      return `truncated ${f.what}: need ${f.need} bytes at offset ${f.offset}, have ${f.have}`;
    case 'length':
      return `${f.what} must be 1..${f.max} bytes, got ${f.got}`;
    case 'utf8':
      return `${f.what} is not valid UTF-8`;
    case 'u64':
      return `${f.what} exceeds 2^53-1`;
    case 'trailing':
      return `${f.what} has ${f.have} trailing bytes`;
  }
}

export class ByteCursorError extends Error {
  readonly code = 'EBYTECURSOR';
  override name = 'ByteCursorError';
  constructor(readonly fault: ByteCursorFault) {
    super(describeFault(fault));
  }
}

const TWO_POW_32 = 0x1_0000_0000;
/** The high word of 2^53-1. */
const MAX_U64_HIGH = 0x1f_ffff;
const MAX_STR8_BYTES = 0xff;

const utf8Encoder = new TextEncoder();
const utf8Exact = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8StripBom = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 length of s without encoding it: what str8 writes (a lone surrogate counts 3, as U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export class ByteWriter {
  readonly buf: Uint8Array;
  readonly #view: DataView;
  #off = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.#view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far. */
  get offset(): number {
    return this.#off;
  }

  /** Room left in the buffer. */
  get left(): number {
    return this.buf.length - this.#off;
  }

  #room(n: number): void {
    if (this.buf.length - this.#off < n) throw new RangeError(`ByteWriter: need ${n} bytes at offset ${this.#off}, have ${this.buf.length - this.#off}`);
  }

  u8(v: number): void {
    this.#room(1);
    this.#view.setUint8(this.#off, v);
    this.#off += 1;
  }

  u16(v: number): void {
    this.#room(2);
    this.#view.setUint16(this.#off, v, false);
    this.#off += 2;
  }

  u32(v: number): void {
    this.#room(4);
    this.#view.setUint32(this.#off, v, false);
    this.#off += 4;
  }

  /** v must be an integer in 0..2^53-1 (the codec checks). */
  u64(v: number): void {
    this.#room(8);
    this.#view.setUint32(this.#off, Math.floor(v / TWO_POW_32), false);
    this.#view.setUint32(this.#off + 4, v >>> 0, false);
    this.#off += 8;
  }

  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.buf.set(b, this.#off);
    this.#off += b.length;
  }

  /** Length byte, then s as UTF-8 (a lone surrogate as U+FFFD, as TextEncoder writes it). The codec checks the length range. */
  str8(s: string): void {
    this.#room(1);
    const room = Math.min(MAX_STR8_BYTES, this.buf.length - this.#off - 1);
    const r = utf8Encoder.encodeInto(s, this.buf.subarray(this.#off + 1, this.#off + 1 + room));
    if (r.read !== s.length) throw new RangeError(`ByteWriter: str8 does not fit in ${room} bytes`);
    this.buf[this.#off] = r.written;
    this.#off += 1 + r.written;
  }
}

export interface ByteReaderOptions {
  /** First byte to read; default 0. */
  start?: number;
  /** One past the last byte to read; default buf.length. */
  end?: number;
  /** Drop a leading U+FEFF from decoded strings (TextDecoder's default). Default false: strings decode exactly. */
  stripBOM?: boolean;
  /** Turns a fault into the error to throw; default: a ByteCursorError. */
  fail?: (fault: ByteCursorFault) => Error;
}

export class ByteReader {
  readonly buf: Uint8Array;
  readonly end: number;
  readonly #view: DataView;
  readonly #decoder: typeof utf8Exact;
  readonly #fail: (fault: ByteCursorFault) => Error;
  #off: number;

  constructor(buf: Uint8Array, opts: ByteReaderOptions = {}) {
    const start = opts.start ?? 0;
    const end = opts.end ?? buf.length;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end || end > buf.length) {
      throw new RangeError(`ByteReader: bad range ${start}..${end} of ${buf.length} bytes`);
    }
    this.buf = buf;
    this.end = end;
    this.#off = start;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#decoder = opts.stripBOM ? utf8StripBom : utf8Exact;
    this.#fail = opts.fail ?? ((f) => new ByteCursorError(f));
  }

  /** Absolute position of the next byte to read. */
  get offset(): number {
    return this.#off;
  }

  /** Bytes left before end. */
  get left(): number {
    return this.end - this.#off;
  }

  /** Throws the caller's error for a fault; for the codec's own checks that belong with the cursor's. */
  fail(fault: ByteCursorFault): never {
    throw this.#fail(fault);
  }

  need(n: number, what: string): void {
    if (this.end - this.#off < n) this.fail({ kind: 'truncated', what, need: n, offset: this.#off, have: this.end - this.#off });
  }

  /** Moves past n bytes (after checking they are there). */
  skip(n: number, what: string): void {
    this.need(n, what);
    this.#off += n;
  }

  u8(what: string): number {
    this.need(1, what);
    return this.#view.getUint8(this.#off++);
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.#view.getUint16(this.#off, false);
    this.#off += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.#view.getUint32(this.#off, false);
    this.#off += 4;
    return v;
  }

  /** A u64 of at most 2^53-1; anything larger is a fault (after the 8 bytes are consumed). */
  u64(what: string): number {
    this.need(8, what);
    const hi = this.#view.getUint32(this.#off, false);
    const lo = this.#view.getUint32(this.#off + 4, false);
    this.#off += 8;
    if (hi > MAX_U64_HIGH) this.fail({ kind: 'u64', what });
    return hi * TWO_POW_32 + lo;
  }

  /** A copy of the next n bytes. */
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = this.buf.slice(this.#off, this.#off + n);
    this.#off += n;
    return b;
  }

  /** A str8 of 1..max bytes; the length byte is read as `${what} length`. */
  str8(what: string, max: number): string {
    const n = this.u8(`${what} length`);
    if (n < 1 || n > max) this.fail({ kind: 'length', what, max, got: n });
    this.need(n, what);
    let s: string;
    try {
      s = this.#decoder.decode(this.buf.subarray(this.#off, this.#off + n));
    } catch {
      this.fail({ kind: 'utf8', what });
    }
    this.#off += n;
    return s;
  }

  /** The message must end here. */
  expectEnd(what: string): void {
    if (this.#off !== this.end) this.fail({ kind: 'trailing', what, have: this.end - this.#off });
  }
}
