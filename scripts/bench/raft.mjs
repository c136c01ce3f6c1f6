#!/usr/bin/env node
// `npm run bench:raft`: bundles scripts/bench/raft-bench.ts with esbuild (the
// same transform as scripts/test.mjs) next to this file, runs it, and removes
// the bundle. Arguments are passed through (see raft-bench.ts).
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleForNode } from '../bundle-dev.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// Inside the repo so that bare imports (cbor-x) resolve from node_modules.
const outDir = join(here, `.out-${process.pid}`);
mkdirSync(outDir, { recursive: true });
const cleanup = () => rmSync(outDir, { recursive: true, force: true });
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

await bundleForNode({
  entryPoints: [join(here, 'raft-bench.ts')],
  outfile: join(outDir, 'raft-bench.mjs'),
});
const { main } = await import(pathToFileURL(join(outDir, 'raft-bench.mjs')).href);
cleanup();
process.exitCode = await main(process.argv.slice(2));
