// Errors a proposer of a store command branches on (STYLE habit 9), each with
// a stable code. They are returned as the result of apply, never thrown out
// of it: a command that fails is still a committed log entry, and every
// replica must reach the same verdict on it and carry on.

import { KIND_LABEL, type Kind } from './types.js';

export type StoreErrorCode =
  | 'STORE_STALE_VERSION'
  | 'STORE_NOT_FOUND'
  | 'STORE_CONFLICT'
  | 'STORE_INVALID_COMMAND'
  | 'STORE_WATCH_OVERFLOW';

export abstract class StoreError extends Error {
  abstract readonly code: StoreErrorCode;
}

export type Op = 'create' | 'update' | 'delete';

/** `network "front" (id n1)`, or `task (id t1)` for objects without a name. */
export function describe(kind: Kind, id: string, name?: string): string {
  return `${KIND_LABEL[kind]}${name === undefined ? '' : ` ${JSON.stringify(name)}`} (id ${id})`;
}

/** An update (or a versioned delete) read the object at a version that is no longer current. */
export class StaleVersionError extends StoreError {
  readonly code = 'STORE_STALE_VERSION' as const;
  constructor(
    readonly op: Op,
    readonly kind: Kind,
    readonly id: string,
    /** The object's unique name or hostname, when it has one. */
    readonly objectName: string | undefined,
    readonly readVersion: number,
    readonly currentVersion: number,
  ) {
    super(`${op} of ${describe(kind, id, objectName)} failed: read at version ${readVersion}, current version ${currentVersion}`);
    this.name = 'StaleVersionError';
  }
}

/** An update or delete named an object that does not exist. */
export class NotFoundError extends StoreError {
  readonly code = 'STORE_NOT_FOUND' as const;
  constructor(readonly op: Op, readonly kind: Kind, readonly id: string) {
    super(`${op} of ${describe(kind, id)} failed: no such ${KIND_LABEL[kind]}`);
    this.name = 'NotFoundError';
  }
}

/** A create reused an id, or a create or update took a unique name another object holds. */
export class ConflictError extends StoreError {
  readonly code = 'STORE_CONFLICT' as const;
  constructor(
    readonly op: Op,
    readonly kind: Kind,
    readonly id: string,
    /** The object's unique name or hostname, when it has one. */
    readonly objectName: string | undefined,
    readonly field: 'id' | 'name',
    /** The object that already holds the id or name. */
    readonly existingId: string,
  ) {
    super(
      `${op} of ${describe(kind, id, objectName)} failed: ` +
        (field === 'id' ? `id ${id} already exists` : `name ${JSON.stringify(objectName)} is already used by ${KIND_LABEL[kind]} id ${existingId}`),
    );
    this.name = 'ConflictError';
  }
}

/** The entry is not a command this version understands (bad CBOR, unknown tag, a field of the wrong type). */
export class InvalidCommandError extends StoreError {
  readonly code = 'STORE_INVALID_COMMAND' as const;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCommandError';
  }
}

/**
 * A watcher fell more than its queue bound behind apply and was closed. Its
 * consumer missed changes: it must re-read the store (or a snapshot) and
 * watch again.
 */
export class WatchOverflowError extends StoreError {
  readonly code = 'STORE_WATCH_OVERFLOW' as const;
  constructor(readonly maxQueued: number, readonly atIndex: number) {
    super(`watch closed: more than ${maxQueued} events queued at index ${atIndex}; re-read the store and watch again`);
    this.name = 'WatchOverflowError';
  }
}
