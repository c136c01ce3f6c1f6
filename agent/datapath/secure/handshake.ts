// The session handshake: Noise_IKpsk2_25519_AESGCM_SHA256 (Noise spec rev 34
// §7.5 IK, §9 psk2), written out the way the WireGuard paper §5.4 writes its
// own IKpsk2, so that the responder can read the initiation before it picks a
// PSK: in IKpsk2 the PSK is mixed only at the end of the response, and the
// initiation's encrypted payload names the data key generation to use.
//
//   prologue  = "agent overlay v1" || VNI (u24 BE): binds the handshake to the
//               network (a VNI rewritten in flight fails the static's tag)
//   <- s                                  (pre-message: the responder's static)
//   -> e, es, s, ss   payload = TAI64N timestamp (12) || generation (u32 BE)
//   <- e, ee, se, psk payload = empty; psk = the network's data key of that generation
//   Split(): k1 initiator->responder, k2 responder->initiator
//
// Every handshake AEAD runs at nonce 0 (each follows a fresh MixKey, §5.1).
// shared/crypto's HandshakeState computes the same transcript (the tests run
// both against each other); this version exists because HandshakeState needs
// the PSK before the first message is read, and to use the per-peer
// precomputed DH(s, rs) for "ss" as WireGuard does.
//
// Failures are answers (HS_FAIL_*), never exceptions: the caller counts and
// drops. Intermediate secrets are zeroed as soon as they are replaced.
import { nodeAesGcm } from '../../../shared/crypto/aead.js';
import { hkdf2, hkdf3, sha256 } from '../../../shared/crypto/hash.js';
import { dh, type KeyPair } from '../../../shared/crypto/noise-dh.js';
import {
  INIT_EPHEMERAL_OFFSET, INIT_PAYLOAD_BYTES, INIT_PAYLOAD_OFFSET, INIT_PAYLOAD_PLAIN_BYTES, INIT_SENDER_OFFSET, INIT_STATIC_BYTES,
  INIT_STATIC_OFFSET, KEY_BYTES, RESP_EMPTY_OFFSET, RESP_EPHEMERAL_OFFSET, RESP_SENDER_OFFSET, TAG_BYTES, TIMESTAMP_BYTES, encodeInitiation,
  encodeResponse, readInitVni, readU32, writeU32,
} from './wire-format.js';

export const PROTOCOL_NAME = 'Noise_IKpsk2_25519_AESGCM_SHA256';
export const PROLOGUE_LABEL = 'agent overlay v1';

/** The handshake did not authenticate (a tag, or a DH with a low-order point). */
export const HS_FAIL_AUTH = 1 as const;
/** The initiator's static key is not one of our peers. */
export const HS_FAIL_UNKNOWN_PEER = 2 as const;
export type HandshakeFailure = typeof HS_FAIL_AUTH | typeof HS_FAIL_UNKNOWN_PEER;

const ZERO_NONCE = new Uint8Array(12);
const EMPTY = new Uint8Array(0);
const enc = new TextEncoder();
// Exactly HASHLEN bytes, so h starts as the name itself (§5.2 InitializeSymmetric).
const NAME = enc.encode(PROTOCOL_NAME);

/** The prologue of a handshake on network vni. */
export function prologueFor(vni: number): Uint8Array {
  const label = enc.encode(PROLOGUE_LABEL);
  const p = new Uint8Array(label.length + 3);
  p.set(label);
  p[label.length] = (vni >>> 16) & 0xff;
  p[label.length + 1] = (vni >>> 8) & 0xff;
  p[label.length + 2] = vni & 0xff;
  return p;
}

/** ck, h and the current key k of the symmetric state (§5.2); each step zeroes what it replaces. */
export class Chain {
  ck: Uint8Array;
  h: Uint8Array;
  k: Uint8Array | null;

  constructor(ck: Uint8Array, h: Uint8Array, k: Uint8Array | null) {
    this.ck = ck;
    this.h = h;
    this.k = k;
  }

  /** InitializeSymmetric, the prologue and the responder's static pre-message (§5.3, §7.1). */
  static start(vni: number, responderStatic: Uint8Array): Chain {
    return new Chain(Uint8Array.from(NAME), sha256(sha256(NAME, prologueFor(vni)), responderStatic), null);
  }

  /** An independent copy (a forged response must not spoil the state the genuine one needs). */
  clone(): Chain {
    return new Chain(Uint8Array.from(this.ck), Uint8Array.from(this.h), this.k === null ? null : Uint8Array.from(this.k));
  }

