// Messages on an established 2377 channel (after the handshake of
// cluster/channel/protocol.ts). Each channel message is one canonical CBOR
// array:
//
//   request   [1, id, method, args]      id: u32 chosen by the caller, unique per channel
//   response  [2, id, true, value]       the method's answer
//             [2, id, false, error]      error = {code, message, leader?}
//   notify    [3, kind, body]            one way, no answer
//
// Methods and notify kinds are strings named in methods.ts. Type numbers are
// only ever appended (STYLE habit 6). Decoding is exact: anything else is a
// ControlWireError and the channel that carried it is closed by the caller.
import { decodeCbor, encodeCanonical } from '../cluster/store/cbor.js';

export const MSG = { request: 1, response: 2, notify: 3 } as const;

/** Error codes a peer may answer with; callers branch on them. */
export type RemoteCode =
  | 'ENOTLEADER' // not the leader; `leader` names the leader's address when known
  | 'ENOQUORUM' // no leader is known: too few managers are reachable
  | 'ENOTFOUND'
  | 'ECONFLICT' // a stale version, a name in use, a change already in progress
  | 'EINVAL'
  | 'EDENIED' // the peer may not do this (role, removed node)
  | 'EUNKNOWN'; // the outcome is not known (timeout inside the leader)

export interface RemoteErrorBody {
  code: RemoteCode;
  message: string;
  /** For ENOTLEADER: the leader's 2377 address (host:port). */
  leader?: string;
}

export type ControlMessage =
  | { t: 'request'; id: number; method: string; args: unknown }
  | { t: 'response'; id: number; ok: true; value: unknown }
  | { t: 'response'; id: number; ok: false; error: RemoteErrorBody }
  | { t: 'notify'; kind: string; body: unknown };

export class ControlWireError extends Error {
  override name = 'ControlWireError';
}

const CODES: ReadonlySet<string> = new Set<RemoteCode>(['ENOTLEADER', 'ENOQUORUM', 'ENOTFOUND', 'ECONFLICT', 'EINVAL', 'EDENIED', 'EUNKNOWN']);
const MAX_ID = 0xffff_ffff;

export function encodeControl(m: ControlMessage): Uint8Array {
  switch (m.t) {
    case 'request':
      return encodeCanonical([MSG.request, m.id, m.method, m.args ?? null]);
    case 'response':
      return encodeCanonical(m.ok ? [MSG.response, m.id, true, m.value ?? null] : [MSG.response, m.id, false, m.error]);
    case 'notify':
      return encodeCanonical([MSG.notify, m.kind, m.body ?? null]);
  }
}

function fail(what: string): never {
  throw new ControlWireError(`malformed control message: ${what}`);
}

function id(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_ID) fail('id must be a u32');
  return v;
}

function name(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 64) fail(`${what} must be a string of 1-64 characters`);
  return v;
}

export function decodeControl(bytes: Uint8Array): ControlMessage {
  let v: unknown;
  try {
    v = decodeCbor(bytes);
  } catch (e) {
    fail((e as Error).message);
  }
  if (!Array.isArray(v) || v.length === 0) fail('expected a non-empty array');
  switch (v[0]) {
    case MSG.request:
      if (v.length !== 4) fail('a request has 4 elements');
      return { t: 'request', id: id(v[1]), method: name(v[2], 'method'), args: v[3] };
    case MSG.response: {
      if (v.length !== 4) fail('a response has 4 elements');
      if (v[2] === true) return { t: 'response', id: id(v[1]), ok: true, value: v[3] };
      if (v[2] !== false) fail('response flag must be a boolean');
      const e = v[3] as Record<string, unknown> | null;
      if (typeof e !== 'object' || e === null) fail('an error must be a map');
      if (typeof e.code !== 'string' || !CODES.has(e.code)) fail(`unknown error code ${JSON.stringify(e.code)}`);
      if (typeof e.message !== 'string') fail('an error message must be a string');
      if (e.leader !== undefined && typeof e.leader !== 'string') fail('leader must be a string');
      const error: RemoteErrorBody = { code: e.code as RemoteCode, message: e.message };
      if (typeof e.leader === 'string') error.leader = e.leader;
      return { t: 'response', id: id(v[1]), ok: false, error };
    }
    case MSG.notify:
      if (v.length !== 3) fail('a notify has 3 elements');
      return { t: 'notify', kind: name(v[1], 'kind'), body: v[2] };
    default:
      return fail(`unknown type ${JSON.stringify(v[0])}`);
  }
}
