#!/usr/bin/env node
// `npm run bench:datapath`: bundles datapath-bench.ts and the relay it starts
// in the test-bed hosts (datapath-relay.ts; bundled.mjs), and runs the bench.
// Arguments are passed through (see datapath-bench.ts).
import { bundleBench } from './bundled.mjs';

const { path, bench } = await bundleBench(['datapath-bench', 'datapath-relay']);
process.exitCode = await bench.main(process.argv.slice(2), { relayScript: path('datapath-relay') });
