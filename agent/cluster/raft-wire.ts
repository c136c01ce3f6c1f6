// Raft messages on the wire between managers: CBOR arrays, one type tag each.
// The core trusts its inputs, so decoding validates every field: a message of
// the wrong shape is refused here (the caller drops and counts it).
//
//   message  = [tag, from, to, term, ...fields of the tag]
//   entry    = [term, index, kind (0 normal, 1 conf), data]
//   snapshot = [index, term, [voter...], data]
//
// Tags are only ever appended, never renumbered or reused.
import { Encoder } from 'cbor-x';
import type { Entry, RaftMessage, Snapshot } from './raft/index.js';

export const RaftTag = {
  vote: 1,
  voteResp: 2,
  preVote: 3,
  preVoteResp: 4,
  append: 5,
  appendResp: 6,
  heartbeat: 7,
  heartbeatResp: 8,
  snapshot: 9,
  timeoutNow: 10,
} as const;

const TYPE_OF = new Map<number, RaftMessage['type']>(Object.entries(RaftTag).map(([k, v]) => [v, k as RaftMessage['type']]));

// Plain CBOR: no cbor-x record extensions, so any CBOR decoder can read it.
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

export class RaftWireError extends Error {
  readonly code = 'ERAFTWIRE';
  override name = 'RaftWireError';
}

const entryOut = (e: Entry) => [e.term, e.index, e.type === 'conf' ? 1 : 0, e.data];
const snapOut = (s: Snapshot) => [s.index, s.term, s.conf.voters, s.data];

export function encodeRaftMessage(m: RaftMessage): Uint8Array {
  const head = [RaftTag[m.type], m.from, m.to, m.term];
  let rest: unknown[];
  switch (m.type) {
    case 'vote':
    case 'preVote':
      rest = [m.lastIndex, m.lastTerm, m.transfer];
      break;
    case 'voteResp':
    case 'preVoteResp':
      rest = [m.reject];
      break;
    case 'append':
      rest = [m.prevIndex, m.prevTerm, m.entries.map(entryOut), m.commit];
      break;
    case 'appendResp':
      rest = [m.index, m.reject, m.hintIndex, m.hintTerm];
      break;
    case 'heartbeat':
      rest = [m.commit, m.ctx ?? null];
      break;
    case 'heartbeatResp':
      rest = [m.ctx ?? null];
      break;
    case 'snapshot':
      rest = [snapOut(m.snapshot)];
      break;
    case 'timeoutNow':
      rest = [];
      break;
  }
  return cbor.encode([...head, ...rest]);
}

function fail(what: string): never {
  throw new RaftWireError(`raft message: ${what}`);
}

function nat(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${what} must be a non-negative integer`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 128) fail(`${what} must be a string of 1-128 characters`);
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') fail(`${what} must be a boolean`);
  return v;
}

function bytes(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${what} must be bytes`);
  // cbor-x may hand back a Buffer view; the core wants a plain Uint8Array.
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function optStr(v: unknown, what: string): string | undefined {
  return v === null || v === undefined ? undefined : str(v, what);
}

function arr(v: unknown, len: number, what: string): unknown[] {
  if (!Array.isArray(v) || v.length !== len) fail(`${what} must be an array of ${len}`);
  return v;
}

function entryIn(v: unknown): Entry {
  const [term, index, kind, data] = arr(v, 4, 'entry');
  if (kind !== 0 && kind !== 1) fail('entry kind must be 0 or 1');
  return { term: nat(term, 'entry term'), index: nat(index, 'entry index'), type: kind === 1 ? 'conf' : 'normal', data: bytes(data, 'entry data') };
}

function snapIn(v: unknown): Snapshot {
  const [index, term, voters, data] = arr(v, 4, 'snapshot');
  if (!Array.isArray(voters)) fail('snapshot voters must be an array');
  return { index: nat(index, 'snapshot index'), term: nat(term, 'snapshot term'), conf: { voters: voters.map((x) => str(x, 'voter')) }, data: bytes(data, 'snapshot data') };
}

const FIELDS: Record<RaftMessage['type'], number> = {
  vote: 3, preVote: 3, voteResp: 1, preVoteResp: 1, append: 4, appendResp: 4, heartbeat: 2, heartbeatResp: 1, snapshot: 1, timeoutNow: 0,
};

/** Decode and validate; throws RaftWireError on anything but a well-formed message. */
export function decodeRaftMessage(buf: Uint8Array): RaftMessage {
  let v: unknown;
  try {
    v = cbor.decode(buf);
  } catch {
    fail('not CBOR');
  }
  if (!Array.isArray(v) || v.length < 4) fail('must be an array of at least 4');
  const type = TYPE_OF.get(v[0] as number) ?? fail(`unknown type tag ${String(v[0])}`);
  if (v.length !== 4 + FIELDS[type]) fail(`${type} must have ${4 + FIELDS[type]} fields, got ${v.length}`);
  const env = { from: str(v[1], 'from'), to: str(v[2], 'to'), term: nat(v[3], 'term') };
  const f = v.slice(4);
  switch (type) {
    case 'vote':
    case 'preVote':
      return { ...env, type, lastIndex: nat(f[0], 'lastIndex'), lastTerm: nat(f[1], 'lastTerm'), transfer: bool(f[2], 'transfer') };
    case 'voteResp':
    case 'preVoteResp':
      return { ...env, type, reject: bool(f[0], 'reject') };
    case 'append':
      if (!Array.isArray(f[2])) fail('entries must be an array');
      return { ...env, type, prevIndex: nat(f[0], 'prevIndex'), prevTerm: nat(f[1], 'prevTerm'), entries: (f[2] as unknown[]).map(entryIn), commit: nat(f[3], 'commit') };
    case 'appendResp':
      return { ...env, type, index: nat(f[0], 'index'), reject: bool(f[1], 'reject'), hintIndex: nat(f[2], 'hintIndex'), hintTerm: nat(f[3], 'hintTerm') };
    case 'heartbeat':
      return { ...env, type, commit: nat(f[0], 'commit'), ctx: optStr(f[1], 'ctx') };
    case 'heartbeatResp':
      return { ...env, type, ctx: optStr(f[0], 'ctx') };
    case 'snapshot':
      return { ...env, type, snapshot: snapIn(f[0]) };
    case 'timeoutNow':
      return { ...env, type };
  }
}
