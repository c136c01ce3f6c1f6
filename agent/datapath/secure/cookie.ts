// mac1, mac2 and cookie replies: WireGuard's DoS defence (the WireGuard paper
// §5.3 "Cookie MACs") with SHA-256 in place of BLAKE2s and AES-256-GCM in
// place of XChaCha20-Poly1305 (layouts in wire-format.ts).
//
//   mac1 key   = SHA-256("mac1----" || receiver's static public key)
//   mac1       = HMAC-SHA256(mac1 key, message up to mac1)[0..16]
//   cookie     = HMAC-SHA256(secret, source VTEP as UTF-8)[0..16]; the secret is
//                32 random bytes, replaced when older than cookieSecretMs
//   mac2       = HMAC-SHA256(cookie, message up to mac2)[0..16], zeros without a cookie
//   reply key  = SHA-256("cookie--" || replier's static public key)
//   reply      = AES-256-GCM(reply key, random 12-byte nonce, cookie, ad = mac1 of the message answered)
//
// mac1 proves the sender knows our public key: junk is dropped with one HMAC
// and no Diffie-Hellman. mac2 proves it can receive at its source address: a
// responder under load answers an initiation without a valid mac2 by a cookie
// reply, which is smaller than the initiation (no amplification), and does no
// DH. Random 12-byte nonces under one reply key are safe far beyond the rate
// limits here (the GCM birthday bound is around 2^32 replies per key).
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Rand } from '../../../shared/rand.js';
import { hmacSha256, sha256 } from '../../../shared/crypto/hash.js';
import {
  COOKIE_BYTES, COOKIE_NONCE_BYTES, COOKIE_NONCE_OFFSET, COOKIE_REPLY_BYTES, COOKIE_SEALED_BYTES, COOKIE_SEALED_OFFSET, KEY_BYTES,
  MAC_BYTES, encodeCookieReply, readU32,
} from './wire-format.js';

const LABEL_MAC1 = new TextEncoder().encode('mac1----');
const LABEL_COOKIE = new TextEncoder().encode('cookie--');
const ZERO_MAC = new Uint8Array(MAC_BYTES);

/** SHA-256("mac1----" || publicKey): what a message to the holder of publicKey is mac1'd with. */
export function mac1KeyFor(publicKey: Uint8Array): Uint8Array {
  return sha256(LABEL_MAC1, publicKey);
}

/** SHA-256("cookie--" || publicKey): what the holder of publicKey seals its cookie replies with. */
export function cookieReplyKeyFor(publicKey: Uint8Array): Uint8Array {
  return sha256(LABEL_COOKIE, publicKey);
}

/** HMAC-SHA256(key, msg[0..end))[0..16]. */
export function mac16(key: Uint8Array, msg: Uint8Array, end: number): Uint8Array {
  return hmacSha256(key, msg.subarray(0, end)).slice(0, MAC_BYTES);
}

/** a[ao..ao+n) equals b[0..n), in time that depends only on n. */
export function equalAt(a: Uint8Array, ao: number, b: Uint8Array, n: number): boolean {
  let d = 0;
  for (let i = 0; i < n; i++) d |= a[ao + i]! ^ b[i]!;
  return d === 0;
}

/**
 * Writes mac1 (keyed for the receiver) and mac2 (from cookie, or zeros) into
 * a handshake message whose mac1 sits at mac1Off; returns mac1 (a cookie reply
 * to this message is sealed with it as ad).
 */
export function writeMacs(msg: Uint8Array, mac1Off: number, mac1Key: Uint8Array, cookie: Uint8Array | null): Uint8Array {
  const mac1 = mac16(mac1Key, msg, mac1Off);
  msg.set(mac1, mac1Off);
  msg.set(cookie === null ? ZERO_MAC : mac16(cookie, msg, mac1Off + MAC_BYTES), mac1Off + MAC_BYTES);
  return mac1;
}

/**
 * The responder side: checks mac1 and mac2 of messages to us and writes
 * cookie replies. Holds the rotating secret (from the injected Rand).
 */
