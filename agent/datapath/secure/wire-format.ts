// The four messages of the encrypted data path (DESIGN §4), as UDP payloads
// on the data path port beside plain VXLAN. The first byte is the type; plain
// VXLAN starts with its flags byte 0x08, so the caller routes by that byte.
// Every multi-byte integer is BIG-endian (unlike WireGuard's little-endian),
// as VXLAN's and the Noise AESGCM nonce's (§12.4) are. Reserved bytes are
// zero on send and must be zero on receipt (else 'malformed'). Type numbers
// are only ever appended.
//
// 1 handshake initiation, 152 bytes (WireGuard's 148 + the 4-byte generation):
//    0      1                   4                                 8
//    +------+-------------------+---------------------------------+
//    | 0x01 | VNI (u24)         | sender_index (u32)              |
//    +------+-------------------+---------------------------------+
//    8  ephemeral public key (32)
//   40  encrypted static public key (32 + 16 tag)
//   88  encrypted payload (16 + 16 tag): timestamp (12, TAI64N) | data key generation (u32)
//  120  mac1 (16) = HMAC-SHA256(SHA-256("mac1----" || responder static), bytes 0..120)[0..16]
//  136  mac2 (16) = HMAC-SHA256(cookie, bytes 0..136)[0..16], or zeros without a cookie
//  152
//
// 2 handshake response, 92 bytes (as WireGuard):
//    0 | 0x02 | reserved (3) | 4 sender_index (u32) | 8 receiver_index (u32)
//   12  ephemeral public key (32)
//   44  encrypted empty payload (0 + 16 tag)
//   60  mac1 (16), keyed by the initiator's static key
//   76  mac2 (16)
//   92
//
// 3 cookie reply, 52 bytes (WireGuard's 64 with a 12-byte AES-GCM nonce for the 24-byte XChaCha one):
//    0 | 0x03 | reserved (3) | 4 receiver_index (u32): the sender_index of the message answered
//    8  nonce (12, random)
//   20  encrypted cookie (16 + 16 tag): AES-256-GCM(SHA-256("cookie--" || replier static), nonce,
//       ad = mac1 of the message answered)
//   52
//
// 4 transport data, 32 + n bytes:
//    0      1                   4                                 8
//    +------+-------------------+---------------------------------+
//    | 0x04 | reserved (3)      | receiver_index (u32)            |
//    +------+-------------------+---------------------------------+
//    8  counter (u64)                                            16
//   16  AES-256-GCM(VXLAN datagram) (n) || tag (16); ad = bytes 0..16,
//       nonce = 00000000 || counter (Noise §12.4). n = 0: a keepalive.
//
// The readers here are for the hot path: plain numbers off the bytes, no
// views, no strings. Handshake messages are assembled by the functions below
// from already-computed parts (handshake.ts, cookie.ts).
import { readU32, writeU32 } from '../vxlan-frame.js';

export const MSG_INITIATION = 1 as const;
export const MSG_RESPONSE = 2 as const;
export const MSG_COOKIE_REPLY = 3 as const;
export const MSG_TRANSPORT = 4 as const;

export const TYPE_OFFSET = 0 as const;
export const KEY_BYTES = 32 as const;
export const TAG_BYTES = 16 as const;
export const MAC_BYTES = 16 as const;
export const TIMESTAMP_BYTES = 12 as const;
export const GENERATION_BYTES = 4 as const;

// Initiation.
export const INIT_VNI_OFFSET = 1 as const;
export const INIT_SENDER_OFFSET = 4 as const;
export const INIT_EPHEMERAL_OFFSET = 8 as const;
export const INIT_STATIC_OFFSET = 40 as const;
export const INIT_STATIC_BYTES = 48 as const; // 32 + tag
export const INIT_PAYLOAD_OFFSET = 88 as const;
export const INIT_PAYLOAD_PLAIN_BYTES = 16 as const; // timestamp + generation
export const INIT_PAYLOAD_BYTES = 32 as const; // + tag
export const INIT_MAC1_OFFSET = 120 as const;
export const INIT_MAC2_OFFSET = 136 as const;
export const INITIATION_BYTES = 152 as const;

// Response.
export const RESP_SENDER_OFFSET = 4 as const;
export const RESP_RECEIVER_OFFSET = 8 as const;
export const RESP_EPHEMERAL_OFFSET = 12 as const;
export const RESP_EMPTY_OFFSET = 44 as const;
export const RESP_MAC1_OFFSET = 60 as const;
export const RESP_MAC2_OFFSET = 76 as const;
export const RESPONSE_BYTES = 92 as const;

// Cookie reply.
export const COOKIE_RECEIVER_OFFSET = 4 as const;
export const COOKIE_NONCE_OFFSET = 8 as const;
export const COOKIE_NONCE_BYTES = 12 as const;
export const COOKIE_SEALED_OFFSET = 20 as const;
export const COOKIE_BYTES = 16 as const;
export const COOKIE_SEALED_BYTES = 32 as const; // cookie + tag
export const COOKIE_REPLY_BYTES = 52 as const;

// Transport.
export const DATA_RECEIVER_OFFSET = 4 as const;
export const DATA_COUNTER_OFFSET = 8 as const;
export const DATA_HEADER_BYTES = 16 as const;
/** The 16-byte header and the 16-byte tag around the VXLAN datagram: the overlay MTU shrinks by this. */
export const SECURE_OVERHEAD_BYTES = 32 as const;
/** The largest VXLAN datagram we seal: an IPv4 UDP payload (65,507) less the overhead. */
export const MAX_PLAINTEXT_BYTES = 65_475 as const;

