#!/usr/bin/env node
// `npm run bench:mesh`: bundles mesh-bench.ts and the load generator it
// starts inside the test bed (mesh-load.ts; bundled.mjs), and runs the
// bench. Arguments are passed through (see mesh-bench.ts).
import { bundleBench } from './bundled.mjs';

const { path, bench } = await bundleBench(['mesh-bench', 'mesh-load']);
process.exitCode = await bench.main(process.argv.slice(2), { scripts: { load: path('mesh-load') } });
