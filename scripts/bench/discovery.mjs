#!/usr/bin/env node
// `npm run bench:discovery`: bundles scripts/bench/discovery-bench.ts and the
// programs it starts inside the test bed (discovery-dnsperf.ts,
// discovery-responder.ts, discovery-probe.ts) with esbuild (the same transform
// as scripts/test.mjs) next to this file, runs the bench, and removes the
// bundles when the process exits. Arguments are passed through (see
// discovery-bench.ts).
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleForNode } from '../bundle-dev.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// Inside the repo so that bare imports (dns-packet) resolve from node_modules, for the bench and for the programs in the bed.
const outDir = join(here, `.out-${process.pid}`);
mkdirSync(outDir, { recursive: true });
process.on('exit', () => rmSync(outDir, { recursive: true, force: true }));
// Exiting runs the 'exit' handlers: this one, and the test bed's, which
// destroys every live bed synchronously (agent/testbed/cleanup.ts).
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const programs = ['dnsperf', 'responder', 'probe'];
await bundleForNode({
  entryPoints: [join(here, 'discovery-bench.ts'), ...programs.map((p) => join(here, `discovery-${p}.ts`))],
  outdir: outDir,
  outExtension: { '.js': '.mjs' },
});
const { main } = await import(pathToFileURL(join(outDir, 'discovery-bench.mjs')).href);
const scripts = Object.fromEntries(programs.map((p) => [p, join(outDir, `discovery-${p}.mjs`)]));
process.exitCode = await main(process.argv.slice(2), { scripts });
