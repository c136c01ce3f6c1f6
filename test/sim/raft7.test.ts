// Raft managers under the nemesis: 7 managers, 400 seeds (longer runs:
// `npm run sim -- raft7 --seeds N`). SIM_SEED=N pins one seed. One file per
// cluster size so the runner spreads them over the cores.
import { suite } from '../harness.js';
import { raftSeedsTest } from './raft-check.js';

const t = suite('raft sim 7');
t('7 managers: safety after every step, linearizable history and liveness at the end (400 seeds)', () => raftSeedsTest(7, 400));
t.run();
