// The SWIM membership core (issue 5): see swim-node.ts for the host contract
// and docs/gossip-membership.md for what it guarantees.
export { SwimNode, type SwimNodeOptions } from './swim-node.js';
export type { MemberInfo, MemberEvent, MemberEventType, OutPacket, OutPushPull, UserDelivery, SwimOutput, SwimStats } from './outputs.js';
export { lanConfig, testConfig, validateSwimConfig, pushPullIntervalFor, type SwimConfig } from './config.js';
export type * from './messages.js';
export { encodePacket, decodePacket, encodedSize, SwimWireError, MessageType } from './packet-wire.js';
export { encodePushPull, decodePushPull, pushPullSize, type DecodedPushPull } from './push-pull-wire.js';
export { retransmitLimit } from './broadcast-queue.js';
export { suspicionMinMs, suspicionTimeoutMs } from './suspicion.js';
