// The shared body of the raft<N>.test.ts files.
import { ok } from '../harness.js';
import { runSeeds } from './runner.js';
import { raftSpec, type RaftRunStats } from './raft.js';

export async function raftSeedsTest(managers: number, seeds: number): Promise<void> {
  const runs: RaftRunStats[] = [];
  await runSeeds({ ...raftSpec({ managers, observe: (s) => runs.push(s) }), from: 1, count: seeds });
  // The workload must do real work, or the checks prove nothing.
  const sum = (f: (s: RaftRunStats) => number) => runs.reduce((a, s) => a + f(s), 0);
  ok(sum((s) => s.ackedPuts) > runs.length * 20, `acked puts ${sum((s) => s.ackedPuts)}`);
  ok(sum((s) => s.reads) > runs.length * 20, `reads ${sum((s) => s.reads)}`);
  ok(sum((s) => s.unknownPuts) > 0, 'no put ever had an unknown outcome: the nemesis never bit');
  ok(runs.filter((s) => s.leaderTerms > 1).length > runs.length / 4, 'leaders rarely changed');
}
