// How tests, simulations and benchmarks are bundled to run under node: one
// set of esbuild options, dependencies left to node_modules.
import * as esbuild from 'esbuild';

/** Bundle entryPoints (TypeScript) to ESM; pass outfile, or outdir with outbase. */
export function bundleForNode(opts) {
  return esbuild.build({
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'error',
    ...opts,
  });
}
