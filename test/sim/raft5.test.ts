// Raft managers under the nemesis: 5 managers, 600 seeds (longer runs:
// `npm run sim -- raft5 --seeds N`). SIM_SEED=N pins one seed. One file per
// cluster size so the runner spreads them over the cores.
import { suite } from '../harness.js';
import { raftSeedsTest } from './raft-check.js';

const t = suite('raft sim 5');
t('5 managers: safety after every step, linearizable history and liveness at the end (600 seeds)', () => raftSeedsTest(5, 600));
t.run();
