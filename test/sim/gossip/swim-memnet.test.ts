// The SWIM core behind real transport seams (swim-memnet.ts) under the
// runner's nemesis: invariants after every step, everyone alive everywhere at
// the end. More seeds: `npm run sim -- swim --seeds N`; SIM_SEED=N pins one.
import { suite } from '../../harness.js';
import { runSeeds } from '../runner.js';
import { swimSpec } from './swim-memnet.js';

const t = suite('swim memnet sim');
t('16 nodes over MemNet: partitions, loss bursts, crashes and restarts; converged after the nemesis stops (10 seeds)', async () => {
  await runSeeds({ ...swimSpec(), from: 1, count: 10 });
});
t.run();
