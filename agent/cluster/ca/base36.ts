// Fixed-width lowercase base36 of a byte string: the alphabet of docker's
// node ids and join tokens (swarmkit identity/randomid.go, ca/config.go).
// A byte string is read as one big-endian unsigned integer and written in
// base36, left-padded with '0' to the width that n bytes always need, so
// every value of a given size renders to the same number of characters:
// 16 bytes -> 25 characters (36^25 > 2^128), 32 bytes -> 50 (36^50 > 2^256).

const ALPHABET = /^[0-9a-z]+$/;

/** Characters needed for any n-byte value: ceil(8n / log2(36)). */
export function base36Width(byteLength: number): number {
  if (!Number.isSafeInteger(byteLength) || byteLength <= 0) throw new RangeError(`base36Width: byteLength must be a positive integer, got ${byteLength}`);
  let width = 0;
  for (let max = (1n << BigInt(8 * byteLength)) - 1n; max > 0n; max /= 36n) width++;
  return width;
}

export function encodeBase36(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n.toString(36).padStart(base36Width(bytes.length), '0');
}

/**
 * The byteLength bytes that `text` renders, or undefined when text is not
 * exactly base36Width(byteLength) lowercase base36 characters or names a
 * value that does not fit (only the leading character can make it overflow).
 */
export function decodeBase36(text: string, byteLength: number): Uint8Array | undefined {
  if (text.length !== base36Width(byteLength) || !ALPHABET.test(text)) return undefined;
  let n = 0n;
  for (const ch of text) n = n * 36n + BigInt(parseInt(ch, 36));
  if (n >> BigInt(8 * byteLength) !== 0n) return undefined;
  const out = new Uint8Array(byteLength);
  for (let i = byteLength - 1; i >= 0; i--, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}
