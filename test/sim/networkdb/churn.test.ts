// NetworkDB under churn, over many seeds (churn.ts says what is checked).
// SIM_SEED=N runs that one seed.
import { suite, ok } from '../../harness.js';
import { pinnedSeed } from '../runner.js';
import { defaultChurn, runChurn } from './churn.js';

const t = suite('networkdb churn');
const SEEDS = 40;

t(`16 nodes, 3 networks, 10% loss, false deaths and restarts: safe at every step, converged at the end (${SEEDS} seeds)`, () => {
  const pinned = pinnedSeed();
  const seeds = pinned !== undefined ? [pinned] : Array.from({ length: SEEDS }, (_, i) => i + 1);
  let actions = 0, deaths = 0, restarts = 0, steps = 0;
  const t0 = performance.now();
  for (const seed of seeds) {
    const r = runChurn(defaultChurn(seed));
    actions += r.actions;
    deaths += r.deaths;
    restarts += r.restarts;
    steps += r.steps;
  }
  console.log(`networkdb churn: ${seeds.length} seeds, ${actions} actions, ${deaths} false deaths, ${restarts} restarts, ${steps} steps in ${Math.round(performance.now() - t0)} ms`);
  ok(deaths > seeds.length && restarts > seeds.length / 2, 'the faults happened');
});

t.run();
