// What every `npm run bench:*` entry does first: bundle its TypeScript
// (the bench and the programs it starts in test-bed hosts) with esbuild, the
// same transform as scripts/test.mjs, into a directory next to this file that
// goes when the process exits (also on Ctrl-C; the test bed's own exit
// handler destroys every live bed then, agent/testbed/cleanup.ts).
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleForNode } from '../bundle-dev.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** Bundles scripts/bench/<name>.ts for each name; returns each bundle's path and the first one's exports. */
export async function bundleBench(names) {
  // Inside the repo so that bare imports (dns-packet, cbor-x) resolve from node_modules.
  const outDir = join(here, `.out-${process.pid}`);
  mkdirSync(outDir, { recursive: true });
  process.on('exit', () => rmSync(outDir, { recursive: true, force: true }));
  process.on('SIGINT', () => process.exit(130));
  process.on('SIGTERM', () => process.exit(143));
  await bundleForNode({ entryPoints: names.map((n) => join(here, `${n}.ts`)), outdir: outDir, outExtension: { '.js': '.mjs' } });
  const path = (name) => join(outDir, `${name}.mjs`);
  return { path, bench: await import(pathToFileURL(path(names[0])).href) };
}
