// The leader's dispatcher (DESIGN §2, swarmkit manager/dispatcher): every
// node holds one session to it, heartbeats every period, and is pushed its
// assignment whenever that changes. A node silent for DOWN_AFTER_PERIODS
// periods is marked down in the store; a node that opens a session is
// marked ready. Only the leader runs one; a manager that loses leadership
// closes every session and the nodes find the new leader. Heartbeats may
// carry the node's data path report (issue 7); the latest of each node is
// kept here, in memory, while its session lives.
import type { Clock, Timer } from '../../shared/clock.js';
import type { DatapathReport } from '../api/types.js';
import { encodeCanonical } from '../cluster/store/cbor.js';
import type { Node } from '../cluster/store/types.js';
import { heartbeatReport } from './datapath-report.js';
import type { Rpc } from './rpc.js';

/** swarmkit marks a node down after about 3 missed heartbeats (REFERENCE: node down after ~15 s at 5 s). */
export const DOWN_AFTER_PERIODS = 3;

/** Nodes the leader should mark down now: up in the store, and silent too long (or never heard since this leader took over). */
export function nodesToMarkDown(
  nodes: readonly Pick<Node, 'id' | 'status'>[],
  lastSeenMs: ReadonlyMap<string, number>,
  leaderSinceMs: number,
  nowMs: number,
  periodMs: number,
): string[] {
  const limit = DOWN_AFTER_PERIODS * periodMs;
  return nodes
    .filter((n) => n.status.state !== 'down')
    .filter((n) => nowMs - (lastSeenMs.get(n.id) ?? leaderSinceMs) >= limit)
    .map((n) => n.id);
}

export interface DispatcherDeps {
  clock: Clock;
  nodes(): readonly Node[];
  periodMs(): number;
  /** What node id should hold now (pushed when its encoding changes). */
  assignment(nodeId: string): unknown;
  /** Record a status (fire and forget: a failure is retried by the next check or session). */
  setStatus(nodeId: string, state: 'ready' | 'down', message: string): void;
}

interface Session {
  rpc: Rpc;
  lastSent: string | undefined;
}

export class Dispatcher {
  readonly #d: DispatcherDeps;
  readonly #sessions = new Map<string, Session>();
  readonly #lastSeen = new Map<string, number>();
  readonly #reports = new Map<string, DatapathReport>();
  readonly #since: number;
  #timer: Timer | undefined;
  #stopped = false;

  constructor(d: DispatcherDeps) {
    this.#d = d;
    this.#since = d.clock.nowMs();
    this.#schedule();
  }

  /**
   * The latest data path report of each node with a live session. Dropped
   * when its session ends, when it is marked down and when it is removed:
   * an old report must not pass for the state of now.
   */
  reports(): ReadonlyMap<string, DatapathReport> {
    return this.#reports;
  }

  /** Node ids with a live session. */
  live(): Set<string> {
    return new Set(this.#sessions.keys());
  }

  open(nodeId: string, rpc: Rpc): unknown {
    if (this.#stopped) throw new Error('the dispatcher stopped');
    const prev = this.#sessions.get(nodeId);
    if (prev && prev.rpc !== rpc) prev.rpc.close();
    const s: Session = { rpc, lastSent: undefined };
    this.#sessions.set(nodeId, s);
    this.#lastSeen.set(nodeId, this.#d.clock.nowMs());
    rpc.onClose(() => {
      if (this.#sessions.get(nodeId) !== s) return;
      this.#sessions.delete(nodeId);
      this.#reports.delete(nodeId);
    });
    const n = this.#d.nodes().find((x) => x.id === nodeId);
    if (n && n.status.state !== 'ready') this.#d.setStatus(nodeId, 'ready', '');
    const a = this.#d.assignment(nodeId);
    s.lastSent = key(a);
    return a;
  }

  /** body: the heartbeat's arguments, `{datapath?}` (null from nodes that report nothing). */
  heartbeat(nodeId: string, rpc: Rpc, body: unknown = null): { periodMs: number } {
    const s = this.#sessions.get(nodeId);
    if (!s || s.rpc !== rpc) throw new Error('no session: open one first');
    this.#lastSeen.set(nodeId, this.#d.clock.nowMs());
    const report = heartbeatReport(body);
    if (report) this.#reports.set(nodeId, report);
    else this.#reports.delete(nodeId);
    // Marked down while its heartbeats were delayed: it is back.
    if (this.#d.nodes().find((x) => x.id === nodeId)?.status.state === 'down') this.#d.setStatus(nodeId, 'ready', '');
    return { periodMs: this.#d.periodMs() };
  }

  /** The store changed: push every assignment that differs from what its node holds. */
  push(): void {
    for (const [id, s] of this.#sessions) {
      const a = this.#d.assignment(id);
      const k = key(a);
      if (k === s.lastSent) continue;
      s.lastSent = k;
      s.rpc.notify('assign', a);
    }
  }

  /** Ask node nodeId over its session (the leader's end of it). */
  call(nodeId: string, method: string, args: unknown, timeoutMs: number): Promise<unknown> {
    const s = this.#sessions.get(nodeId);
    if (!s) return Promise.reject(new Error(`node ${nodeId} has no session with the leader`));
    return s.rpc.call(method, args, timeoutMs);
  }

  /** A node was removed: end its session. */
  evict(nodeId: string): void {
    this.#sessions.get(nodeId)?.rpc.close();
    this.#sessions.delete(nodeId);
    this.#lastSeen.delete(nodeId);
    this.#reports.delete(nodeId);
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    for (const s of this.#sessions.values()) s.rpc.close();
    this.#sessions.clear();
    this.#reports.clear();
  }

  #schedule(): void {
    this.#timer = this.#d.clock.after(Math.max(50, Math.floor(this.#d.periodMs() / 2)), () => {
      if (this.#stopped) return;
      for (const id of nodesToMarkDown(this.#d.nodes(), this.#lastSeen, this.#since, this.#d.clock.nowMs(), this.#d.periodMs())) {
        this.#reports.delete(id);
        this.#d.setStatus(id, 'down', 'heartbeat failure');
      }
      this.#schedule();
    });
  }
}

function key(a: unknown): string {
  return Buffer.from(encodeCanonical(a)).toString('base64');
}
