// A single-server membership change (thesis §4.1) and its bytes in a 'conf'
// log entry. The core must read these entries itself, because a server uses
// a new configuration as soon as the entry is in its log (thesis §4.1).
//
//   0        1        2        3        4 ...            4+idLen ...
//  +--------+--------+-----------------+----------------+-------------+
//  | ver=1  | type   | idLen (u16, BE) | id (UTF-8)     | context     |
//  +--------+--------+-----------------+----------------+-------------+
//  type: 1 add, 2 remove. context: opaque to Raft (e.g. the new manager's
//  address), to the end of the entry. Type numbers are only ever appended.

import type { ConfState, NodeId } from './types.js';

export interface ConfChange {
  type: 'add' | 'remove';
  id: NodeId;
  /** Opaque to Raft; handed back to the host with the committed entry. */
  context?: Uint8Array;
}

export const CONF_CHANGE_VERSION = 1 as const;
export const CONF_CHANGE_HEADER_BYTES = 4 as const;
const TYPE_CODE = { add: 1, remove: 2 } as const;
const MAX_ID_BYTES = 0xffff;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const id = utf8.encode(cc.id);
  if (id.length === 0 || id.length > MAX_ID_BYTES) {
    throw new RangeError(`encodeConfChange: id must be 1..${MAX_ID_BYTES} UTF-8 bytes, got ${id.length}`);
  }
  const ctx = cc.context ?? new Uint8Array(0);
  const out = new Uint8Array(CONF_CHANGE_HEADER_BYTES + id.length + ctx.length);
  out[0] = CONF_CHANGE_VERSION;
  out[1] = TYPE_CODE[cc.type];
  out[2] = id.length >>> 8;
  out[3] = id.length & 0xff;
  out.set(id, CONF_CHANGE_HEADER_BYTES);
  out.set(ctx, CONF_CHANGE_HEADER_BYTES + id.length);
  return out;
}

export function decodeConfChange(b: Uint8Array): ConfChange {
  if (b.length < CONF_CHANGE_HEADER_BYTES) throw new RangeError(`decodeConfChange: expected at least ${CONF_CHANGE_HEADER_BYTES} bytes, got ${b.length}`);
  if (b[0] !== CONF_CHANGE_VERSION) throw new RangeError(`decodeConfChange: expected version ${CONF_CHANGE_VERSION}, got ${b[0]}`);
  const code = b[1];
  const type = code === TYPE_CODE.add ? 'add' : code === TYPE_CODE.remove ? 'remove' : undefined;
  if (type === undefined) throw new RangeError(`decodeConfChange: expected type 1 (add) or 2 (remove), got ${code}`);
  const idLen = (b[2]! << 8) | b[3]!;
  if (idLen === 0 || CONF_CHANGE_HEADER_BYTES + idLen > b.length) {
    throw new RangeError(`decodeConfChange: id length ${idLen} does not fit in ${b.length} bytes`);
  }
  const id = utf8Strict.decode(b.subarray(CONF_CHANGE_HEADER_BYTES, CONF_CHANGE_HEADER_BYTES + idLen));
  const context = b.slice(CONF_CHANGE_HEADER_BYTES + idLen);
  return context.length > 0 ? { type, id, context } : { type, id };
}

/** The configuration after applying cc; voters stay sorted so configurations compare by value. */
export function applyConfChange(conf: ConfState, cc: ConfChange): ConfState {
  const voters = new Set(conf.voters);
  if (cc.type === 'add') voters.add(cc.id);
  else voters.delete(cc.id);
  return { voters: [...voters].sort() };
}
