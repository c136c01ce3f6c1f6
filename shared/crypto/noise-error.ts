// The one error class of the Noise handshake. A handshake failure is a
// control-path error (STYLE habit 8): the caller branches on `code`, logs
// once and drops the handshake attempt. (Kept beside the Noise code because
// this module owns only shared/crypto/; it may move to shared/errors.ts.)

export type NoiseErrorCode =
  /** A ciphertext in a handshake or transport message did not authenticate. */
  | 'ENOISE_AUTH'
  /** A message is shorter than its pattern requires. */
  | 'ENOISE_SHORT'
  /** A message would exceed 65535 bytes (Noise spec §3). */
  | 'ENOISE_LONG'
  /** Out of turn, after completion, after split, or split before completion. */
  | 'ENOISE_STATE'
  /** A Diffie-Hellman with the peer's key failed (low-order point: all-zero output). */
  | 'ENOISE_DH'
  /** A CipherState ran out of nonces (Noise spec §5.1; here 2^53-1, see aead.ts). */
  | 'ENOISE_NONCE';

export class NoiseError extends Error {
  override name = 'NoiseError';
  constructor(readonly code: NoiseErrorCode, message: string) {
    super(message);
  }
}
