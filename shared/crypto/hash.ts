// SHA-256, HMAC-SHA256 and the Noise HKDF (Noise spec rev 34 §4.3), through
// node:crypto (available on Node 20 and Deno 2).
//
// The Noise HKDF is RFC 5869 with the chaining key as salt and an empty info:
//   temp_key = HMAC(chaining_key, input_key_material)
//   output1  = HMAC(temp_key, 0x01)
//   output2  = HMAC(temp_key, output1 || 0x02)
//   output3  = HMAC(temp_key, output2 || 0x03)
import { createHash, createHmac } from 'node:crypto';

/** HASHLEN for SHA-256 (Noise spec §4.3, §12.5). */
export const HASH_BYTES = 32 as const;
/** BLOCKLEN for SHA-256 (Noise spec §12.5). */
export const HASH_BLOCK_BYTES = 64 as const;

function view(b: Buffer): Uint8Array {
  // A plain Uint8Array over the Buffer's bytes: callers compare with equal().
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** SHA-256 of the concatenation of parts. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return view(h.digest());
}

/** HMAC-SHA256(key, concatenation of parts) (RFC 2104). */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return view(h.digest());
}

const ONE = Uint8Array.of(0x01);
const TWO = Uint8Array.of(0x02);
const THREE = Uint8Array.of(0x03);

/** HKDF(chaining_key, input_key_material, 2) — Noise spec §4.3. */
export function hkdf2(chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const temp = hmacSha256(chainingKey, ikm);
  const o1 = hmacSha256(temp, ONE);
  const o2 = hmacSha256(temp, o1, TWO);
  temp.fill(0);
  return [o1, o2];
}

/** HKDF(chaining_key, input_key_material, 3) — Noise spec §4.3. */
export function hkdf3(chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
  const temp = hmacSha256(chainingKey, ikm);
  const o1 = hmacSha256(temp, ONE);
  const o2 = hmacSha256(temp, o1, TWO);
  const o3 = hmacSha256(temp, o2, THREE);
  temp.fill(0);
  return [o1, o2, o3];
}
