// Shared inputs of the CA tests: fixed keys so golden bytes stay put.
import { ed25519 } from '@noble/curves/ed25519.js';
import { caRootOf } from '../../../../agent/cluster/ca/ca-root.js';
import { encodeCertificate, encodeTbs, type CertificateBody } from '../../../../agent/cluster/ca/certificate.js';
import { nodeKeyFromPrivate } from '../../../../agent/cluster/ca/node-key.js';

export const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** RFC 7748 §6.1 Alice's X25519 key as the node key. */
export const ALICE = nodeKeyFromPrivate(unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
/** RFC 7748 §6.1 Bob's. */
export const BOB = nodeKeyFromPrivate(unhex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'));

/** A CA whose Ed25519 seed is the bytes 0..31. */
export const CA_SEED = Uint8Array.from({ length: 32 }, (_, i) => i);
export const CA_ROOT = caRootOf(ed25519.getPublicKey(CA_SEED));
/** Another CA (seed 32..63). */
export const OTHER_SEED = Uint8Array.from({ length: 32 }, (_, i) => 32 + i);
export const OTHER_ROOT = caRootOf(ed25519.getPublicKey(OTHER_SEED));

export const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
export const DAY = 86_400_000;

export const BODY: CertificateBody = {
  serial: '000102030405060708090a0b0c0d0e0f',
  nodeId: ALICE.nodeId,
  role: 'manager',
  publicKey: ALICE.publicKey,
  notBeforeMs: T0,
  notAfterMs: T0 + 90 * DAY - 1_800_000,
  caId: CA_ROOT.id,
};

/** A certificate of `body` signed with `seed`. */
export function signed(body: CertificateBody = BODY, seed: Uint8Array = CA_SEED): Uint8Array {
  const tbs = encodeTbs(body);
  return encodeCertificate(tbs, ed25519.sign(tbs, seed));
}
