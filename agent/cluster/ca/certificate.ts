// Node certificates: the cluster CA's signed statement "node <id> holds
// X25519 key <k> in role <r> from <notBefore> until <notAfter>". The Noise
// handshakes check a peer's static key against the certificate it presents.
//
//   certificate = CBOR array(2) [ tbs: bstr, signature: bstr(64) ]
//   tbs         = CBOR array(9) [
//                   context:     tstr "agent/node-cert"   domain separation: nothing else the CA key signs starts so
//                   version:     uint 1
//                   serial:      bstr(16)                  random, unique per issue; the revocation list names it
//                   nodeId:      tstr 1..64 of [0-9a-z]
//                   role:        tstr "manager" | "worker"
//                   publicKey:   bstr(32)                  the node's X25519 static key
//                   notBeforeMs: uint                      Unix ms; valid from here (inclusive) ...
//                   notAfterMs:  uint                      ... until here (exclusive)
//                   caId:        tstr(25)                  keyId of the issuing CA's Ed25519 key
//                 ]
//   signature   = Ed25519(CA private key, tbs bytes exactly as carried) (RFC 8032 §5.1.6)
//
// All CBOR is the strict deterministic subset of strict-cbor.ts. The
// signature covers the carried tbs bytes, so verifying never re-encodes.
import { ed25519 } from '@noble/curves/ed25519.js';
import type { NodeRole } from '../store/types.js';
import { fromHex, toHex } from './hex.js';
import { KEY_ID_LENGTH, keyId } from './key-id.js';
import { decodeCbor, encodeCbor, type Cbor } from './strict-cbor.js';

export const CERT_CONTEXT = 'agent/node-cert';
export const CERT_VERSION = 1;
export const CERT_SIZES = {
  serial: 16,
  publicKey: 32,
  signature: 64,
  maxNodeId: 64,
  /** Far above a real certificate (~200 bytes); refuses junk before decoding it. */
  maxCertificate: 1024,
} as const;
const TBS_FIELDS = 9;
const NODE_ID = /^[0-9a-z]{1,64}$/;
const SERIAL_HEX = /^[0-9a-f]{32}$/;

export interface CertificateBody {
  /** 32 lowercase hex characters of the 16-byte serial. */
  serial: string;
  nodeId: string;
  role: NodeRole;
  /** X25519 static key of the node. */
  publicKey: Uint8Array;
  notBeforeMs: number;
  notAfterMs: number;
  caId: string;
}

export interface Certificate extends CertificateBody {
  version: typeof CERT_VERSION;
  /** The signed bytes, as carried. */
  tbs: Uint8Array;
  signature: Uint8Array;
  /** The whole encoded certificate. */
  bytes: Uint8Array;
}

function fail(what: string): never {
  throw new Error(`malformed certificate: ${what}`);
}

function checkBody(b: CertificateBody): void {
  if (!SERIAL_HEX.test(b.serial)) fail(`serial must be 32 lowercase hex characters, got ${JSON.stringify(b.serial)}`);
  if (!NODE_ID.test(b.nodeId)) fail(`node id must be 1-64 characters of [0-9a-z], got ${JSON.stringify(b.nodeId.slice(0, 80))}`);
  if (b.role !== 'manager' && b.role !== 'worker') fail(`role must be "manager" or "worker", got ${JSON.stringify(String(b.role).slice(0, 80))}`);
  if (b.publicKey.length !== CERT_SIZES.publicKey) fail(`public key must be ${CERT_SIZES.publicKey} bytes, got ${b.publicKey.length}`);
  for (const [k, v] of [['notBeforeMs', b.notBeforeMs], ['notAfterMs', b.notAfterMs]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) fail(`${k} must be a non-negative integer, got ${v}`);
  }
  if (b.notAfterMs <= b.notBeforeMs) fail(`notAfterMs (${b.notAfterMs}) must be after notBeforeMs (${b.notBeforeMs})`);
  if (b.caId.length !== KEY_ID_LENGTH || !/^[0-9a-z]+$/.test(b.caId)) fail(`CA id must be ${KEY_ID_LENGTH} characters of [0-9a-z], got ${JSON.stringify(b.caId.slice(0, 80))}`);
}

/** The bytes a CA signs; throws `malformed certificate: ...` on a body that could not be decoded back. */
export function encodeTbs(b: CertificateBody): Uint8Array {
  checkBody(b);
  return encodeCbor([CERT_CONTEXT, CERT_VERSION, fromHex(b.serial), b.nodeId, b.role, b.publicKey, b.notBeforeMs, b.notAfterMs, b.caId]);
}

export function encodeCertificate(tbs: Uint8Array, signature: Uint8Array): Uint8Array {
  if (signature.length !== CERT_SIZES.signature) fail(`signature must be ${CERT_SIZES.signature} bytes, got ${signature.length}`);
  return encodeCbor([tbs, signature]);
}