  mixHash(data: Uint8Array): void {
    this.h = sha256(this.h, data);
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, k] = hkdf2(this.ck, ikm);
    this.ck.fill(0);
    this.k?.fill(0);
    this.ck = ck;
    this.k = k;
  }

  /** MixKey(DH(kp, pub)); false on a low-order point. */
  mixDh(kp: KeyPair, pub: Uint8Array): boolean {
    let shared: Uint8Array;
    try {
      shared = dh(kp, pub);
    } catch {
      return false;
    }
    this.mixKey(shared);
    shared.fill(0);
    return true;
  }

  mixKeyAndHash(psk: Uint8Array): void {
    const [ck, th, k] = hkdf3(this.ck, psk);
    this.ck.fill(0);
    this.k?.fill(0);
    this.ck = ck;
    this.k = k;
    this.mixHash(th);
  }

  encryptAndHash(plain: Uint8Array): Uint8Array {
    const out = new Uint8Array(plain.length + TAG_BYTES);
    nodeAesGcm.sealInto(this.k!, ZERO_NONCE, this.h, plain, out, 0);
    this.mixHash(out);
    return out;
  }

  /** The plaintext, or null if the tag does not verify (h unchanged then). */
  decryptAndHash(sealed: Uint8Array): Uint8Array | null {
    const out = new Uint8Array(sealed.length - TAG_BYTES);
    if (!nodeAesGcm.openInto(this.k!, ZERO_NONCE, this.h, sealed, out, 0)) return null;
    this.mixHash(sealed);
    return out;
  }

  /** Split(): [k1, k2]; the chain is wiped. */
  split(): [Uint8Array, Uint8Array] {
    const pair = hkdf2(this.ck, EMPTY);
    this.wipe();
    return pair;
  }

  wipe(): void {
    this.ck.fill(0);
    this.k?.fill(0);
    this.k = null;
  }
}

/** What the initiator keeps between its initiation and the response. */
export interface InitiatorHandshake {
  readonly vni: number;
  readonly localIndex: number;
  readonly generation: number;
  readonly e: KeyPair;
  readonly chain: Chain;
}

export interface InitiationInput {
  vni: number;
  localIndex: number;
  /** Our static key pair. */
  s: KeyPair;
  /** The responder's static public key. */
  rs: Uint8Array;
  /** DH(s, rs), precomputed per peer. */
  ss: Uint8Array;
  timestamp: Uint8Array;
  generation: number;
  /** A fresh ephemeral key pair. */
  e: KeyPair;
}

/** -> e, es, s, ss: the initiation (mac1/mac2 still zero) and the state to read the response with. */
export function createInitiation(i: InitiationInput): { msg: Uint8Array; hs: InitiatorHandshake } | HandshakeFailure {
  const c = Chain.start(i.vni, i.rs);
  c.mixHash(i.e.publicKey);
  c.mixKey(i.e.publicKey); // psk handshakes mix e into the key too (§9.2)
  if (!c.mixDh(i.e, i.rs)) return HS_FAIL_AUTH;
  const encryptedStatic = c.encryptAndHash(i.s.publicKey);
  c.mixKey(i.ss);
  const payload = new Uint8Array(INIT_PAYLOAD_PLAIN_BYTES);
  payload.set(i.timestamp, 0);
  writeU32(payload, TIMESTAMP_BYTES, i.generation);
  const encryptedPayload = c.encryptAndHash(payload);
  const msg = encodeInitiation({ vni: i.vni, senderIndex: i.localIndex, ephemeral: i.e.publicKey, encryptedStatic, encryptedPayload });
  return { msg, hs: { vni: i.vni, localIndex: i.localIndex, generation: i.generation, e: i.e, chain: c } };
}

/** An initiation the responder has read: enough to answer it. */
export interface ConsumedInitiation {
  readonly vni: number;
  readonly senderIndex: number;
  /** The initiator's static public key. */
  readonly rs: Uint8Array;
  readonly re: Uint8Array;
  readonly timestamp: Uint8Array;
  readonly generation: number;
  readonly chain: Chain;
}

/**
 * Reads an initiation (length already checked) addressed to s. ssFor gives
 * DH(s, rs) for a known peer's static key, or null for a stranger.
 */
export function consumeInitiation(msg: Uint8Array, s: KeyPair, ssFor: (rs: Uint8Array) => Uint8Array | null): ConsumedInitiation | HandshakeFailure {
  const vni = readInitVni(msg);
  const c = Chain.start(vni, s.publicKey);
  const re = Uint8Array.from(msg.subarray(INIT_EPHEMERAL_OFFSET, INIT_EPHEMERAL_OFFSET + KEY_BYTES));
  c.mixHash(re);
  c.mixKey(re);
  if (!c.mixDh(s, re)) return fail(c, HS_FAIL_AUTH);
  const rs = c.decryptAndHash(msg.subarray(INIT_STATIC_OFFSET, INIT_STATIC_OFFSET + INIT_STATIC_BYTES));
  if (rs === null) return fail(c, HS_FAIL_AUTH);
  const ss = ssFor(rs);
  if (ss === null) return fail(c, HS_FAIL_UNKNOWN_PEER);
  c.mixKey(ss);
  const payload = c.decryptAndHash(msg.subarray(INIT_PAYLOAD_OFFSET, INIT_PAYLOAD_OFFSET + INIT_PAYLOAD_BYTES));
  if (payload === null) return fail(c, HS_FAIL_AUTH);
  return {
    vni,
    senderIndex: readU32(msg, INIT_SENDER_OFFSET),
    rs,
    re,
    timestamp: payload.slice(0, TIMESTAMP_BYTES),
    generation: readU32(payload, TIMESTAMP_BYTES),
    chain: c,
  };
}

