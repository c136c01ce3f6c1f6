// The Raft core's public surface: import from here, not from its files.
export { RaftNode, type RaftNodeOptions, type Proposal } from './raft-node.js';
export { defaultRaftConfig, testRaftConfig, validateRaftConfig, type RaftConfig } from './config.js';
export { encodeConfChange, decodeConfChange, applyConfChange, type ConfChange } from './conf-change.js';
export { NotLeaderError, ProposalDroppedError, RaftError, type RaftErrorCode, type DropReason } from './errors.js';
export { RaftLog, emptySnapshot } from './raft-log.js';
export type * from './messages.js';
export type * from './types.js';
