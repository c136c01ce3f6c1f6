// A sealed gossip message (issue 5): every SWIM/NetworkDB packet on 7946/udp,
// and every frame of a 7946/tcp stream, is one of these.
//
//    0               1                               5
//   +---------------+-------------------------------+
//   | version = 1   | key generation (u32, BE)      |   header = AAD (5 bytes)
//   +---------------+-------------------------------+----------------------+
//   | nonce (12 bytes): salt (8) || counter (u32, BE), opaque to receivers |
//   +----------------------------------------------------------------------+
//   | ciphertext (same length as the plaintext, 0 or more bytes)       ... |
//   +----------------------------------------------------------------------+
//   | tag (16 bytes)                                                       |
//   +----------------------------------------------------------------------+
//   17 + n + 16 bytes for an n-byte message: 33 bytes of overhead.
//
// AES-256-GCM under the ring key of that generation; the header is the
// associated data, so version and generation cannot be changed without the
// tag failing. How senders fill the nonce, and why, is in keyring.ts; a
// receiver only passes the 12 bytes to GCM.
//
// Streams (push-pull, bulk sync on 7946/tcp) use the same seal/open per
// frame: each frame of shared/wire/frame.ts (u32 BE length, then the body)
// carries exactly one sealed message as its body, i.e. encodeFrame(seal(...))
// on the way out and open() on each body FrameReader yields. The length is
// not authenticated: a changed length desynchronises the stream, the next
// open() fails and is counted, and the caller closes the stream.
//
// The data path drops, it does not throw (STYLE habit 8): open() returns
// undefined for anything that is not an authentic message under a ring key,
// and counts why in ring.drops. seal() throws only for caller errors and for
// a key that reached its message limit.
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES } from '../../shared/crypto/aead.js';
import type { GossipKeyring } from './keyring.js';

/** Format versions are only ever appended. */
export const SEALED_PACKET_VERSION = 1 as const;
export const VERSION_OFFSET = 0 as const;
export const GENERATION_OFFSET = 1 as const;
export const HEADER_BYTES = 5 as const;
export const NONCE_OFFSET = 5 as const;
export const CIPHERTEXT_OFFSET = 17 as const;
export const TAG_BYTES = AEAD_TAG_BYTES;
/** Bytes a sealed message adds to its plaintext; also the length of a sealed empty message. */
export const SEALED_OVERHEAD_BYTES = 33 as const;

/** Seals plaintext under the ring's primary key. Throws if that key has sealed its limit of messages. */
export function seal(ring: GossipKeyring, plaintext: Uint8Array): Uint8Array {
  if (!(plaintext instanceof Uint8Array)) throw new TypeError(`seal: plaintext must be a Uint8Array, got ${typeof plaintext}`);
  const key = ring.primary();
  const g = key.generation;
  const out = new Uint8Array(SEALED_OVERHEAD_BYTES + plaintext.length);
  out[VERSION_OFFSET] = SEALED_PACKET_VERSION;
  out[GENERATION_OFFSET] = g >>> 24;
  out[GENERATION_OFFSET + 1] = (g >>> 16) & 0xff;
  out[GENERATION_OFFSET + 2] = (g >>> 8) & 0xff;
  out[GENERATION_OFFSET + 3] = g & 0xff;
  key.sealInto(out.subarray(0, HEADER_BYTES), plaintext, out, NONCE_OFFSET, CIPHERTEXT_OFFSET);
  return out;
}

/**
 * The plaintext of packet, or undefined (counted in ring.drops) if it is too
 * short, of another version, under a generation the ring does not hold, or
 * not authentic. Never throws for any packet bytes.
 */
export function open(ring: GossipKeyring, packet: Uint8Array): Uint8Array | undefined {
  const drops = ring.drops;
  if (packet.length === 0) {
    drops.tooShort++;
    return undefined;
  }
  // Version before length: a later version may have another overhead.
  if (packet[VERSION_OFFSET] !== SEALED_PACKET_VERSION) {
    drops.badVersion++;
    return undefined;
  }
  if (packet.length < SEALED_OVERHEAD_BYTES) {
    drops.tooShort++;
    return undefined;
  }
  const g =
    ((packet[GENERATION_OFFSET]! << 24) | (packet[GENERATION_OFFSET + 1]! << 16) | (packet[GENERATION_OFFSET + 2]! << 8) | packet[GENERATION_OFFSET + 3]!) >>> 0;
  const key = ring.get(g);
  if (key === undefined) {
    drops.unknownKey++;
    return undefined;
  }
  const out = new Uint8Array(packet.length - SEALED_OVERHEAD_BYTES);
  const ok = key.openInto(
    packet.subarray(0, HEADER_BYTES),
    packet.subarray(NONCE_OFFSET, CIPHERTEXT_OFFSET),
    packet.subarray(CIPHERTEXT_OFFSET),
    out,
    0,
  );
  if (!ok) {
    drops.badTag++;
    return undefined;
  }
  return out;
}
