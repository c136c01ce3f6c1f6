// The three artifacts of `npm run build` are one program: the same version on
// Node, on Deno and as the single executable, and the single executable runs
// with nothing beside it (no node_modules, no network).
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, is, match, ok } from '../harness.js';
import { ApiClient } from '../../agent/api/client.js';

const root = process.cwd();
const mjs = join(root, 'dist/agent.mjs');
const exe = join(root, 'dist/agent');
// The deno npm package's bin is a node wrapper that spawns the real binary
// (a signal to the wrapper would not reach Deno): run the binary itself.
function denoBinary(): string {
  const scoped = join(root, 'node_modules/@deno');
  for (const d of existsSync(scoped) ? readdirSync(scoped) : []) if (existsSync(join(scoped, d, 'deno'))) return join(scoped, d, 'deno');
  return join(root, 'node_modules/deno/deno');
}
const deno = denoBinary();

const t = suite('binary');

function out(cmd: string, args: string[], cwd = root): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } });
}

t('dist/agent, node dist/agent.mjs and deno run dist/agent.mjs print the same version', () => {
  ok(existsSync(mjs) && existsSync(exe), 'run `npm run build` first');
  const a = out(exe, ['--version']);
  match(a, /^agent version \d+\.\d+\.\d+\n$/);
  is(out(process.execPath, [mjs, '--version']), a);
  is(out(deno, ['run', '-A', mjs, '--version']), a);
});

t('the single executable runs alone, from an empty directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-sea-'));
  try {
    copyFileSync(exe, join(dir, 'agent'));
    const help = out(join(dir, 'agent'), ['--help'], dir);
    match(help, /Usage:\s+agent \[OPTIONS\] COMMAND/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The daemon on each runtime answers its API, so no plane may depend on a Node-only API by accident.
for (const [name, argv] of [
  ['node', [process.execPath, mjs]],
  ['deno', [deno, 'run', '-A', mjs]],
  ['single executable', [exe]],
] as const) {
  t(`the daemon runs on ${name} and stops cleanly on SIGTERM`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-rt-'));
    const sock = join(dir, 'agent.sock');
    const [cmd, ...rest] = argv;
    const child = spawn(cmd, [...rest, 'daemon', '--socket', sock, '--state-dir', join(dir, 'state'), '--name-prefix', 'rt'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' },
    });
    let log = '';
    child.stderr.on('data', (d) => (log += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const c = new ApiClient({ host: `unix://${sock}`, timeoutMs: 2000 });
      const end = performance.now() + 20_000;
      let pong = '';
      while (pong !== 'OK' && performance.now() < end) {
        pong = await c.text('/_ping').catch(() => '');
        if (pong !== 'OK') await new Promise((r) => setTimeout(r, 50));
      }
      is(pong, 'OK', `daemon did not answer: ${log}`);
      const v = await c.get<{ Runtime: string }>('/version');
      match(v.Runtime, name === 'deno' ? /^deno / : /^node /);
      child.kill('SIGTERM');
      is(await exited, 0);
      match(log, /daemon stopped/);
      ok(!existsSync(sock), 'socket removed');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

t.run();
