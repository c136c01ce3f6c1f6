// What a SwimNode hands its host: the batch drain() returns, the member
// snapshots in it, and the counters of stats(). See swim-node.ts for the
// host contract.
import type { MemberState, NodeId, PushPullState, SwimMessage } from './messages.js';

/** A member as the layer above sees it. */
export interface MemberInfo {
  readonly id: NodeId;
  readonly addr: string;
  readonly incarnation: number;
  readonly state: MemberState;
}

/**
 * join: first heard of, or back from dead/left. update: an alive member's
 * incarnation rose (it refuted something, or restarted). suspect, alive
 * (suspicion refuted), dead (failure detected), leave (said goodbye).
 */
export type MemberEventType = 'join' | 'update' | 'suspect' | 'alive' | 'dead' | 'leave';

export interface MemberEvent {
  type: MemberEventType;
  member: MemberInfo;
}

export interface OutPacket {
  to: string;
  msg: SwimMessage;
}

export interface OutPushPull {
  to: string;
  state: PushPullState;
}

export interface UserDelivery {
  from: string;
  payload: Uint8Array;
}

export interface SwimOutput {
  packets: OutPacket[];
  pushPulls: OutPushPull[];
  events: MemberEvent[];
  userMessages: UserDelivery[];
}

/** Counters; the data path drops and counts (STYLE habit 8). */
export interface SwimStats {
  packetsIn: number;
  packetsOut: number;
  /** Datagrams that did not decode, or compounds nested in compounds. */
  malformed: number;
  /** Pings for another node id, ping-reqs to probe ourselves. */
  misdirected: number;
  /** Alive messages claiming a live member's id from another address. */
  conflicts: number;
  probes: number;
  /** Probes that ended with this node suspecting the target. */
  probeFailures: number;
  /** Probes that needed ping-req helpers. */
  indirectProbes: number;
  nacksIn: number;
  refutes: number;
  /** Alive statements sent straight back to a member that gossiped an older one. */
  corrections: number;
  /** Suspects probed once more before being declared dead. */
  verifications: number;
  pushPullsOut: number;
  pushPullsIn: number;
}