/** Local indices we hand out are below 2^30, so a Map keyed by them stays on small integers (see secure-plane.ts). */
export const INDEX_LIMIT = 0x4000_0000 as const;
const TWO_32 = 0x1_0000_0000;

// Big-endian u32 access is the VXLAN layer's (one implementation for every data path format).
export { readU32, writeU32 };

/** The u24 VNI of an initiation. */
export function readInitVni(buf: Uint8Array): number {
  return (buf[INIT_VNI_OFFSET]! << 16) | (buf[INIT_VNI_OFFSET + 1]! << 8) | buf[INIT_VNI_OFFSET + 2]!;
}

/** True when bytes 1..4 (reserved in types 2, 3, 4) are zero. */
export function reservedClear(buf: Uint8Array): boolean {
  return (buf[1]! | buf[2]! | buf[3]!) === 0;
}

/** The u64 counter of a transport message; values past 2^53 come back as 2^53 (no limit is that high). */
export function readCounter(buf: Uint8Array): number {
  const hi = readU32(buf, DATA_COUNTER_OFFSET);
  if (hi >= 0x20_0000) return Number.MAX_SAFE_INTEGER + 1;
  return hi * TWO_32 + readU32(buf, DATA_COUNTER_OFFSET + 4);
}

/** Writes type, reserved, receiver_index and counter (a safe integer) into buf[0..16). */
export function writeTransportHeader(buf: Uint8Array, receiverIndex: number, counter: number): void {
  buf[0] = MSG_TRANSPORT;
  buf[1] = 0;
  buf[2] = 0;
  buf[3] = 0;
  writeU32(buf, DATA_RECEIVER_OFFSET, receiverIndex);
  writeU32(buf, DATA_COUNTER_OFFSET, Math.floor(counter / TWO_32));
  writeU32(buf, DATA_COUNTER_OFFSET + 4, counter >>> 0);
}

export interface InitiationParts {
  vni: number;
  senderIndex: number;
  ephemeral: Uint8Array;
  encryptedStatic: Uint8Array;
  encryptedPayload: Uint8Array;
}

function put(out: Uint8Array, off: number, what: string, part: Uint8Array, n: number): void {
  if (part.length !== n) throw new RangeError(`${what} must be ${n} bytes, got ${part.length}`);
  out.set(part, off);
}

/** An initiation with mac1 and mac2 zero (cookie.ts fills them). */
export function encodeInitiation(p: InitiationParts): Uint8Array {
  const out = new Uint8Array(INITIATION_BYTES);
  out[0] = MSG_INITIATION;
  out[1] = (p.vni >>> 16) & 0xff;
  out[2] = (p.vni >>> 8) & 0xff;
  out[3] = p.vni & 0xff;
  writeU32(out, INIT_SENDER_OFFSET, p.senderIndex);
  put(out, INIT_EPHEMERAL_OFFSET, 'encodeInitiation: ephemeral', p.ephemeral, KEY_BYTES);
  put(out, INIT_STATIC_OFFSET, 'encodeInitiation: encryptedStatic', p.encryptedStatic, INIT_STATIC_BYTES);
  put(out, INIT_PAYLOAD_OFFSET, 'encodeInitiation: encryptedPayload', p.encryptedPayload, INIT_PAYLOAD_BYTES);
  return out;
}

export interface ResponseParts {
  senderIndex: number;
  receiverIndex: number;
  ephemeral: Uint8Array;
  encryptedEmpty: Uint8Array;
}

/** A response with mac1 and mac2 zero. */
export function encodeResponse(p: ResponseParts): Uint8Array {
  const out = new Uint8Array(RESPONSE_BYTES);
  out[0] = MSG_RESPONSE;
  writeU32(out, RESP_SENDER_OFFSET, p.senderIndex);
  writeU32(out, RESP_RECEIVER_OFFSET, p.receiverIndex);
  put(out, RESP_EPHEMERAL_OFFSET, 'encodeResponse: ephemeral', p.ephemeral, KEY_BYTES);
  put(out, RESP_EMPTY_OFFSET, 'encodeResponse: encryptedEmpty', p.encryptedEmpty, TAG_BYTES);
  return out;
}

export function encodeCookieReply(receiverIndex: number, nonce: Uint8Array, sealedCookie: Uint8Array): Uint8Array {
  const out = new Uint8Array(COOKIE_REPLY_BYTES);
  out[0] = MSG_COOKIE_REPLY;
  writeU32(out, COOKIE_RECEIVER_OFFSET, receiverIndex);
  put(out, COOKIE_NONCE_OFFSET, 'encodeCookieReply: nonce', nonce, COOKIE_NONCE_BYTES);
  put(out, COOKIE_SEALED_OFFSET, 'encodeCookieReply: sealedCookie', sealedCookie, COOKIE_SEALED_BYTES);
  return out;
}

/** Where mac1 sits in a handshake message of this type, or -1 (cookie replies and transport carry none). */
export function mac1Offset(type: number): number {
  return type === MSG_INITIATION ? INIT_MAC1_OFFSET : type === MSG_RESPONSE ? RESP_MAC1_OFFSET : -1;
}

/** The exact length of a fixed-size message type, or -1 (transport is variable, unknown types have none). */
export function fixedLength(type: number): number {
  switch (type) {
    case MSG_INITIATION:
      return INITIATION_BYTES;
    case MSG_RESPONSE:
      return RESPONSE_BYTES;
    case MSG_COOKIE_REPLY:
      return COOKIE_REPLY_BYTES;
    default:
      return -1;
  }
}
