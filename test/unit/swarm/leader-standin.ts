// A LeaderOps stand-in for the leader's operations under test (attach-ops,
// service-ops): read() is a real Store, commit() applies the command to it
// as the leader would (store refusals mapped as LeaderOps.commit maps them),
// networks.exclusive serializes as NetworkOps.exclusive does. With `hold`,
// commits wait until release(), as a Raft round trip lets other requests read
// the store in between.
import { Store, encodeCommand, type Command } from '../../../agent/cluster/store/index.js';
import type { Node } from '../../../agent/cluster/store/types.js';
import type { DatapathReport } from '../../../agent/api/types.js';
import { conflict, invalid, notFound } from '../../../agent/swarm/errors.js';
import type { LeaderOps } from '../../../agent/swarm/leader-ops.js';

export class LeaderStandIn {
  readonly store = new Store();
  readonly commits: Command[] = [];
  hold = false;
  #index = 0;
  #held: (() => void)[] = [];
  #busy: Promise<unknown> = Promise.resolve();
  readonly networks = {
    exclusive: <T>(f: () => Promise<T>): Promise<T> => {
      const run = this.#busy.then(f, f);
      this.#busy = run.catch(() => {});
      return run;
    },
  };

  async read(): Promise<Store> {
    return this.store;
  }

  async commit(cmd: Command): Promise<void> {
    if (this.hold) await new Promise<void>((r) => this.#held.push(r));
    this.commits.push(cmd);
    const r = this.store.apply(++this.#index, encodeCommand(cmd));
    if (!r.ok) {
      if (r.error.code === 'STORE_STALE_VERSION') throw conflict(`update out of sequence: ${r.error.message}; read the object again and retry`);
      if (r.error.code === 'STORE_NOT_FOUND') throw notFound(r.error.message);
      if (r.error.code === 'STORE_CONFLICT') throw conflict(r.error.message);
      throw invalid(r.error.message);
    }
  }

  /** Let the held commits apply, one per turn, in order. */
  async release(): Promise<void> {
    this.hold = false;
    while (this.#held.length > 0) {
      this.#held.shift()!();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
  }

  /** The nodes' latest data path reports, as the dispatcher keeps them (tests set them). */
  readonly reports = new Map<string, DatapathReport>();

  datapathReports(): ReadonlyMap<string, DatapathReport> {
    return this.reports;
  }

  nodeRef(store: Store, ref: string): Node {
    const n = store.list('node').find((x) => x.id === ref || x.hostname === ref);
    if (!n) throw notFound(`node ${ref} not found`);
    return n;
  }

  get ops(): LeaderOps {
    return this as unknown as LeaderOps;
  }
}
