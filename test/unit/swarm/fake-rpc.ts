// A stand-in for an Rpc channel, for the tests of what holds channels (the
// dispatcher, the peer pool): notes sent are kept, close runs the onClose
// callbacks once, and the peer is the node id it was made with.
import type { Rpc } from '../../../agent/swarm/rpc.js';

/** Only what the Dispatcher and the PeerPool use of an Rpc. */
export class FakeRpc {
  readonly notes: [string, unknown][] = [];
  closed = false;
  closeCalls = 0;
  readonly peer: { nodeId: string };
  readonly #cbs: ((err?: Error) => void)[] = [];
  constructor(nodeId: string) {
    this.peer = { nodeId };
  }
  notify(kind: string, body: unknown): void {
    if (!this.closed) this.notes.push([kind, body]);
  }
  onClose(cb: (err?: Error) => void): void {
    if (this.closed) cb();
    else this.#cbs.push(cb);
  }
  close(): void {
    this.closeCalls++;
    if (this.closed) return;
    this.closed = true;
    for (const cb of this.#cbs.splice(0)) cb();
  }
  get rpc(): Rpc {
    return this as unknown as Rpc;
  }
}
