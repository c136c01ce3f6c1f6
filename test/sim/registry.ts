// Every simulation `npm run sim` can run, by name. A new simulation adds one
// entry here; sim.mjs bundles this file and looks names up in it.
import type { SimNode, SimSpec } from './runner.js';
import { toySpec } from './toy.js';

export interface RegisteredSim {
  description: string;
  spec: () => SimSpec<any>;
}

export const simulations: Record<string, RegisteredSim> = {
  toy: { description: 'nodes gossip a counter over lossy datagrams (tests the runner)', spec: () => toySpec() },
};

export { runSeeds, runSim, SimFailure, rerunCommand, pinnedSeed } from './runner.js';
export type { SimNode };
