// Raft managers under the nemesis, many seeds per size (the long runs are
// `npm run sim -- raft3 raft5 raft7 --seeds N`). SIM_SEED=N pins one seed.
import { suite, ok } from '../harness.js';
import { runSeeds, SimFailure } from './runner.js';
import { raftSpec, type RaftRunStats } from './raft.js';

const t = suite('raft sim');

// CI budget: about 2,000 seeds in all, a few minutes on two cores.
const SEEDS = { 3: 1000, 5: 600, 7: 400 } as const;

for (const n of [3, 5, 7] as const) {
  t(`${n} managers: safety after every step, linearizable history and liveness at the end (${SEEDS[n]} seeds)`, async () => {
    const runs: RaftRunStats[] = [];
    await runSeeds({ ...raftSpec({ managers: n, observe: (s) => runs.push(s) }), from: 1, count: SEEDS[n] });
    // The workload must do real work, or the checks above prove nothing.
    const sum = (f: (s: RaftRunStats) => number) => runs.reduce((a, s) => a + f(s), 0);
    ok(sum((s) => s.ackedPuts) > runs.length * 20, `acked puts ${sum((s) => s.ackedPuts)}`);
    ok(sum((s) => s.reads) > runs.length * 20, `reads ${sum((s) => s.reads)}`);
    ok(sum((s) => s.unknownPuts) > 0, 'no put ever had an unknown outcome: the nemesis never bit');
    ok(runs.filter((s) => s.leaderTerms > 1).length > runs.length / 4, 'leaders rarely changed');
  });
}

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
