// Ids derived from public keys, in the shape of docker's ids: a node's id and
// the CA's id are the first 16 bytes of SHA-256(public key) as 25 lowercase
// base36 characters (the width swarmkit gives its 128-bit random ids,
// identity/randomid.go). Deriving instead of drawing means the id can be
// recomputed from the key by anyone, so a certificate cannot pair one
// node's id with another node's key without the pairing being visible.
import { createHash } from 'node:crypto';
import { encodeBase36 } from './base36.js';

/** Bytes of the hash kept: 128 bits, as many as swarmkit's random ids carry. */
export const KEY_ID_HASH_BYTES = 16;
/** Length of every derived id. */
export const KEY_ID_LENGTH = 25;

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** base36(SHA-256(publicKey)[0..16]), 25 characters. */
export function keyId(publicKey: Uint8Array): string {
  return encodeBase36(sha256(publicKey).subarray(0, KEY_ID_HASH_BYTES));
}