function cbor(bytes: Uint8Array, what: string): Cbor {
  try {
    return decodeCbor(bytes);
  } catch (e) {
    fail(`${what}: ${(e as Error).message}`);
  }
}

function bytesField(v: Cbor | undefined, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${what} must be a byte string`);
  return v;
}

function textField(v: Cbor | undefined, what: string): string {
  if (typeof v !== 'string') fail(`${what} must be a text string`);
  return v;
}

function uintField(v: Cbor | undefined, what: string): number {
  if (typeof v !== 'number') fail(`${what} must be an unsigned integer`);
  return v;
}

/** Decode and validate every field; throws `malformed certificate: ...`. Does not check the signature. */
export function decodeCertificate(bytes: Uint8Array): Certificate {
  if (bytes.length > CERT_SIZES.maxCertificate) fail(`${bytes.length} bytes, more than the ${CERT_SIZES.maxCertificate} allowed`);
  const outer = cbor(bytes, 'outer');
  if (!Array.isArray(outer) || outer.length !== 2) fail('expected an array of 2 (tbs, signature)');
  const tbs = bytesField(outer[0], 'tbs');
  const signature = bytesField(outer[1], 'signature');
  if (signature.length !== CERT_SIZES.signature) fail(`signature must be ${CERT_SIZES.signature} bytes, got ${signature.length}`);
  const f = cbor(tbs, 'tbs');
  if (!Array.isArray(f) || f.length !== TBS_FIELDS) fail(`tbs must be an array of ${TBS_FIELDS}`);
  if (f[0] !== CERT_CONTEXT) fail(`tbs context must be "${CERT_CONTEXT}"`);
  const version = uintField(f[1], 'version');
  if (version !== CERT_VERSION) fail(`unsupported version ${version} (this agent reads ${CERT_VERSION})`);
  const serial = bytesField(f[2], 'serial');
  if (serial.length !== CERT_SIZES.serial) fail(`serial must be ${CERT_SIZES.serial} bytes, got ${serial.length}`);
  const body: CertificateBody = {
    serial: toHex(serial),
    nodeId: textField(f[3], 'node id'),
    role: textField(f[4], 'role') as NodeRole,
    publicKey: bytesField(f[5], 'public key'),
    notBeforeMs: uintField(f[6], 'notBeforeMs'),
    notAfterMs: uintField(f[7], 'notAfterMs'),
    caId: textField(f[8], 'CA id'),
  };
  checkBody(body);
  return { version: CERT_VERSION, ...body, tbs, signature, bytes: bytes.slice() };
}

export type CertRejection = 'expired' | 'not-yet-valid' | 'bad-signature' | 'revoked' | 'wrong-ca' | 'malformed';

export type CertVerdict = { ok: true; cert: Certificate } | { ok: false; reason: CertRejection; message: string };

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `${ms} ms` : d.toISOString();
}

/**
 * Is this a certificate of the CA with `caPublicKey` (Ed25519), valid at
 * nowMs (wall clock, Unix ms) and not revoked? Never throws: every bad input
 * is a verdict. Checks run in the order of the reasons' severity: a forged
 * certificate says bad-signature even when it is also expired.
 */
export function verifyCertificate(cert: Uint8Array | Certificate, caPublicKey: Uint8Array, nowMs: number, revoked: ReadonlySet<string>): CertVerdict {
  let c: Certificate;
  try {
    // A decoded certificate is decoded again from its bytes: its fields could have been edited since.
    c = decodeCertificate(cert instanceof Uint8Array ? cert : cert.bytes);
  } catch (e) {
    return { ok: false, reason: 'malformed', message: (e as Error).message };
  }
  const who = `certificate ${c.serial} of node ${c.nodeId}`;
  const caId = keyId(caPublicKey);
  if (c.caId !== caId) return { ok: false, reason: 'wrong-ca', message: `${who} was issued by CA ${c.caId}, not by this cluster's CA ${caId}` };
  let good = false;
  try {
    // zip215 off: strict RFC 8032 verification, so one signature has one valid encoding.
    good = ed25519.verify(c.signature, c.tbs, caPublicKey, { zip215: false });
  } catch {
    good = false;
  }
  if (!good) return { ok: false, reason: 'bad-signature', message: `${who} has a signature that does not verify with CA ${caId}` };
  if (revoked.has(c.serial)) return { ok: false, reason: 'revoked', message: `${who} is revoked` };
  if (nowMs < c.notBeforeMs) return { ok: false, reason: 'not-yet-valid', message: `${who} is not valid before ${iso(c.notBeforeMs)} (now ${iso(nowMs)}; check the clocks)` };
  if (nowMs >= c.notAfterMs) return { ok: false, reason: 'expired', message: `${who} expired at ${iso(c.notAfterMs)} (now ${iso(nowMs)})` };
  return { ok: true, cert: c };
}
