// A strict subset of deterministic CBOR (RFC 8949 §4.2.1) for the objects the
// CA signs or keeps: unsigned integers, byte strings, text strings and
// arrays, every length in its shortest form, no tags, floats, maps or
// indefinite lengths. Signed bytes then have exactly one encoding, golden
// bytes do not depend on a library's choices (cbor-x writes integers above
// 2^32 as float64), and a decoder this small can be read in one sitting and
// fuzzed. Any CBOR decoder reads what this writes.

export type Cbor = number | string | Uint8Array | readonly Cbor[];

const MAJOR_UINT = 0;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
// Our formats nest at most three deep; a bound keeps hostile input from recursing far.
const MAX_DEPTH = 8;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function head(out: number[], major: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`cbor: cannot encode ${n}: expected a non-negative safe integer`);
  const m = major << 5;
  if (n < 24) out.push(m | n);
  else if (n < 0x100) out.push(m | 24, n);
  else if (n < 0x1_0000) out.push(m | 25, n >>> 8, n & 0xff);
  else if (n < 0x1_0000_0000) out.push(m | 26, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  else {
    const hi = Math.floor(n / 0x1_0000_0000);
    const lo = n >>> 0;
    out.push(m | 27, hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff);
  }
}

function put(out: number[], v: Cbor): void {
  if (typeof v === 'number') head(out, MAJOR_UINT, v);
  else if (typeof v === 'string') putBytes(out, MAJOR_TEXT, utf8.encode(v));
  else if (v instanceof Uint8Array) putBytes(out, MAJOR_BYTES, v);
  else {
    head(out, MAJOR_ARRAY, v.length);
    for (const x of v) put(out, x);
  }
}

function putBytes(out: number[], major: number, b: Uint8Array): void {
  head(out, major, b.length);
  for (const x of b) out.push(x);
}

export function encodeCbor(v: Cbor): Uint8Array {
  const out: number[] = [];
  put(out, v);
  return Uint8Array.from(out);
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  fail(what: string, at = this.pos): never {
    throw new Error(`cbor: ${what} at offset ${at}`);
  }

  byte(): number {
    const b = this.buf[this.pos];
    if (b === undefined) this.fail('truncated input');
    this.pos++;
    return b;
  }

  /** Reads a head; returns [major, argument]. */
  head(): [number, number] {
    const at = this.pos;
    const ib = this.byte();
    const major = ib >> 5;
    const info = ib & 0x1f;
    if (info < 24) return [major, info];
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (size === 0) this.fail(`unsupported additional information ${info}`, at);
    let n = 0;
    for (let i = 0; i < size; i++) n = n * 256 + this.byte();
    if (!Number.isSafeInteger(n)) this.fail('integer above 2^53-1', at);
    // Shortest form only (RFC 8949 §4.2.1): each size must be needed.
    const min = size === 1 ? 24 : size === 2 ? 0x100 : size === 4 ? 0x1_0000 : 0x1_0000_0000;
    if (n < min) this.fail('non-minimal length', at);
    return [major, n];
  }

  item(depth: number): Cbor {
    const at = this.pos;
    const [major, n] = this.head();
    switch (major) {
      case MAJOR_UINT:
        return n;
      case MAJOR_BYTES:
        return this.take(n).slice();
      case MAJOR_TEXT:
        try {
          return utf8Strict.decode(this.take(n));
        } catch {
          this.fail('text string is not UTF-8', at);
        }
      case MAJOR_ARRAY: {
        if (depth >= MAX_DEPTH) this.fail('nested too deep', at);
        // Every item takes at least one byte: a longer claim is a lie, refuse it before looping.
        if (n > this.buf.length - this.pos) this.fail('truncated input');
        const items: Cbor[] = [];
        for (let i = 0; i < n; i++) items.push(this.item(depth + 1));
        return items;
      }
      default:
        this.fail(`unsupported major type ${major}`, at);
    }
  }

  take(n: number): Uint8Array {
    if (n > this.buf.length - this.pos) this.fail('truncated input');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

/** Decode exactly one item that fills `bytes`; throws `cbor: ... at offset N` on anything else. */
export function decodeCbor(bytes: Uint8Array): Cbor {
  const r = new Reader(bytes);
  const v = r.item(0);
  if (r.pos !== bytes.length) r.fail('trailing bytes after the item');
  return v;
}
