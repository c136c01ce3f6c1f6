// The build guards the architecture (STYLE habit 14), read off esbuild's
// import graph rather than by grepping text.
import { build, type Metafile } from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { suite, equal } from '../harness.js';

const root = process.cwd();
const t = suite('architecture');

function tsFiles(dir: string): string[] {
  let out: string[] = [];
  for (const n of readdirSync(join(root, dir))) {
    const p = join(dir, n);
    if (statSync(join(root, p)).isDirectory()) out = out.concat(tsFiles(p));
    else if (n.endsWith('.ts')) out.push(p);
  }
  return out;
}

async function graph(entries: string[]): Promise<Metafile> {
  const r = await build({ entryPoints: entries.map((e) => join(root, e)), bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', outdir: '/tmp/agent-arch', logLevel: 'silent' });
  return r.metafile;
}

/** Files reachable from entry through static imports only (dynamic import() is the lazy boundary). */
function staticClosure(meta: Metafile, entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const imp of meta.inputs[f]?.imports ?? []) {
      if (imp.kind === 'import-statement' && !imp.external) stack.push(imp.path);
    }
  }
  return seen;
}

t('shared/ never imports agent/', async () => {
  const meta = await graph(tsFiles('shared'));
  const bad = Object.entries(meta.inputs)
    .filter(([f]) => f.startsWith('shared/'))
    .flatMap(([f, i]) => i.imports.filter((imp) => imp.path.startsWith('agent/')).map((imp) => `${f} -> ${imp.path}`));
  equal(bad, []);
});

t('the CLI path does not statically pull in daemon internals', async () => {
  const entry = 'agent/main.ts';
  const meta = await graph([entry]);
  const reach = [...staticClosure(meta, relative(root, join(root, entry)))];
  const internal = /^agent\/(daemon|cluster|gossip|datapath|services|host|testbed)\//;
  equal(reach.filter((f) => internal.test(f)), []);
});

t.run();
