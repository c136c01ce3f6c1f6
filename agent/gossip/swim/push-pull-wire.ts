// The push-pull state exchange on 7946/tcp (before sealing; the host frames
// it with shared/wire/frame.ts). Each side sends one of these: the initiator
// its state, the responder its state after merging. Big-endian.
//
//    0         1         2                                       6
//   +---------+---------+---------------------------------------+
//   | version | flags   | member count (u32)                    |
//   | = 1     | bit 0:  |                                       |
//   |         | join    |                                       |
//   +---------+---------+---------------------------------------+
//   count × member:
//   +---------+---------------------------------------+--------+-----------+
//   | state   | incarnation (u32)                     | id     | addr      |
//   | (u8)    |                                       | str8   | str8      |
//   +---------+---------------------------------------+--------+-----------+
//   +---------------------------------------+--------------------------+
//   | user state length (u32)               | user state bytes     ... |
//   +---------------------------------------+--------------------------+
//
//   state: 1 alive, 2 suspect, 3 dead, 4 left (only appended).
//   str8 = length (u8) | UTF-8 bytes; ids 1..32 bytes, addrs host:port <= 64.
//
// The user state is opaque to SWIM: the layer above (NetworkDB) may put its
// own summary there; an empty one is 4 zero bytes. Decoding is length-exact
// and refuses a member id listed twice.
import { ByteReader, ByteWriter, describeFault } from '../../../shared/wire/byte-cursor.js';
import type { MemberState, PushPullMember, PushPullState } from './messages.js';
import { INCARNATION_BYTES, isHostPort, MAX_ADDR_BYTES, MAX_ID_BYTES, STR8_LENGTH_BYTES, SwimWireError, utf8Length } from './packet-wire.js';

export const PUSH_PULL_VERSION = 1 as const;
export const PUSH_PULL_HEADER_BYTES = 6 as const;
export const PUSH_PULL_FLAG_JOIN = 0x01 as const;
export const USER_STATE_LENGTH_BYTES = 4 as const;
/** A sanity bound far above any fleet this agent targets. */
export const MAX_PUSH_PULL_MEMBERS = 65_536 as const;

export const MemberStateCode: Record<MemberState, number> = { alive: 1, suspect: 2, dead: 3, left: 4 };
const STATE_OF: readonly (MemberState | undefined)[] = [undefined, 'alive', 'suspect', 'dead', 'left'];

const EMPTY = new Uint8Array(0);

function memberSize(m: PushPullMember): number {
  return 1 + INCARNATION_BYTES + STR8_LENGTH_BYTES + utf8Length(m.id) + STR8_LENGTH_BYTES + utf8Length(m.addr);
}

export function pushPullSize(state: PushPullState, userState: Uint8Array = EMPTY): number {
  let n = PUSH_PULL_HEADER_BYTES + USER_STATE_LENGTH_BYTES + userState.length;
  for (const m of state.members) n += memberSize(m);
  return n;
}

export function encodePushPull(state: PushPullState, userState: Uint8Array = EMPTY): Uint8Array {
  if (state.members.length > MAX_PUSH_PULL_MEMBERS) {
    throw new RangeError(`encodePushPull: at most ${MAX_PUSH_PULL_MEMBERS} members, got ${state.members.length}`);
  }
  const w = new ByteWriter(pushPullSize(state, userState));
  w.u8(PUSH_PULL_VERSION);
  w.u8(state.join ? PUSH_PULL_FLAG_JOIN : 0);
  w.u32(state.members.length);
  const str8 = (what: string, s: string, max: number) => {
    const n = utf8Length(s);
    if (n < 1 || n > max) throw new RangeError(`encodePushPull: ${what} must be 1..${max} bytes of UTF-8, got ${n}`);
    w.str8(s);
  };
  for (const m of state.members) {
    const code = MemberStateCode[m.state];
    if (code === undefined) throw new RangeError(`encodePushPull: unknown member state ${JSON.stringify(m.state)}`);
    if (!Number.isInteger(m.incarnation) || m.incarnation < 0 || m.incarnation > 0xffff_ffff) {
      throw new RangeError(`encodePushPull: incarnation must be an integer in 0..2^32-1, got ${m.incarnation}`);
    }
    w.u8(code);
    w.u32(m.incarnation);
    str8('member id', m.id, MAX_ID_BYTES);
    str8('member addr', m.addr, MAX_ADDR_BYTES);
  }
  w.u32(userState.length);
  w.bytes(userState);
  return w.buf;
}

export interface DecodedPushPull {
  state: PushPullState;
  userState: Uint8Array;
}

/** Decode one push-pull body. Throws SwimWireError; the host counts it and closes the stream. */
export function decodePushPull(buf: Uint8Array): DecodedPushPull {
  // Every fault reads "push-pull …": the what strings carry the prefix.
  const r = new ByteReader(buf, { fail: (f) => new SwimWireError(describeFault(f)) });
  r.need(PUSH_PULL_HEADER_BYTES, 'push-pull header');
  const version = r.u8('push-pull version');
  if (version !== PUSH_PULL_VERSION) throw new SwimWireError(`push-pull version ${version} is not ${PUSH_PULL_VERSION}`);
  const flags = r.u8('push-pull flags');
  if ((flags & ~PUSH_PULL_FLAG_JOIN) !== 0) throw new SwimWireError(`push-pull flags has reserved bits set: 0x${flags.toString(16).padStart(2, '0')}`);
  const count = r.u32('push-pull member count');
  if (count > MAX_PUSH_PULL_MEMBERS) throw new SwimWireError(`push-pull lists ${count} members, at most ${MAX_PUSH_PULL_MEMBERS} allowed`);
  const members: PushPullMember[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    r.need(1 + INCARNATION_BYTES, `push-pull member ${i}`);
    const code = r.u8(`push-pull member ${i} state`);
    const state = STATE_OF[code];
    if (state === undefined) throw new SwimWireError(`push-pull member ${i} has unknown state ${code}`);
    const incarnation = r.u32(`push-pull member ${i} incarnation`);
    const id = r.str8('push-pull member id', MAX_ID_BYTES);
    const addr = r.str8('push-pull member addr', MAX_ADDR_BYTES);
    if (!isHostPort(addr)) throw new SwimWireError(`push-pull member addr must be host:port, got ${JSON.stringify(addr)}`);
    if (seen.has(id)) throw new SwimWireError(`push-pull lists member ${JSON.stringify(id)} twice`);
    seen.add(id);
    members.push({ id, addr, incarnation, state });
  }
  const userLen = r.u32('push-pull user state length');
  const userState = r.bytes(userLen, 'push-pull user state');
  r.expectEnd('push-pull');
  return { state: { join: (flags & PUSH_PULL_FLAG_JOIN) !== 0, members }, userState };
}
