// SWIM at fleet scale (issue 5), on the discrete-event simulator: 1,000
// nodes on lanConfig (the settings the daemon runs), one-way latency 1-10 ms.
// One cluster goes through, in order:
//   1. 1,000 nodes join through 3 seeds, spread over 5 s, and converge;
//   2. a NetworkDB-style event (each node re-broadcasts it the first time it
//      hears it) reaches every node;
//   3. a node is killed and every live node declares it dead within the
//      suspicion bound computed from the config.
// The split-and-heal (swim-partition.test.ts) and 10% loss
// (swim-loss.test.ts) runs live in files of their own, so the test runner
// spreads the three over the cores. Each prints its figures (the runner
// shows a file's output when it fails; run the bundled file with node to see
// them on success). SIM_SEED=N pins the seed (default 1).
import { suite, ok, is } from '../../harness.js';
import { lanConfig } from '../../../agent/gossip/swim/index.js';
import { pinnedSeed } from '../runner.js';
import { SwimDes } from './swim-des.js';
import { joinFleet, killOne, suspicionBound } from './swim-scenarios.js';

const N = 1_000;
const SEED = pinnedSeed() ?? 1;
const cfg = lanConfig();
const t = suite('swim fleet sim');
const des = new SwimDes({ n: N, seed: SEED, config: cfg });
const again = `seed=${SEED}; rerun: SIM_SEED=${SEED} node scripts/test.mjs sim --no-typecheck --filter swim-fleet`;
const s = (ms: number) => `${(ms / 1_000).toFixed(1)} s`;

t('1,000 nodes joining through 3 seeds converge: every node sees every other alive', () => {
  const wall = performance.now();
  const r = joinFleet(des, cfg, 5_000);
  console.log(
    `swim fleet: ${N} nodes joined through 3 seeds over ${s(r.lastJoinMs)}; all see all ${N} alive at ${s(r.convergedMs)} ` +
      `(${s(r.convergedMs - r.lastJoinMs)} after the last join; bound ${s(r.boundMs)}); ${des.packets} datagrams (${((performance.now() - wall) / 1_000).toFixed(1)} s wall)`,
  );
  ok(r.convergedMs <= r.boundMs, `converged at ${r.convergedMs} ms, bound ${r.boundMs} ms; ${again}`);
});

t('a NetworkDB-style event, re-broadcast by each node on first hearing, reaches all 1,000', () => {
  const got = new Float64Array(N).fill(-1);
  const start = des.now;
  const payload = Uint8Array.from([0x4e, 0x44, 0x42]);
  let reached = 1;
  got[7] = start;
  des.onUser = (i, p, now) => {
    if (got[i]! >= 0 || p[0] !== 0x4e) return;
    got[i] = now;
    reached++;
    des.nodes[i]!.broadcast(p);
  };
  des.at(start, () => des.nodes[7]!.broadcast(payload));
  des.run(start + 30_000, () => reached === N);
  des.onUser = undefined;
  const times = [...got].map((x) => x - start).sort((a, b) => a - b);
  console.log(`swim fleet: one event from node-7 reached ${reached}/${N} nodes; half by ${s(times[N / 2]!)}, all by ${s(times[N - 1]!)}`);
  is(reached, N, again);
});

t('a killed node is declared dead by every live node within the suspicion bound', () => {
  const b = suspicionBound(cfg, N);
  const r = killOne(des, 500, b.boundMs + 10_000);
  console.log(
    `swim fleet: node-500 killed; first suspicion after ${s(r.firstSuspectMs)}, first dead after ${s(r.firstDeadMs)}, ` +
      `all ${r.declaredBy} live nodes by ${s(r.allDeadMs)} (suspicion min ${s(b.minMs)}, max ${s(b.maxMs)}; bound ${s(b.boundMs)})`,
  );
  is(r.falseDeaths.length, 0, `live nodes declared dead: ${r.falseDeaths.slice(0, 5).join('; ')}; ${again}`);
  is(r.declaredBy, N - 1, again);
  ok(r.allDeadMs <= b.boundMs, `all dead after ${r.allDeadMs} ms, bound ${b.boundMs} ms; ${again}`);
});

t.run();
