// Raft managers under the nemesis: 3 managers, 1000 seeds (longer runs:
// `npm run sim -- raft3 --seeds N`). SIM_SEED=N pins one seed. One file per
// cluster size so the runner spreads them over the cores.
import { suite, ok } from '../harness.js';
import { runSeeds, SimFailure } from './runner.js';
import { raftSpec } from './raft.js';
import { raftSeedsTest } from './raft-check.js';

const t = suite('raft sim 3');
t('3 managers: safety after every step, linearizable history and liveness at the end (1000 seeds)', () => raftSeedsTest(3, 1000));

t('the checks catch a deliberate bug (reads that skip read-index)', async () => {
  let caught: SimFailure | undefined;
  try {
    await runSeeds({ ...raftSpec({ managers: 3, bug: 'stale-reads' }), from: 1, count: 50 });
  } catch (e) {
    if (!(e instanceof SimFailure)) throw e;
    caught = e;
  }
  ok(caught, 'stale reads went unnoticed over 50 seeds');
  ok(/not linearizable/.test(caught!.violation), caught!.violation);
});

t.run();
