// Watch streams over the store: after each applied command, every open
// watcher whose filter matches gets that command's changes, in apply order,
// all tagged with the command's log index.
//
// Apply never waits for a consumer. Each watcher has a bounded queue
// (maxQueued events, default 1024); a watcher that falls further behind is
// closed with a WatchOverflowError and its queued events are dropped, since a
// consumer that missed changes must start over anyway: re-read the store
// (reads and a new watch() taken in the same synchronous turn see exactly the
// same state, because apply runs to completion between turns) or restore a
// snapshot, then watch again. The error is sticky: every later next() rejects
// with it and every later take() throws it. A watcher closed by close() just
// ends (next() resolves done, take() returns []).

import { WatchOverflowError } from './errors.js';
import type { Kind, Objects } from './types.js';

export type Action = 'create' | 'update' | 'delete';

type EventOf<K extends Kind> = {
  kind: K;
  action: Action;
  /** The object after the write; for a delete, the object as it was. Frozen. */
  object: Objects[K];
  /** Log index of the command that made the change. */
  index: number;
};

/** One change to one object. */
export type StoreEvent = { [K in Kind]: EventOf<K> }[Kind];

/** Queue bound of a watcher unless its filter says otherwise. */
export const DEFAULT_MAX_QUEUED = 1024;

export interface WatchFilter {
  /** Only these kinds; all when absent. */
  kinds?: readonly Kind[];
  /** Only events it returns true for. If it throws, the watcher closes with that error. */
  where?: (e: StoreEvent) => boolean;
  /** Queue bound in events (>= 1). */
  maxQueued?: number;
}

export interface Watcher extends AsyncIterableIterator<StoreEvent> {
  /** The next event; resolves done once closed, rejects with the error if closed by one. */
  next(): Promise<IteratorResult<StoreEvent, undefined>>;
  /** Ends iteration and closes the watcher (a `break` out of for-await calls it). */
  return(): Promise<IteratorResult<StoreEvent, undefined>>;
  /** Every queued event, without waiting (for pure cores that poll); throws the error if closed by one. */
  take(): StoreEvent[];
  /** Stop receiving events. Idempotent. */
  close(): void;
  readonly closed: boolean;
  /** Why the watcher was closed, if not by close(). */
  readonly error: Error | undefined;
}

type Waiter = { resolve: (r: IteratorResult<StoreEvent, undefined>) => void; reject: (e: unknown) => void };

const DONE: IteratorResult<StoreEvent, undefined> = { done: true, value: undefined };

class Watch implements Watcher {
  private queue: StoreEvent[] = [];
  private waiter: Waiter | undefined;
  closed = false;
  error: Error | undefined;
  private readonly kinds: ReadonlySet<Kind> | undefined;

  constructor(private readonly hub: Set<Watch>, private readonly filter: WatchFilter, private readonly maxQueued: number) {
    this.kinds = filter.kinds ? new Set(filter.kinds) : undefined;
  }

  /** Queue the events of one applied command that pass the filter. */
  offer(events: readonly StoreEvent[], index: number): void {
    if (this.closed) return;
    for (const e of events) {
      if (this.kinds && !this.kinds.has(e.kind)) continue;
      try {
        if (this.filter.where && !this.filter.where(e)) continue;
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve({ done: false, value: e });
        continue;
      }
      if (this.queue.length >= this.maxQueued) {
        this.fail(new WatchOverflowError(this.maxQueued, index));
        return;
      }
      this.queue.push(e);
    }
  }

  fail(err: Error): void {
    if (this.closed) return;
    this.error = err;
    this.shut();
    this.waiter?.reject(err);
    this.waiter = undefined;
  }

  private shut(): void {
    this.closed = true;
    this.queue = [];
    this.hub.delete(this);
  }

  next(): Promise<IteratorResult<StoreEvent, undefined>> {
    if (this.error) return Promise.reject(this.error);
    const e = this.queue.shift();
    if (e !== undefined) return Promise.resolve({ done: false, value: e });
    if (this.closed) return Promise.resolve(DONE);
    if (this.waiter) return Promise.reject(new Error('watch: next() called again before the previous call resolved'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<StoreEvent, undefined>> {
    this.close();
    return Promise.resolve(DONE);
  }

  take(): StoreEvent[] {
    if (this.error) throw this.error;
    const out = this.queue;
    this.queue = [];
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.shut();
    this.waiter?.resolve(DONE);
    this.waiter = undefined;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** The set of open watchers of one store. */
export class WatchHub {
  private readonly watchers = new Set<Watch>();

  watch(filter: WatchFilter = {}): Watcher {
    const max = filter.maxQueued ?? DEFAULT_MAX_QUEUED;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`watch: maxQueued must be an integer >= 1, got ${max}`);
    const w = new Watch(this.watchers, filter, max);
    this.watchers.add(w);
    return w;
  }

  /** Hand one applied command's events to every watcher, in the order they were opened. */
  publish(events: readonly StoreEvent[], index: number): void {
    if (events.length === 0) return;
    for (const w of [...this.watchers]) w.offer(events, index);
  }

  get size(): number {
    return this.watchers.size;
  }

  /** Close every watcher with `err` (the store was replaced by a snapshot, say). */
  failAll(err: Error): void {
    for (const w of [...this.watchers]) w.fail(err);
  }
}
