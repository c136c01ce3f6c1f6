// What a leader knows about one follower (paper figure 2: nextIndex,
// matchIndex), plus the flow-control state that decides when to send.
//
//   probe      we do not know where the logs diverge: one append per
//              heartbeat until one is accepted (paper §5.3 back-off)
//   replicate  logs match up to `match`: stream appends, advancing `next`
//              optimistically
//   snapshot   an InstallSnapshot is in flight (paper §7): send nothing
//              until it is acknowledged or ages out

import type { FollowerProgress } from './types.js';

export type ProgressState = FollowerProgress['state'];

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append is outstanding; wait for its answer or the next heartbeat. */
  probeSent = false;
  /** Index of the snapshot in flight, in snapshot state. */
  pendingSnapshot = 0;
  /** Ticks spent in snapshot state, to give up on a lost snapshot. */
  snapshotTicks = 0;
  /** The highest commit index sent to this follower, to know when it must hear of a newer one. */
  sentCommit = 0;
  /** Heard from since the last check-quorum round (thesis §6.2). */
  recentActive = false;

  constructor(next: number) {
    this.next = next;
  }

  /** Sending is paused: a probe is outstanding or a snapshot in flight. */
  paused(): boolean {
    return (this.state === 'probe' && this.probeSent) || this.state === 'snapshot';
  }

  becomeProbe(): void {
    // After a snapshot, the follower holds at least the snapshot.
    this.next = this.state === 'snapshot' ? Math.max(this.match, this.pendingSnapshot) + 1 : this.match + 1;
    this.state = 'probe';
    this.probeSent = false;
    this.pendingSnapshot = 0;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.pendingSnapshot = 0;
  }

  becomeSnapshot(index: number): void {
    this.state = 'snapshot';
    this.pendingSnapshot = index;
    this.snapshotTicks = 0;
  }

  /** A success answer: returns true when it told us something new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (index > this.match) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A reject of the append whose prevIndex was `rejected`; `candidate` is the
   * next index the hint suggests. Returns false for a stale answer.
   */
  maybeDecrease(rejected: number, candidate: number): boolean {
    if (this.state === 'snapshot') return false; // a snapshot is in flight; its answer decides
    if (rejected <= this.match) return false; // already known to match there
    if (this.state === 'probe' && rejected !== this.next - 1) return false; // answer to an older probe
    // The optimistic stream broke: fall back to one probe at a time.
    this.state = 'probe';
    this.next = Math.max(this.match + 1, Math.min(candidate, rejected));
    this.probeSent = false;
    return true;
  }

  view(): FollowerProgress {
    return { match: this.match, next: this.next, state: this.state, recentActive: this.recentActive };
  }
}
