#!/usr/bin/env node
// `npm run build`: one source tree, three ways to run it.
//
//   dist/agent.mjs  one ESM file (node: built-ins external) for `node` and `deno run -A`
//   dist/agent.cjs  the same entry and options, CommonJS: Node 20's single
//                   executable applications only embed CommonJS scripts
//   dist/agent      a Node single executable application (node --experimental-sea-config
//                   + postject) that runs with no node_modules and no network
//
// `--no-sea` skips the executable (it copies the ~100 MB node binary).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const sea = !process.argv.includes('--no-sea');

mkdirSync(dist, { recursive: true });

const common = {
  entryPoints: [join(root, 'agent/main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  // cbor-x's Node entry tries an optional native addon (cbor-extract); its
  // plain entry is pure JavaScript, identical on every machine and runtime.
  alias: { 'cbor-x': './node_modules/cbor-x/index.js' },
  define: { AGENT_VERSION: JSON.stringify(pkg.version) },
  legalComments: 'none',
  // No comments and no layout in the bundle: V8 keeps a module's whole source in memory (two bytes a
  // character if one character of it is beyond Latin-1), and an idle agent must stay small (issue 11).
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
};

// ESM bundle: CommonJS dependencies inside it may still call require() for built-ins.
await build({
  ...common,
  format: 'esm',
  outfile: join(dist, 'agent.mjs'),
  banner: { js: "import { createRequire as __agentCreateRequire } from 'node:module'; const require = __agentCreateRequire(import.meta.url);" },
});

// CommonJS bundle for the single executable: import.meta does not exist there.
await build({
  ...common,
  format: 'cjs',
  outfile: join(dist, 'agent.cjs'),
  define: { ...common.define, 'import.meta.url': '__agentImportMetaUrl' },
  banner: { js: "const __agentImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});

if (sea) {
  const blob = join(dist, 'agent.blob');
  const config = join(dist, 'sea-config.json');
  writeFileSync(config, JSON.stringify({ main: join(dist, 'agent.cjs'), output: blob, disableExperimentalSEAWarning: true }));
  quiet(process.execPath, ['--experimental-sea-config', config]);
  const exe = join(dist, 'agent');
  rmSync(exe, { force: true });
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  // The fuse string is Node's documented sentinel for SEA injection.
  quiet(process.execPath, [join(root, 'node_modules/postject/dist/cli.js'), exe, 'NODE_SEA_BLOB', blob,
    '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2']);
  rmSync(blob);
  rmSync(config);
}
/** Run a build tool, showing its chatter only when it fails. */
function quiet(cmd, argv) {
  try {
    execFileSync(cmd, argv, { stdio: 'pipe' });
  } catch (e) {
    process.stderr.write(`${e.stdout ?? ''}${e.stderr ?? ''}`);
    throw new Error(`build step failed: ${cmd} ${argv.join(' ')}`);
  }
}

process.stdout.write(`built dist/agent.mjs, dist/agent.cjs${sea ? ', dist/agent' : ''} (version ${pkg.version})\n`);
