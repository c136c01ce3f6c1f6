// The leak check is itself tested: a fixture that leaks must fail.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { suite, match, is } from '../harness.js';

const t = suite('harness');

t('a test that leaks a timer or a socket fails, naming what leaked', async () => {
  const dir = mkdtempSync(join(process.cwd(), 'dist', 'harness-')) // inside the repo, so `uvu` resolves;
  try {
    const out = join(dir, 'leaky.mjs');
    await build({ entryPoints: [join(process.cwd(), 'test/fixtures/leaky.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' });
    const r = spawnSync(process.execPath, [out], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, cwd: process.cwd(), timeout: 30_000 });
    const text = r.stdout + r.stderr;
    match(text, /Total:\s+4/);
    match(text, /Passed:\s+1/);
    match(text, /test leaked: Timeout x1/);
    match(text, /test leaked: UDPWRAP x1/i);
    match(text, /original failure/);
    is(r.status, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

t.run();
