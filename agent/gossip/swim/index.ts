// The SWIM membership core (issue 5): see swim-node.ts for the host contract
// and docs/gossip-membership.md for what it guarantees.
export { SwimNode, pushPullIntervalFor } from './swim-node.js';
export type { SwimNodeOptions, MemberInfo, MemberEvent, MemberEventType, OutPacket, OutPushPull, UserDelivery, SwimOutput, SwimStats } from './swim-node.js';
export { lanConfig, testConfig, validateSwimConfig, type SwimConfig } from './config.js';
export type * from './messages.js';
export { encodePacket, decodePacket, encodedSize, SwimWireError, MessageType } from './packet-wire.js';
export { encodePushPull, decodePushPull, pushPullSize, type DecodedPushPull } from './push-pull-wire.js';
export { retransmitLimit } from './broadcast-queue.js';
export { suspicionMinMs, suspicionTimeoutMs } from './suspicion.js';
