// Pending linearizable reads on a leader (thesis §6.4). Each read records the
// commit index when it arrived; it may be answered once a heartbeat round
// sent after that moment was acknowledged by a majority (so we were still
// leader) and the state machine has applied the recorded index.

import { quorumSize } from './quorum.js';
import type { NodeId, ReadState } from './types.js';

interface PendingRead {
  ctx: string;
  index: number;
  acks: Set<NodeId>;
}

export class ReadIndexQueue {
  #queue: PendingRead[] = [];

  has(ctx: string): boolean {
    return this.#queue.some((r) => r.ctx === ctx);
  }

  add(ctx: string, index: number, self: NodeId): void {
    this.#queue.push({ ctx, index, acks: new Set([self]) });
  }

  /** Context for heartbeats: the newest pending read, whose ack covers every older one. */
  lastCtx(): string | undefined {
    return this.#queue.at(-1)?.ctx;
  }

  /**
   * A voter echoed ctx in a heartbeat response. When ctx is acknowledged by a
   * majority of voters, it and every read queued before it are confirmed:
   * they are removed and returned.
   */
  ack(ctx: string, from: NodeId, voters: readonly NodeId[]): ReadState[] {
    const at = this.#queue.findIndex((r) => r.ctx === ctx);
    if (at < 0) return [];
    const r = this.#queue[at]!;
    r.acks.add(from);
    let n = 0;
    for (const id of voters) if (r.acks.has(id)) n++;
    if (n < quorumSize(voters)) return [];
    return this.#queue.splice(0, at + 1).map((p) => ({ index: p.index, ctx: p.ctx }));
  }

  /** Leadership lost: pending reads can no longer be confirmed. */
  clear(): void {
    this.#queue = [];
  }
}
