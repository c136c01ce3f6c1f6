// Which of two versions of a table entry wins (issue 5: "higher Lamport time
// wins"). libnetwork keeps the first of two versions with equal Lamport
// times, so two nodes that hear them in different orders disagree for good.
// Here the order is total, so every node that has seen the same set of
// versions holds the same one, whatever order they came in:
//
//   1. the higher Lamport time;
//   2. then the greater owner id (UTF-16 code-unit order, the same on every node);
//   3. then a tombstone over a live value (a delete is never lost to a tie);
//   4. then the greater value, byte by byte, the longer one on a common prefix.
//
// Ties past step 1 only happen when two owners write one key at the same
// time, or when a restarted owner reuses a time; the owner then re-issues
// its truth with a newer time (network-db.ts, refuteEntry).

export interface Version {
  ltime: number;
  owner: string;
  tombstone: boolean;
  value: Uint8Array;
}

/** > 0 when a wins over b, < 0 when b wins, 0 when they are the same version. */
export function compareVersions(a: Version, b: Version): number {
  if (a.ltime !== b.ltime) return a.ltime > b.ltime ? 1 : -1;
  if (a.owner !== b.owner) return a.owner > b.owner ? 1 : -1;
  if (a.tombstone !== b.tombstone) return a.tombstone ? 1 : -1;
  const n = Math.min(a.value.length, b.value.length);
  for (let i = 0; i < n; i++) {
    if (a.value[i] !== b.value[i]) return a.value[i]! > b.value[i]! ? 1 : -1;
  }
  return a.value.length === b.value.length ? 0 : a.value.length > b.value.length ? 1 : -1;
}

/**
 * A Lamport clock (Lamport 1978, "Time, Clocks, and the Ordering of Events",
 * rules IR1/IR2): tick before each local event, witness every received time.
 */
export class LamportClock {
  #t = 0;

  /** The last time handed out or witnessed. */
  time(): number {
    return this.#t;
  }

  /** A time greater than every time handed out or witnessed so far. */
  increment(): number {
    return ++this.#t;
  }

  witness(t: number): void {
    if (t > this.#t) this.#t = t;
  }
}
