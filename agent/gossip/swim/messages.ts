// The SWIM messages as typed objects. The core consumes and produces these;
// packet-wire.ts turns them into bytes and back (and gives the exact size of
// each, which the core uses to fill datagrams), push-pull-wire.ts does the
// same for the TCP state exchange. A simulator may pass the objects as they
// are and skip the bytes. Messages handed to or by the core are never
// mutated afterwards: one object may sit in many queues at once.

/** A node id: 1 to 32 bytes of UTF-8 (MAX_ID_BYTES). */
export type NodeId = string;

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** Direct probe: "are you `target`?" Answered with an ack of the same seq. */
export interface Ping {
  type: 'ping';
  seq: number;
  /** The id the sender believes lives at this address; anyone else drops the ping. */
  target: NodeId;
}

export interface Ack {
  type: 'ack';
  seq: number;
}

/** "Ping `target` at `targetAddr` for me and relay its ack with my seq." */
export interface PingReq {
  type: 'ping-req';
  seq: number;
  target: NodeId;
  targetAddr: string;
  /** Send a nack if the target has not answered within your probe timeout (Lifeguard). */
  nack: boolean;
}

/** The relay of a ping-req heard nothing from the target in time: the requester's own path is fine. */
export interface Nack {
  type: 'nack';
  seq: number;
}

export interface Suspect {
  type: 'suspect';
  incarnation: number;
  node: NodeId;
  /** Who suspects; distinct accusers shorten the suspicion (Lifeguard). */
  from: NodeId;
}

export interface Alive {
  type: 'alive';
  incarnation: number;
  node: NodeId;
  addr: string;
}

/** node === from means the node left on purpose. */
export interface Dead {
  type: 'dead';
  incarnation: number;
  node: NodeId;
  from: NodeId;
}

/** An opaque payload of the layer above (NetworkDB's cluster-wide events). */
export interface User {
  type: 'user';
  payload: Uint8Array;
}

/** Several messages in one datagram; never nested. */
export interface Compound {
  type: 'compound';
  parts: SimpleMessage[];
}

export type SimpleMessage = Ping | Ack | PingReq | Nack | Suspect | Alive | Dead | User;
export type SwimMessage = SimpleMessage | Compound;

/** One member as push-pull carries it. */
export interface PushPullMember {
  id: NodeId;
  addr: string;
  incarnation: number;
  state: MemberState;
}

/** A full state exchange over TCP 7946. */
export interface PushPullState {
  /** The sender is joining (or rejoining): the host may exchange its full user state too. */
  join: boolean;
  members: PushPullMember[];
}
