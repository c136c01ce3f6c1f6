// NetworkDB: per-network tables of data-plane facts over gossip (issue 5).
export { NetworkDb } from './network-db.js';
export type { Broadcast, EntryView, NetworkDbOptions, NetworkDbOutput, NetworkDbStats, NodeState, Send, TableEvent } from './types.js';
export { lanConfig, testConfig, validateNetworkDbConfig, LARGEST_ENTRY_PACKET_BYTES } from './config.js';
export type { NetworkDbConfig } from './config.js';
export { NetworkDbError } from './errors.js';
export type { NetworkDbErrorCode } from './errors.js';
export { decodeMessage, encodeMessage, encodedSize, NetworkDbWireError, MessageType } from './wire.js';
export type { BulkSync, NetworkDbMessage, NetworkEvent, NetworkRecord, NetworkState, OwnerRecord, TableGossip, WireEntry } from './wire.js';
export {
  TABLE_PEERS, TABLE_SERVICES, encodePeerRecord, decodePeerRecord, encodeServiceRecord, decodeServiceRecord, TableRecordError,
} from './table-records.js';
export type { PeerRecord, ServiceRecord } from './table-records.js';
