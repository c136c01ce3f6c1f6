// The cluster CA's public root: what a joiner pins through the digest in its
// join token, and what every member verifies certificates with.
//
//   root   = CBOR array(3) [ context: tstr "agent/ca-root", version: uint 1, publicKey: bstr(32) Ed25519 ]
//   id     = keyId(publicKey): 25 base36 characters (key-id.ts), carried in every certificate it issues
//   digest = SHA-256(root bytes) as 50 lowercase base36 characters, the middle
//            part of a join token, as docker's SWMTKN-1-<digest>-<secret>
//            carries the SHA-256 of the root CA certificate (swarmkit ca/config.go)
//
// The root is not self-signed: a self-signature proves nothing to a joiner,
// who trusts the root only because its digest matches the token's.
import { ed25519 } from '@noble/curves/ed25519.js';
import { base36Width, encodeBase36 } from './base36.js';
import { keyId, sha256 } from './key-id.js';
import { decodeCbor, encodeCbor, type Cbor } from './strict-cbor.js';

export const CA_ROOT_CONTEXT = 'agent/ca-root';
export const CA_ROOT_VERSION = 1;
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** 50: the width of any SHA-256 value in base36. */
export const CA_DIGEST_LENGTH = base36Width(32);

export interface CaRoot {
  /** Ed25519 public key of the CA. */
  publicKey: Uint8Array;
  id: string;
  /** The encoded root, as hashed for the digest. */
  bytes: Uint8Array;
  digest: string;
}

export function caDigest(rootBytes: Uint8Array): string {
  return encodeBase36(sha256(rootBytes));
}

function fail(what: string): never {
  throw new Error(`malformed CA root: ${what}`);
}

export function caRootOf(publicKey: Uint8Array): CaRoot {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) fail(`public key must be ${ED25519_PUBLIC_KEY_BYTES} bytes, got ${publicKey.length}`);
  if (!ed25519.utils.isValidPublicKey(publicKey, false)) fail('public key is not a valid Ed25519 point');
  const bytes = encodeCbor([CA_ROOT_CONTEXT, CA_ROOT_VERSION, publicKey]);
  return { publicKey: publicKey.slice(), id: keyId(publicKey), bytes, digest: caDigest(bytes) };
}

/** Decode and validate; throws `malformed CA root: ...`. */
export function decodeCaRoot(bytes: Uint8Array): CaRoot {
  let v: Cbor;
  try {
    v = decodeCbor(bytes);
  } catch (e) {
    fail((e as Error).message);
  }
  if (!Array.isArray(v) || v.length !== 3) fail('expected an array of 3 (context, version, public key)');
  if (v[0] !== CA_ROOT_CONTEXT) fail(`context must be "${CA_ROOT_CONTEXT}"`);
  if (v[1] !== CA_ROOT_VERSION) fail(`unsupported version ${String(v[1])} (this agent reads ${CA_ROOT_VERSION})`);
  const pk = v[2];
  if (!(pk instanceof Uint8Array)) fail('public key must be a byte string');
  // Strict decoding means re-encoding gives the same bytes, so the digest is the carried bytes' digest.
  return caRootOf(pk);
}
