#!/usr/bin/env node
// `npm run bench:raft`: bundles raft-bench.ts (bundled.mjs) and runs it.
// Arguments are passed through (see raft-bench.ts).
import { bundleBench } from './bundled.mjs';

const { bench } = await bundleBench(['raft-bench']);
process.exitCode = await bench.main(process.argv.slice(2));
