// Every simulation `npm run sim` can run, by name. A new simulation adds one
// entry here; sim.mjs bundles this file and looks names up in it.
import type { SimNode, SimSpec } from './runner.js';
import { toySpec } from './toy.js';
import { raftSpec } from './raft.js';
import { swimSpec } from './gossip/swim-memnet.js';

export interface RegisteredSim {
  description: string;
  spec: () => SimSpec<any>;
}

export const simulations: Record<string, RegisteredSim> = {
  toy: { description: 'nodes gossip a counter over lossy datagrams (tests the runner)', spec: () => toySpec() },
  raft3: { description: '3 Raft managers, key-value workload, partitions, loss, crashes and restarts', spec: () => raftSpec({ managers: 3 }) },
  raft5: { description: '5 Raft managers, same workload and faults', spec: () => raftSpec({ managers: 5 }) },
  raft7: { description: '7 Raft managers, same workload and faults', spec: () => raftSpec({ managers: 7 }) },
  'raft3-stale-reads': { description: 'raft3 with a deliberate bug (reads skip read-index): must fail', spec: () => raftSpec({ managers: 3, bug: 'stale-reads' }) },
  swim: { description: '16 SWIM nodes over MemNet (UDP packets, TCP push-pull) under partitions, loss bursts, crashes and restarts', spec: () => swimSpec() },
};

export { runSeeds, runSim, SimFailure, rerunCommand, pinnedSeed } from './runner.js';
export type { SimNode };
