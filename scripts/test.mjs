#!/usr/bin/env node
// The test runner behind `npm test`.
//
//   node scripts/test.mjs [unit|sim|e2e ...] [--filter SUBSTRING] [--jobs N]
//
// 1. type-checks the whole tree with tsc (counted as one test);
// 2. bundles every test/**/*.test.ts with esbuild into dist/test/ (fast, no
//    loader needed at run time, same transform as the product bundle);
// 3. runs each test file in its own node process (unit and sim files in
//    parallel, e2e files one at a time since they share the kernel), with
//    NO_COLOR so uvu's totals can be read back;
// 4. ends with exactly one line `N passed, M failed` and exits non-zero on
//    any failure. A file that crashes, hangs past its deadline, or exits
//    non-zero with every test green counts as one failed test.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { bundleForNode } from './bundle-dev.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const kinds = args.filter((a) => ['unit', 'sim', 'e2e'].includes(a));
const filterAt = args.indexOf('--filter');
const filter = filterAt >= 0 ? args[filterAt + 1] : undefined;
const jobsAt = args.indexOf('--jobs');
const jobs = jobsAt >= 0 ? Number(args[jobsAt + 1]) : Math.max(2, cpus().length);
const skipTypecheck = args.includes('--no-typecheck');
const selected = kinds.length > 0 ? kinds : ['unit', 'sim', 'e2e'];
// Per-file deadline: a hung file is killed and counted as failed.
const FILE_DEADLINE_MS = { unit: 120_000, sim: 400_000, e2e: 300_000 };

function walk(dir) {
  let out = [];
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names.sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (n.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function run(cmd, argv, opts) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, ...opts });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = opts?.deadlineMs
      ? setTimeout(() => {
          out += `\n[test runner] killed after ${opts.deadlineMs} ms\n`;
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }, opts.deadlineMs)
      : undefined;
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), out, pid: child.pid });
    });
  });
}

function tally(out, code) {
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (Number.isNaN(total) || Number.isNaN(passed)) return { passed: 0, failed: 1, skipped: 0 };
  let failed = total - passed;
  if (code !== 0 && failed === 0) failed = 1; // crashed after its tests, or leaked at exit
  return { passed, failed, skipped };
}

/**
 * Namespaces and root-netns links a finished e2e file left behind. The test
 * bed names everything tb<pid base36>-..., pid being the test file's process,
 * so what is found here is that file's and nobody else's; it is removed.
 */
function leftovers(pid) {
  if (!pid) return [];
  const prefix = `tb${pid.toString(36)}-`;
  const list = (argv) => {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : '';
  };
  const netns = list(['ip', 'netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter((n) => n && n.startsWith(prefix));
  const links = list(['ip', '-o', 'link', 'show']).split('\n').map((l) => l.split(': ')[1]?.split('@')[0]).filter((n) => n && n.startsWith(prefix));
  for (const n of netns) spawnSync('ip', ['netns', 'del', n]);
  for (const l of links) spawnSync('ip', ['link', 'del', l]);
  return [...netns.map((n) => `netns ${n}`), ...links.map((l) => `link ${l}`)];
}

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];

if (!skipTypecheck) {
  const r = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root, '--noEmit']);
  if (r.code === 0) {
    passed++;
    process.stdout.write('typecheck: ok\n');
  } else {
    failed++;
    failures.push('typecheck');
    process.stdout.write(`typecheck: FAILED\n${r.out}\n`);
  }
}

// Per-run output dir, so two runs (or two engineers) never delete each other's bundles.
const outRoot = join(root, 'dist', 'test', String(process.pid));
rmSync(outRoot, { recursive: true, force: true });
mkdirSync(outRoot, { recursive: true });
process.on('exit', () => rmSync(outRoot, { recursive: true, force: true }));

for (const kind of selected) {
  let files = walk(join(root, 'test', kind));
  if (filter) files = files.filter((f) => relative(root, f).includes(filter));
  if (files.length === 0) continue;
  const outDir = join(outRoot, kind);
  await bundleForNode({ entryPoints: files, outdir: outDir, outbase: join(root, 'test', kind), outExtension: { '.js': '.mjs' } });
  const queue = files.map((f) => ({ src: relative(root, f), out: join(outDir, relative(join(root, 'test', kind), f)).replace(/\.ts$/, '.mjs') }));
  const width = kind === 'e2e' ? 1 : jobs;
  const workers = Array.from({ length: Math.min(width, queue.length) }, async () => {
    for (;;) {
      const item = queue.shift();
      if (!item) return;
      const t0 = performance.now();
      const r = await run(process.execPath, ['--enable-source-maps', item.out], { deadlineMs: FILE_DEADLINE_MS[kind] });
      const t = tally(r.out, r.code);
      if (kind === 'e2e') {
        const left = leftovers(r.pid);
        if (left.length > 0) {
          t.failed++;
          r.out += `\n[test runner] leaked and now removed: ${left.join(', ')}\n`;
        }
      }
      passed += t.passed;
      failed += t.failed;
      skipped += t.skipped;
      const ms = Math.round(performance.now() - t0);
      if (t.failed > 0) {
        failures.push(item.src);
        process.stdout.write(`${item.src}: ${t.passed} passed, ${t.failed} failed (${ms} ms)\n${r.out}\n`);
      } else {
        process.stdout.write(`${item.src}: ${t.passed} passed (${ms} ms)\n`);
      }
    }
  });
  await Promise.all(workers);
}

if (failures.length > 0) process.stdout.write(`\nfailed: ${failures.join(', ')}\n`);
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
