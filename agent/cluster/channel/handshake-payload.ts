// Payloads of the 2377 handshake (issue 4; flow in secure-channel.ts). All
// three are strict deterministic CBOR (../ca/strict-cbor.ts), each starting
// with a context string so no payload can be mistaken for another, and a
// version. Decoding is length-exact and throws ChannelError ECHAN_PROTOCOL.
//
//   responder hello (Noise message 2 payload, encrypted under ee+es):
//     array(4) [ "agent/2377/responder", 1, certificate: bstr, caRoot: bstr ]
//
//   initiator hello (Noise message 3 payload, encrypted under ee+es+se):
//     member: array(4) [ "agent/2377/initiator", 1, 1, certificate: bstr ]
//     joiner: array(4) [ "agent/2377/initiator", 1, 2, joinToken: tstr ]
//
//   verdict (first transport message, responder -> initiator):
//     accept: array(4) [ "agent/2377/verdict", 1, "accept", role: tstr ]   role granted to the initiator
//     refuse: array(5) [ "agent/2377/verdict", 1, "refuse", reason: tstr, message: tstr ]
import type { NodeRole } from '../store/types.js';
import { CERT_SIZES } from '../ca/certificate.js';
import { decodeCbor, encodeCbor, type Cbor } from '../ca/strict-cbor.js';
import { ChannelError, type RefuseReason } from './errors.js';

export const PAYLOAD_VERSION = 1;
export const RESPONDER_CONTEXT = 'agent/2377/responder';
export const INITIATOR_CONTEXT = 'agent/2377/initiator';
export const VERDICT_CONTEXT = 'agent/2377/verdict';
export const INITIATOR_KIND = { member: 1, join: 2 } as const;
/** A join token is 88 characters (join-token.ts); anything far longer is junk. */
export const MAX_TOKEN_CHARS = 256;
/** A CA root is ~50 bytes (ca-root.ts). */
export const MAX_ROOT_BYTES = 256;
/** Refusal messages are one line for an operator. */
export const MAX_VERDICT_MESSAGE_CHARS = 512;
const REASONS: readonly RefuseReason[] = ['bad-token', 'rate-limited', 'untrusted-cert', 'no-tokens'];

export interface ResponderHello {
  cert: Uint8Array;
  root: Uint8Array;
}

export type InitiatorHello = { kind: 'member'; cert: Uint8Array } | { kind: 'join'; token: string };

export type Verdict = { accept: true; role: NodeRole } | { accept: false; reason: RefuseReason; message: string };

function fail(what: string, detail: string): never {
  throw new ChannelError('ECHAN_PROTOCOL', `malformed ${what}: ${detail}`);
}

function open(what: string, bytes: Uint8Array, context: string, lengths: readonly number[]): readonly Cbor[] {
  let v: Cbor;
  try {
    v = decodeCbor(bytes);
  } catch (e) {
    fail(what, (e as Error).message);
  }
  if (!Array.isArray(v) || !lengths.includes(v.length)) fail(what, `expected an array of ${lengths.join(' or ')}`);
  const a = v as readonly Cbor[];
  if (a[0] !== context) fail(what, `context must be "${context}"`);
  if (a[1] !== PAYLOAD_VERSION) fail(what, `unsupported version ${String(a[1])} (this agent speaks ${PAYLOAD_VERSION})`);
  return a;
}

function bytesField(what: string, name: string, v: Cbor | undefined, max: number): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(what, `${name} must be a byte string`);
  if (v.length === 0 || v.length > max) fail(what, `${name} must be 1..${max} bytes, got ${v.length}`);
  return v;
}

function textField(what: string, name: string, v: Cbor | undefined, max: number): string {
  if (typeof v !== 'string') fail(what, `${name} must be a text string`);
  if (v.length > max) fail(what, `${name} must be at most ${max} characters, got ${v.length}`);
  return v;
}

export function encodeResponderHello(h: ResponderHello): Uint8Array {
  return encodeCbor([RESPONDER_CONTEXT, PAYLOAD_VERSION, h.cert, h.root]);
}

export function decodeResponderHello(bytes: Uint8Array): ResponderHello {
  const w = 'responder hello';
  const a = open(w, bytes, RESPONDER_CONTEXT, [4]);
  return { cert: bytesField(w, 'certificate', a[2], CERT_SIZES.maxCertificate), root: bytesField(w, 'CA root', a[3], MAX_ROOT_BYTES) };
}

export function encodeInitiatorHello(h: InitiatorHello): Uint8Array {
  return h.kind === 'member'
    ? encodeCbor([INITIATOR_CONTEXT, PAYLOAD_VERSION, INITIATOR_KIND.member, h.cert])
    : encodeCbor([INITIATOR_CONTEXT, PAYLOAD_VERSION, INITIATOR_KIND.join, h.token]);
}

export function decodeInitiatorHello(bytes: Uint8Array): InitiatorHello {
  const w = 'initiator hello';
  const a = open(w, bytes, INITIATOR_CONTEXT, [4]);
  if (a[2] === INITIATOR_KIND.member) return { kind: 'member', cert: bytesField(w, 'certificate', a[3], CERT_SIZES.maxCertificate) };
  if (a[2] === INITIATOR_KIND.join) return { kind: 'join', token: textField(w, 'join token', a[3], MAX_TOKEN_CHARS) };
  fail(w, `kind must be ${INITIATOR_KIND.member} (member) or ${INITIATOR_KIND.join} (join), got ${String(a[2])}`);
}

export function encodeVerdict(v: Verdict): Uint8Array {
  return v.accept
    ? encodeCbor([VERDICT_CONTEXT, PAYLOAD_VERSION, 'accept', v.role])
    : encodeCbor([VERDICT_CONTEXT, PAYLOAD_VERSION, 'refuse', v.reason, v.message.slice(0, MAX_VERDICT_MESSAGE_CHARS)]);
}

export function decodeVerdict(bytes: Uint8Array): Verdict {
  const w = 'verdict';
  const a = open(w, bytes, VERDICT_CONTEXT, [4, 5]);
  if (a[2] === 'accept' && a.length === 4) {
    const role = a[3];
    if (role !== 'manager' && role !== 'worker') fail(w, `role must be "manager" or "worker", got ${JSON.stringify(String(role).slice(0, 40))}`);
    return { accept: true, role };
  }
  if (a[2] === 'refuse' && a.length === 5) {
    const reason = a[3];
    if (typeof reason !== 'string' || !(REASONS as readonly string[]).includes(reason)) fail(w, `unknown refuse reason ${JSON.stringify(String(reason).slice(0, 40))}`);
    return { accept: false, reason: reason as RefuseReason, message: textField(w, 'message', a[4], MAX_VERDICT_MESSAGE_CHARS) };
  }
  fail(w, 'expected ["accept", role] or ["refuse", reason, message] after the version');
}
