// The simulation runner, tested with the toy gossip-counter protocol.
import { suite, equal, is, ok, not } from '../harness.js';
import { runSeeds, runSim, SimFailure } from './runner.js';
import { toyBounded, toyNeverReaches, toySpec } from './toy.js';

// These tests choose their own seeds; a SIM_SEED meant for another simulation must not narrow them.
delete process.env.SIM_SEED;

const t = suite('sim runner');

async function failureOf(p: Promise<unknown>): Promise<SimFailure> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SimFailure) return e;
    throw e;
  }
  throw new Error('expected the simulation to fail');
}

t('the toy keeps its true invariant over 200 seeds, nemesis included', async () => {
  const s = await runSeeds({ ...toySpec(), from: 1, count: 200 });
  is(s.seeds.length, 200);
  ok(s.steps > 200 * 100, `only ${s.steps} steps`);
});

t('a seed-dependent broken invariant fails; its seed replays the same failure', async () => {
  const spec = toySpec({ invariants: [toyBounded, toyNeverReaches(20)] });
  const f = await failureOf(runSeeds({ ...spec, from: 1, count: 50 }));
  const m = /seed=(\d+) step=(\d+)/.exec(f.message);
  ok(m, f.message);
  const seed = Number(m![1]), step = Number(m![2]);
  is(f.seed, seed);
  is(f.step, step);
  ok(f.message.includes(`npm run sim -- toy --seed ${seed}`), f.message);
  ok(f.message.includes('reached'), f.message);
  ok(f.trace.length > 0 && f.trace.length <= 50);

  const again = await failureOf(runSim({ ...spec, seed }));
  is(again.step, step);
  equal(again.trace, f.trace);
  is(again.traceHash, f.traceHash);
  is(again.message, f.message);

  // Some other seed passes, and keeps passing.
  let passing: number | undefined;
  for (let s = 1; s <= 100 && passing === undefined; s++) {
    if (s === seed) continue;
    passing = await runSim({ ...spec, seed: s }).then(() => s, () => undefined);
  }
  ok(passing !== undefined, 'no passing seed in 1..100');
  const r1 = await runSim({ ...spec, seed: passing! });
  const r2 = await runSim({ ...spec, seed: passing! });
  is(r1.traceHash, r2.traceHash);
});

t('same seed, same run; another seed, another run', async () => {
  const a = await runSim({ ...toySpec(), seed: 7 });
  const b = await runSim({ ...toySpec(), seed: 7 });
  const c = await runSim({ ...toySpec(), seed: 8 });
  equal([a.steps, a.timeMs, a.traceHash, a.trace], [b.steps, b.timeMs, b.traceHash, b.trace]);
  not.equal(a.traceHash, c.traceHash);
});

t('the nemesis crashes and restarts nodes, partitions and heals, deterministically', async () => {
  const seen = new Set<string>();
  const spec = toySpec({
    nemesis: { probability: 0.05 },
    invariants: [
      toyBounded,
      (w) => {
        if (w.up.some((u) => !u)) seen.add('crash');
        if (w.net.isBlocked(w.nodes[0]!.ip, w.nodes[1]!.ip) || w.net.isBlocked(w.nodes[2]!.ip, w.nodes[3]!.ip)) seen.add('partition');
        // A crashed node forgets; a minority at most is down.
        if (w.up.filter((u) => !u).length > 2) return 'too many nodes down';
      },
    ],
  });
  await runSeeds({ ...spec, from: 1, count: 20 });
  equal([...seen].sort(), ['crash', 'partition']);
});

t('an invariant that throws counts as a violation; steps and time limits hold', async () => {
  const f = await failureOf(
    runSim({
      ...toySpec({
        invariants: [
          (w) => {
            if (w.step === 3) throw new Error('boom at three');
          },
        ],
      }),
      seed: 1,
    }),
  );
  is(f.step, 3);
  ok(f.message.includes('boom at three'));
  const r = await runSim({ ...toySpec({ maxSteps: 17 }), seed: 1 });
  is(r.steps, 17);
  const r2 = await runSim({ ...toySpec({ maxTimeMs: 1_000, maxSteps: 1e9 }), seed: 1 });
  ok(r2.timeMs <= 1_000);
});

t.run();
