// DH functions for Noise "25519" (Noise spec rev 34 §4.1, §12.1): X25519 from
// RFC 7748 through @noble/curves. Key generation takes the injected Rand
// (STYLE habit 3); production passes cryptoRand().
import { x25519 } from '@noble/curves/ed25519.js';
import type { Rand } from '../rand.js';
import { NoiseError } from './noise-error.js';

/** DHLEN for 25519 (§12.1). */
export const DH_BYTES = 32 as const;

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

/** The key pair of a 32-byte X25519 private key (copied; clamping happens inside X25519). */
export function keyPairFromPrivate(privateKey: Uint8Array): KeyPair {
  if (privateKey.length !== DH_BYTES) throw new RangeError(`keyPairFromPrivate: private key must be ${DH_BYTES} bytes, got ${privateKey.length}`);
  const priv = Uint8Array.from(privateKey);
  return { privateKey: priv, publicKey: Uint8Array.from(x25519.getPublicKey(priv)) };
}

/** GENERATE_KEYPAIR() (§4.1) from 32 bytes of rand. */
export function generateKeypair(rand: Rand): KeyPair {
  const priv = rand.bytes(DH_BYTES);
  const kp = keyPairFromPrivate(priv);
  priv.fill(0);
  return kp;
}

/**
 * DH(key_pair, public_key) (§4.1). X25519 of a low-order point is all zeros;
 * we reject it (§12.1 allows either), as WireGuard does.
 */
export function dh(keyPair: KeyPair, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== DH_BYTES) throw new NoiseError('ENOISE_DH', `dh: public key must be ${DH_BYTES} bytes, got ${publicKey.length}`);
  let out: Uint8Array;
  try {
    out = x25519.getSharedSecret(keyPair.privateKey, publicKey);
  } catch {
    throw new NoiseError('ENOISE_DH', 'dh: the peer public key gives an all-zero shared secret (low-order point)');
  }
  let acc = 0;
  for (let i = 0; i < out.length; i++) acc |= out[i]!;
  if (acc === 0) throw new NoiseError('ENOISE_DH', 'dh: the peer public key gives an all-zero shared secret (low-order point)');
  return out;
}
