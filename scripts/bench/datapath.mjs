#!/usr/bin/env node
// `npm run bench:datapath`: bundles scripts/bench/datapath-bench.ts and the
// relay it starts in the test-bed hosts (datapath-relay.ts) with esbuild (the
// same transform as scripts/test.mjs) next to this file, runs the bench, and
// removes the bundles when the process exits (the relay runs from its bundle
// during the bench). Arguments are passed through (see datapath-bench.ts).
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleForNode } from '../bundle-dev.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// Inside the repo so that bare imports resolve from node_modules.
const outDir = join(here, `.out-${process.pid}`);
mkdirSync(outDir, { recursive: true });
process.on('exit', () => rmSync(outDir, { recursive: true, force: true }));
// Exiting runs the 'exit' handlers: this one, and the test bed's, which
// destroys every live bed synchronously (agent/testbed/cleanup.ts).
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

await bundleForNode({
  entryPoints: [join(here, 'datapath-bench.ts'), join(here, 'datapath-relay.ts')],
  outdir: outDir,
  outExtension: { '.js': '.mjs' },
});
const { main } = await import(pathToFileURL(join(outDir, 'datapath-bench.mjs')).href);
process.exitCode = await main(process.argv.slice(2), { relayScript: join(outDir, 'datapath-relay.mjs') });
