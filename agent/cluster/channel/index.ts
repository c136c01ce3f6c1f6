// The secure channel of TCP 2377 (issue 4). Protocol overview: protocol.ts.
export { secureConnect, type ConnectOptions, type TrustConfig } from './secure-connect.js';
export { secureListen, type ListenOptions, type SecureListener } from './secure-listen.js';
export type { SecureConn, SecurePeer } from './secure-conn.js';
export { ChannelError, type ChannelErrorCode, type RefuseReason } from './errors.js';
export { newChannelStats, type ChannelStats } from './stats.js';
export { DEFAULT_HANDSHAKE_TIMEOUT_MS, PROLOGUE, PROTOCOL_PATTERN } from './protocol.js';
export { DEFAULT_MAX_MESSAGE_BYTES, MAX_CHUNK_DATA_BYTES } from './transport-session.js';
