// The replicated store's public surface: commands to propose, the state
// machine to apply them to, its watch streams, its errors and object types.

export { Store, type ApplyResult, type TaskFilter } from './store.js';
export { TAGS, create, update, remove, batch, encodeCommand, decodeCommand, tagOf, type Change, type Batch, type Command, type ChangeOp } from './command.js';
export { DEFAULT_MAX_QUEUED, type Action, type StoreEvent, type WatchFilter, type Watcher } from './watch.js';
export { StoreError, StaleVersionError, NotFoundError, ConflictError, InvalidCommandError, WatchOverflowError, type StoreErrorCode } from './errors.js';
export * from './types.js';