function fail(c: Chain, why: HandshakeFailure): HandshakeFailure {
  c.wipe();
  return why;
}

/** Transport keys from Split(), seen from one side. */
export interface SessionKeys {
  send: Uint8Array;
  recv: Uint8Array;
}

/** <- e, ee, se, psk: the response (macs zero) and the responder's keys. Consumes ci's chain. */
export function createResponse(ci: ConsumedInitiation, o: { localIndex: number; psk: Uint8Array; e: KeyPair }): { msg: Uint8Array; keys: SessionKeys } | HandshakeFailure {
  const c = ci.chain;
  c.mixHash(o.e.publicKey);
  c.mixKey(o.e.publicKey);
  if (!c.mixDh(o.e, ci.re) || !c.mixDh(o.e, ci.rs)) return fail(c, HS_FAIL_AUTH);
  c.mixKeyAndHash(o.psk);
  const encryptedEmpty = c.encryptAndHash(EMPTY);
  const [k1, k2] = c.split();
  const msg = encodeResponse({ senderIndex: o.localIndex, receiverIndex: ci.senderIndex, ephemeral: o.e.publicKey, encryptedEmpty });
  return { msg, keys: { send: k2, recv: k1 } };
}

/**
 * Reads a response (length already checked) to hs. hs is left as it was, so
 * a forged response can be dropped while the genuine one is still awaited;
 * the caller wipes hs (wipeInitiator) once done with it.
 */
export function consumeResponse(msg: Uint8Array, hs: InitiatorHandshake, s: KeyPair, psk: Uint8Array): { senderIndex: number; keys: SessionKeys } | HandshakeFailure {
  const c = hs.chain.clone();
  const re = msg.subarray(RESP_EPHEMERAL_OFFSET, RESP_EPHEMERAL_OFFSET + KEY_BYTES);
  c.mixHash(re);
  c.mixKey(re);
  if (!c.mixDh(hs.e, re) || !c.mixDh(s, re)) return fail(c, HS_FAIL_AUTH);
  c.mixKeyAndHash(psk);
  if (c.decryptAndHash(msg.subarray(RESP_EMPTY_OFFSET, RESP_EMPTY_OFFSET + TAG_BYTES)) === null) return fail(c, HS_FAIL_AUTH);
  const [k1, k2] = c.split();
  return { senderIndex: readU32(msg, RESP_SENDER_OFFSET), keys: { send: k1, recv: k2 } };
}

/** Zeroes what an abandoned initiation still holds. */
export function wipeInitiator(hs: InitiatorHandshake): void {
  hs.chain.wipe();
  hs.e.privateKey.fill(0);
}

// ---- TAI64N timestamps (replay protection of initiations, WireGuard paper §5.1) ----

const TAI64_BASE_HI = 0x4000_0000; // 2^62 >>> 32: the TAI64 label of second 0. Only the order of timestamps matters.

/** The 12-byte TAI64N label of wallMs: seconds as u64 BE (2^62 + Unix seconds), then nanoseconds as u32 BE. */
export function tai64n(wallMs: number): Uint8Array {
  const ms = Math.max(0, Math.floor(wallMs));
  const secs = Math.floor(ms / 1000);
  const out = new Uint8Array(TIMESTAMP_BYTES);
  writeU32(out, 0, TAI64_BASE_HI + Math.floor(secs / 0x1_0000_0000));
  writeU32(out, 4, secs >>> 0);
  writeU32(out, 8, (ms - secs * 1000) * 1_000_000);
  return out;
}

/** Byte order of two timestamps: < 0, 0, > 0. */
export function compareTimestamps(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < TIMESTAMP_BYTES; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** tai64n(wallMs), or prev + 1 ns when the clock has not moved past prev (two initiations within a millisecond, or a clock step back). */
export function nextTimestamp(prev: Uint8Array | null, wallMs: number): Uint8Array {
  const t = tai64n(wallMs);
  if (prev === null || compareTimestamps(t, prev) > 0) return t;
  const out = Uint8Array.from(prev);
  let nanos = readU32(out, 8) + 1;
  let lo = readU32(out, 4);
  let hi = readU32(out, 0);
  if (nanos >= 1_000_000_000) {
    nanos = 0;
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi++;
  }
  writeU32(out, 0, hi);
  writeU32(out, 4, lo);
  writeU32(out, 8, nanos);
  return out;
}