export class CookieChecker {
  readonly #mac1Key: Uint8Array;
  readonly #replyKey: Uint8Array;
  readonly #rand: Rand;
  readonly #secretMs: number;
  #secret: Uint8Array;
  #secretSetMs: number;
  readonly #enc = new TextEncoder();

  constructor(o: { publicKey: Uint8Array; rand: Rand; nowMs: number; secretMs: number }) {
    this.#mac1Key = mac1KeyFor(o.publicKey);
    this.#replyKey = cookieReplyKeyFor(o.publicKey);
    this.#rand = o.rand;
    this.#secretMs = o.secretMs;
    this.#secret = o.rand.bytes(KEY_BYTES);
    this.#secretSetMs = o.nowMs;
  }

  /** mac1 of msg (at mac1Off) is ours. */
  checkMac1(msg: Uint8Array, mac1Off: number): boolean {
    return equalAt(msg, mac1Off, mac16(this.#mac1Key, msg, mac1Off), MAC_BYTES);
  }

  /** mac2 of msg is the one the cookie of srcVtep gives, under the current secret. */
  checkMac2(msg: Uint8Array, mac1Off: number, srcVtep: string, nowMs: number): boolean {
    const mac2Off = mac1Off + MAC_BYTES;
    if (equalAt(msg, mac2Off, ZERO_MAC, MAC_BYTES)) return false;
    const cookie = this.#cookie(srcVtep, nowMs);
    const ok = equalAt(msg, mac2Off, mac16(cookie, msg, mac2Off), MAC_BYTES);
    cookie.fill(0);
    return ok;
  }

  /** A cookie reply to msg (whose sender index sits at senderOff) from srcVtep. */
  reply(msg: Uint8Array, senderOff: number, mac1Off: number, srcVtep: string, nowMs: number): Uint8Array {
    const cookie = this.#cookie(srcVtep, nowMs);
    const nonce = this.#rand.bytes(COOKIE_NONCE_BYTES);
    const c = createCipheriv('aes-256-gcm', this.#replyKey, nonce, { authTagLength: 16 });
    c.setAAD(msg.subarray(mac1Off, mac1Off + MAC_BYTES));
    const ct = c.update(cookie);
    c.final();
    cookie.fill(0);
    const sealed = new Uint8Array(COOKIE_SEALED_BYTES);
    sealed.set(ct, 0);
    sealed.set(c.getAuthTag(), COOKIE_BYTES);
    return encodeCookieReply(readU32(msg, senderOff), nonce, sealed);
  }

  /** Zeroes the secret. */
  wipe(): void {
    this.#secret.fill(0);
  }

  #cookie(srcVtep: string, nowMs: number): Uint8Array {
    if (nowMs - this.#secretSetMs >= this.#secretMs) {
      this.#secret.fill(0);
      this.#secret = this.#rand.bytes(KEY_BYTES);
      this.#secretSetMs = nowMs;
    }
    return hmacSha256(this.#secret, this.#enc.encode(srcVtep)).slice(0, COOKIE_BYTES);
  }
}

/**
 * The initiator side: the cookie in a cookie reply, sealed by the holder of
 * replyKey (cookieReplyKeyFor(its public key)) over mac1 of the message we
 * sent; null if it does not authenticate or is not COOKIE_REPLY_BYTES long.
 */
export function openCookieReply(reply: Uint8Array, len: number, replyKey: Uint8Array, mac1: Uint8Array): Uint8Array | null {
  if (len !== COOKIE_REPLY_BYTES) return null;
  const d = createDecipheriv('aes-256-gcm', replyKey, reply.subarray(COOKIE_NONCE_OFFSET, COOKIE_NONCE_OFFSET + COOKIE_NONCE_BYTES), { authTagLength: 16 });
  d.setAuthTag(reply.subarray(COOKIE_SEALED_OFFSET + COOKIE_BYTES, COOKIE_SEALED_OFFSET + COOKIE_SEALED_BYTES));
  d.setAAD(mac1);
  const cookie = d.update(reply.subarray(COOKIE_SEALED_OFFSET, COOKIE_SEALED_OFFSET + COOKIE_BYTES));
  try {
    d.final();
  } catch {
    cookie.fill(0);
    return null;
  }
  return Uint8Array.from(cookie);
}
