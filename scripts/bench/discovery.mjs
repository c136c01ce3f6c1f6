#!/usr/bin/env node
// `npm run bench:discovery`: bundles discovery-bench.ts and the programs it
// starts inside the test bed (discovery-dnsperf.ts, discovery-responder.ts,
// discovery-probe.ts; bundled.mjs), and runs the bench. Arguments are passed
// through (see discovery-bench.ts).
import { bundleBench } from './bundled.mjs';

const programs = ['dnsperf', 'responder', 'probe'];
const { path, bench } = await bundleBench(['discovery-bench', ...programs.map((p) => `discovery-${p}`)]);
process.exitCode = await bench.main(process.argv.slice(2), { scripts: Object.fromEntries(programs.map((p) => [p, path(`discovery-${p}`)])) });
