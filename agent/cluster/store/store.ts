// The replicated state machine of the managers (DESIGN §2): Raft hands it
// committed entries in log order and it applies each as one command. Apply is
// a deterministic function of (state, index, bytes): no clock, no randomness,
// no iteration over anything whose order is not fixed by the log. So every
// replica that applied the same entries holds equal state and produces
// byte-identical snapshots.
//
// A command either applies whole or changes no object (a batch is all or
// nothing); its error is the result of apply, returned to the proposer, and
// the entry still counts as applied. Objects handed out are frozen: the store
// owns them, a caller that wants to change one proposes an update.

import { decodeCommand, type Change, type Command } from './command.js';
import { ConflictError, InvalidCommandError, NotFoundError, StaleVersionError, StoreError } from './errors.js';
import { decodeSnapshot, encodeSnapshot, type SnapshotObjects } from './snapshot.js';
import { displayName, KINDS, NAMED_KINDS, type Kind, type Meta, type NamedKind, type Objects, type Task, type TaskState } from './types.js';
import { WatchHub, type StoreEvent, type WatchFilter, type Watcher } from './watch.js';

export type ApplyResult = { ok: true; changes: StoreEvent[] } | { ok: false; error: StoreError };

export interface TaskFilter {
  nodeId?: string;
  serviceId?: string;
  desiredState?: TaskState;
  state?: TaskState;
}

type AnyObject = Objects[Kind];
type Tables = { [K in Kind]: Map<string, Objects[K]> };

/** Freeze an object graph; byte strings stay as they are (a non-empty typed array cannot be frozen). */
function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function addTo(index: Map<string, Set<string>>, key: string | undefined, id: string): void {
  if (key === undefined) return;
  let s = index.get(key);
  if (!s) index.set(key, (s = new Set()));
  s.add(id);
}

function removeFrom(index: Map<string, Set<string>>, key: string | undefined, id: string): void {
  if (key === undefined) return;
  const s = index.get(key);
  if (!s) return;
  s.delete(id);
  if (s.size === 0) index.delete(key);
}

export class Store {
  private readonly tables: Tables = {
    node: new Map(),
    network: new Map(),
    service: new Map(),
    task: new Map(),
    ipam: new Map(),
    key: new Map(),
    token: new Map(),
    cluster: new Map(),
  };
  /** Unique name -> id, per named kind. */
  private readonly names = new Map<Kind, Map<string, string>>(KINDS.filter((k) => NAMED_KINDS.has(k)).map((k) => [k, new Map()]));
  private readonly tasksByNode = new Map<string, Set<string>>();
  private readonly tasksByService = new Map<string, Set<string>>();
  private readonly hub = new WatchHub();
  private applied = 0;

  /** Index of the last entry applied (or skipped); 0 for a new store. */
  get appliedIndex(): number {
    return this.applied;
  }

  /**
   * Apply the committed entry at `index`. Never throws for a bad or failing
   * command: that is the result. Throws RangeError only when the host breaks
   * the contract, handing an index not above the last applied one (gaps are
   * fine: Raft's no-op and configuration entries never reach the store).
   */
  apply(index: number, command: Uint8Array): ApplyResult {
    this.advance(index, 'apply');
    let cmd: Command;
    try {
      cmd = decodeCommand(command);
    } catch (e) {
      return { ok: false, error: e instanceof StoreError ? e : new InvalidCommandError(`invalid command: ${String(e)}`) };
    }
    const changes = cmd.op === 'batch' ? cmd.changes : [cmd];
    const undo: { kind: Kind; id: string; prev: AnyObject | undefined }[] = [];
    const events: StoreEvent[] = [];
    try {
      for (const c of changes) {
        const id = c.op === 'delete' ? c.id : c.object.id;
        const prev = this.tables[c.kind].get(id);
        events.push(this.change(index, c, prev));
        undo.push({ kind: c.kind, id, prev });
      }
    } catch (e) {
      for (const u of undo.reverse()) this.write(u.kind, u.id, u.prev);
      if (e instanceof StoreError) return { ok: false, error: e };
      throw e;
    }
    this.hub.publish(events, index);
    return { ok: true, changes: events };
  }

  /** Record that `index` was applied without touching the store (an entry that is not a store command). */
  skip(index: number): void {
    this.advance(index, 'skip');
  }

  private advance(index: number, what: string): void {
    if (!Number.isSafeInteger(index) || index <= this.applied) {
      throw new RangeError(`${what}: index must be an integer above the last applied index ${this.applied}, got ${index}`);
    }
    this.applied = index;
  }

