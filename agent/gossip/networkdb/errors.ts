// The one error class of NetworkDB's local API (STYLE habit 9): conditions a
// caller branches on, each with a stable code. Bad arguments are RangeErrors
// with exact messages; nothing from the network ever throws (receive drops
// and counts).

export type NetworkDbErrorCode =
  /** The entry's network has no local endpoint: this node is not in its group. */
  | 'ENOTMEMBER'
  /** createEntry on a key that has a live entry. */
  | 'EEXIST'
  /** updateEntry or deleteEntry on a key with no live entry. */
  | 'ENOENT'
  /** updateEntry or deleteEntry on another node's entry: only the owner changes it. */
  | 'ENOTOWNER';

export class NetworkDbError extends Error {
  override name = 'NetworkDbError';
  constructor(
    readonly code: NetworkDbErrorCode,
    message: string,
  ) {
    super(message);
  }
}
