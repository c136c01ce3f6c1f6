#!/usr/bin/env node
// Run registered simulations (test/sim/registry.ts) over many seeds.
//
//   npm run sim -- [NAME ...] [--seed N | --seeds COUNT [--from K]]
//
// With no name, every registered simulation runs; with no seed options,
// seeds 1..100 (or only SIM_SEED when set). One line per seed, then the first
// failure in full (seed, step, invariant, last events, rerun command), which
// is also saved under .sim-failures/. Exits non-zero on a failure.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleForNode } from './bundle-dev.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(msg) {
  process.stderr.write(`sim: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { names: [], seed: undefined, seeds: undefined, from: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v)) fail(`${a} expects an integer, got ${JSON.stringify(argv[i])}`);
      return v;
    };
    if (a === '--seed') o.seed = num();
    else if (a === '--seeds') o.seeds = num();
    else if (a === '--from') o.from = num();
    else if (a.startsWith('-')) fail(`unknown option ${a}`);
    else o.names.push(a);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const outfile = join(root, 'dist', 'sim', 'registry.mjs');
await bundleForNode({
  entryPoints: [join(root, 'test', 'sim', 'registry.ts')],
  outfile,
});
const reg = await import(pathToFileURL(outfile).href);

const names = opts.names.length > 0 ? opts.names : Object.keys(reg.simulations);
for (const n of names) if (!reg.simulations[n]) fail(`no simulation named ${n}; known: ${Object.keys(reg.simulations).join(', ')}`);
const from = opts.seed ?? reg.pinnedSeed() ?? opts.from;
const count = opts.seed !== undefined || reg.pinnedSeed() !== undefined ? 1 : opts.seeds ?? 100;

for (const name of names) {
  const t0 = performance.now();
  try {
    const s = await reg.runSeeds({
      ...reg.simulations[name].spec(),
      from,
      count,
      onResult: (r) => process.stdout.write(`${name} seed=${r.seed} ok steps=${r.steps} t=${Math.round(r.timeMs)}ms hash=${r.traceHash}\n`),
    });
    process.stdout.write(`${name}: ${s.seeds.length} seeds ok (${s.steps} steps, ${Math.round(performance.now() - t0)} ms)\n`);
  } catch (e) {
    if (!(e instanceof reg.SimFailure)) throw e;
    const dir = join(root, '.sim-failures');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${name}-seed-${e.seed}.txt`);
    writeFileSync(file, `${e.message}\n`);
    process.stdout.write(`${name} seed=${e.seed} FAILED at step ${e.step}\n\n${e.message}\n\nsaved to ${file}\n`);
    process.exitCode = 1;
    break;
  }
}