  /** Perform one change or throw the StoreError that refuses it. */
  private change(index: number, c: Change, prev: AnyObject | undefined): StoreEvent {
    const kind = c.kind;
    if (c.op === 'delete') {
      if (!prev) throw new NotFoundError('delete', kind, c.id);
      if (c.version !== undefined && c.version !== prev.meta.version) {
        throw new StaleVersionError('delete', kind, c.id, displayName(kind, prev), c.version, prev.meta.version);
      }
      this.write(kind, c.id, undefined);
      return { kind, action: 'delete', object: prev, index } as StoreEvent;
    }
    const draft = c.object;
    const name = displayName(kind, draft);
    let meta: Meta;
    if (c.op === 'create') {
      if (prev) throw new ConflictError('create', kind, draft.id, name, 'id', draft.id);
      meta = { version: index, createdAtIndex: index, updatedAtIndex: index };
    } else {
      if (!prev) throw new NotFoundError('update', kind, draft.id);
      if (c.version !== prev.meta.version) {
        throw new StaleVersionError('update', kind, draft.id, displayName(kind, prev), c.version, prev.meta.version);
      }
      meta = { version: index, createdAtIndex: prev.meta.createdAtIndex, updatedAtIndex: index };
    }
    const names = this.names.get(kind);
    if (names && name !== undefined) {
      const holder = names.get(name);
      if (holder !== undefined && holder !== draft.id) throw new ConflictError(c.op, kind, draft.id, name, 'name', holder);
    }
    const next = deepFreeze({ ...draft, meta }) as AnyObject;
    this.write(kind, draft.id, next);
    return { kind, action: c.op, object: next, index } as StoreEvent;
  }

  /** Set or delete one object, keeping the name and task indexes in step. */
  private write(kind: Kind, id: string, next: AnyObject | undefined): void {
    const table = this.tables[kind] as Map<string, AnyObject>;
    const prev = table.get(id);
    const names = this.names.get(kind);
    if (prev) {
      if (names) names.delete((prev as { name: string }).name);
      if (kind === 'task') {
        removeFrom(this.tasksByNode, (prev as Task).nodeId, id);
        removeFrom(this.tasksByService, (prev as Task).serviceId, id);
      }
    }
    if (next === undefined) {
      table.delete(id);
      return;
    }
    table.set(id, next);
    if (names) names.set((next as { name: string }).name, id);
    if (kind === 'task') {
      addTo(this.tasksByNode, (next as Task).nodeId, id);
      addTo(this.tasksByService, (next as Task).serviceId, id);
    }
  }

  // Reads. Lists are sorted by id so every caller sees the same order.

  get<K extends Kind>(kind: K, id: string): Objects[K] | undefined {
    return this.tables[kind].get(id);
  }

  /** The network, service or cluster settings object with this (unique) name. */
  findByName<K extends NamedKind>(kind: K, name: string): Objects[K] | undefined {
    const id = this.names.get(kind)?.get(name);
    return id === undefined ? undefined : this.tables[kind].get(id);
  }

  list<K extends Kind>(kind: K, where?: (o: Objects[K]) => boolean): Objects[K][] {
    const all = [...this.tables[kind].values()];
    return (where ? all.filter(where) : all).sort(byId);
  }

  count(kind: Kind): number {
    return this.tables[kind].size;
  }

  /** Tasks matching every given field; by node and by service are indexed. */
  tasks(filter: TaskFilter = {}): Task[] {
    let ids: Iterable<string> | undefined;
    if (filter.nodeId !== undefined) ids = this.tasksByNode.get(filter.nodeId) ?? [];
    if (filter.serviceId !== undefined) {
      const s = this.tasksByService.get(filter.serviceId) ?? new Set<string>();
      ids = ids === undefined ? s : [...ids].filter((id) => s.has(id));
    }
    const candidates = ids === undefined ? [...this.tables.task.values()] : [...ids].map((id) => this.tables.task.get(id)!);
    return candidates
      .filter(
        (t) =>
          (filter.desiredState === undefined || t.desiredState === filter.desiredState) &&
          (filter.state === undefined || t.status.state === filter.state),
      )
      .sort(byId);
  }

  /** Changes applied from now on (see watch.ts for ordering, bounds and overflow). */
  watch(filter?: WatchFilter): Watcher {
    return this.hub.watch(filter);
  }

  /** Close every watcher with err: the caller replaced this store (a snapshot from the leader), watchers must re-sync. */
  failWatchers(err: Error): void {
    this.hub.failAll(err);
  }

  /** The whole store and the last applied index; equal states give equal bytes. */
  snapshot(): Uint8Array {
    const objects = {} as Record<Kind, AnyObject[]>;
    for (const kind of KINDS) objects[kind] = this.list(kind);
    return encodeSnapshot({ index: this.applied, objects: objects as SnapshotObjects });
  }

  /** A store in the state a snapshot recorded; throws an Error naming what is wrong with a bad one. */
  static restore(bytes: Uint8Array): Store {
    const content = decodeSnapshot(bytes);
    const s = new Store();
    for (const kind of KINDS) {
      for (const o of content.objects[kind] as AnyObject[]) {
        if (s.tables[kind].has(o.id)) throw new Error(`invalid snapshot: ${kind} id ${o.id} appears twice`);
        const names = s.names.get(kind);
        const name = (o as { name?: string }).name;
        if (names && name !== undefined && names.has(name)) throw new Error(`invalid snapshot: ${kind} name ${JSON.stringify(name)} appears twice`);
        s.write(kind, o.id, deepFreeze(o));
      }
    }
    s.applied = content.index;
    return s;
  }
}
