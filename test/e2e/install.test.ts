// Issue 11, install: `npm run release` lays out a release, a local HTTP
// server serves it as a release host would (docs/install.md), and
// scripts/install.sh installs from it into scratch roots (AGENT_ROOT), as
// `curl | sh` would. Every path the installer writes is under a temporary
// directory; systemctl is never called (AGENT_ROOT is set, and this is a
// container without systemd). One test runs it without AGENT_ROOT, as on a
// machine booted with systemd, inside namespaces of its own with a stand-in
// systemctl (fixtures/install-systemd.sh).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { suite, is, equal, match, ok } from '../harness.js';

const root = process.cwd();
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const arch = ({ x64: 'x86_64', arm64: 'aarch64' } as Record<string, string>)[process.arch] ?? process.arch;
const exe = `agent-linux-${arch}`;
const INSTALLER_DEADLINE_MS = 30_000;

const work = mkdtempSync(join(tmpdir(), 'agent-install-'));
const rel = join(work, 'rel'); // one release, as `npm run release` lays it out
const www = join(work, 'www'); // the release host
let server: Server | undefined;
let base = '';
let roots = 0;

const t = suite('install');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run argv (async: the HTTP server lives in this process) with env over a clean
 * environment. With group, in a process group of its own, killed whole at the deadline.
 */
function run(argv: string[], env: Record<string, string | undefined>, group = false): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGENT_')));
  return new Promise((done, fail) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: root, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const kill = () => {
      try {
        if (group) process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(kill, INSTALLER_DEADLINE_MS);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** scripts/install.sh FLAGS, into root, from the local release host. */
function install(into: string, flags: string[] = [], env: Record<string, string | undefined> = {}): Promise<Run> {
  return run(['sh', join(root, 'scripts/install.sh'), ...flags], { AGENT_BASE_URL: base, AGENT_ROOT: into, ...env });
}

function newRoot(): string {
  const dir = join(work, `root${roots++}`);
  mkdirSync(dir);
  return dir;
}

/** Every file and symlink under dir, relative to it. */
function files(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (lstatSync(p).isDirectory()) out.push(...files(p, `${prefix}${name}/`));
    else out.push(`${prefix}${name}`);
  }
  return out;
}

function oneLine(r: Run, pattern: RegExp): void {
  is(r.code, 1, `exit status; stdout: ${r.stdout} stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  is(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  match(lines[0]!, /^agent install: /);
  match(lines[0]!, pattern);
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A release directory on the host made of rel's files, with SHA256SUMS rewritten. */
function variant(dir: string, names: string[], sums: (text: string) => string): void {
  mkdirSync(dir, { recursive: true });
  for (const n of names) symlinkSync(join(rel, n), join(dir, n));
  writeFileSync(join(dir, 'SHA256SUMS'), sums(readFileSync(join(rel, 'SHA256SUMS'), 'utf8')));
}

/** A directory of symlinks to the tools named, to stand in for PATH. */
function toolDir(name: string, tools: string[], extra: Record<string, string> = {}): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const tool of tools) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    ok(found.startsWith('/'), `${tool} on this machine`);
    symlinkSync(found, join(dir, tool));
  }
  for (const [tool, path] of Object.entries(extra)) symlinkSync(path, join(dir, tool));
  return dir;
}
const BASICS = ['sh', 'uname', 'id', 'mktemp', 'rm', 'rmdir', 'mkdir', 'mv', 'ln', 'chmod', 'cat', 'awk', 'sha256sum', 'install', 'readlink'];

t.before(async () => {
  ok(existsSync(join(root, 'dist/agent')) && existsSync(join(root, 'dist/agent.mjs')), 'run `npm run build` first');
  const r = spawnSync(process.execPath, [join(root, 'scripts/release.mjs'), '--no-build', '--out', rel], { encoding: 'utf8' });
  is(r.status, 0, r.stderr);
  // The host: <base>/<version>/ and <base>/latest/ are the release; broken ones beside it.
  mkdirSync(www);
  symlinkSync(rel, join(www, 'latest'));
  symlinkSync(rel, join(www, version));
  const all = ['install.sh', exe, 'agent.mjs', 'agent.service'];
  variant(join(www, 'badsum/latest'), all, (s) => s.split('\n').map((l) => (l.endsWith(`  ${exe}`) ? `${'0'.repeat(64)}${l.slice(64)}` : l)).join('\n'));
  variant(join(www, 'nobinary/latest'), all, (s) => s.split('\n').filter((l) => !l.endsWith(`  ${exe}`)).join('\n'));
  server = createServer((req, res) => {
    const path = resolve(www, `.${decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)}`);
    if (!path.startsWith(www + sep) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-length': statSync(path).size });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

t.after(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise((r) => server!.close(r));
  }
  rmSync(work, { recursive: true, force: true });
});

t('the release: the executable, the bundle, the unit and install.sh, with their sums', () => {
  is(readdirSync(rel).sort().join(' '), ['SHA256SUMS', exe, 'agent.mjs', 'agent.service', 'install.sh'].sort().join(' '));
  const sums = readFileSync(join(rel, 'SHA256SUMS'), 'utf8').trim().split('\n');
  is(sums.length, 4);
  for (const line of sums) {
    const [hash, name] = line.split('  ');
    is(hash, sha256(join(rel, name!)), name);
  }
  is(readFileSync(join(rel, 'install.sh'), 'utf8'), readFileSync(join(root, 'scripts/install.sh'), 'utf8'));
  is(readFileSync(join(rel, 'agent.service'), 'utf8'), readFileSync(join(root, 'packaging/agent.service'), 'utf8'));
});

const R = newRoot(); // one machine: install, upgrade, a bad upgrade, uninstall

t('curl | sh: the single executable, the unit enabled for the next boot, the state dir 0700', async () => {
  const r = await run(['sh', '-c', 'curl -fsSL "$1/latest/install.sh" | sh', 'sh', base], { AGENT_BASE_URL: base, AGENT_ROOT: R });
  is(r.code, 0, r.stderr);
  is(r.stderr, '');
  match(r.stdout, new RegExp(`installed ${R}/usr/local/bin/agent: agent version ${version} \\(${exe}\\)`));
  match(r.stdout, /(systemd is not running|AGENT_ROOT is set): agent\.service is enabled for the next boot, not started/);
  is((await run([join(R, 'usr/local/bin/agent'), '--version'], {})).stdout, `agent version ${version}\n`);
  is(statSync(join(R, 'usr/local/bin/agent')).mode & 0o777, 0o755);
  is(readFileSync(join(R, 'etc/systemd/system/agent.service'), 'utf8'), readFileSync(join(root, 'packaging/agent.service'), 'utf8'));
  is(readlinkSync(join(R, 'etc/systemd/system/multi-user.target.wants/agent.service')), '/etc/systemd/system/agent.service');
  is(statSync(join(R, 'var/lib/agent')).mode & 0o777, 0o700);
  is(files(R).join(' '), 'etc/systemd/system/agent.service etc/systemd/system/multi-user.target.wants/agent.service usr/local/bin/agent');
});

t('the unit passes systemd-analyze verify (where it exists)', async () => {
  if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status !== 0) {
    process.stderr.write('  (systemd-analyze not installed: unit not verified)\n');
    return;
  }
  // ExecStart must name an executable that exists: the one just installed.
  const unit = join(work, 'agent.service');
  writeFileSync(unit, readFileSync(join(root, 'packaging/agent.service'), 'utf8').replace('ExecStart=/usr/local/bin/agent', `ExecStart=${R}/usr/local/bin/agent`));
  const r = await run(['systemd-analyze', 'verify', '--man=no', unit], {});
  is(`${r.code} ${r.stdout}${r.stderr}`, '0 ');
});

t('re-running upgrades in place: the executable replaced by a rename, nothing staged left', async () => {
  const before = statSync(join(R, 'usr/local/bin/agent')).ino;
  const r = await install(R, [], { AGENT_VERSION: `v${version}` });
  is(r.code, 0, r.stderr);
  match(r.stdout, new RegExp(`upgraded ${R}/usr/local/bin/agent: ${version} -> ${version}`));
  ok(statSync(join(R, 'usr/local/bin/agent')).ino !== before, 'a new inode: renamed into place');
  is((await run([join(R, 'usr/local/bin/agent'), '--version'], {})).stdout, `agent version ${version}\n`);
  is(files(R).join(' '), 'etc/systemd/system/agent.service etc/systemd/system/multi-user.target.wants/agent.service usr/local/bin/agent');
});

t('a bad checksum: one line, and the installed executable untouched', async () => {
  const before = statSync(join(R, 'usr/local/bin/agent')).ino;
  oneLine(await install(R, [], { AGENT_BASE_URL: `${base}/badsum` }), /checksum mismatch for .*; nothing was installed$/);
  is(statSync(join(R, 'usr/local/bin/agent')).ino, before);
  is(files(R).join(' '), 'etc/systemd/system/agent.service etc/systemd/system/multi-user.target.wants/agent.service usr/local/bin/agent');
});

t('a bad checksum on a fresh machine leaves nothing', async () => {
  const fresh = newRoot();
  oneLine(await install(fresh, [], { AGENT_BASE_URL: `${base}/badsum` }), /checksum mismatch/);
  is(readdirSync(fresh).join(' '), '');
});

t('--uninstall removes what it installed and keeps the state; --purge removes the state', async () => {
  let r = await install(R, ['--uninstall']);
  is(r.code, 0, r.stderr);
  match(r.stdout, /kept .*\/var\/lib\/agent/);
  is(files(R).join(' '), '');
  ok(existsSync(join(R, 'var/lib/agent')));
  r = await install(R, ['--uninstall', '--purge']);
  is(r.code, 0, r.stderr);
  ok(!existsSync(join(R, 'var/lib/agent')));
  r = await install(R, ['--uninstall']);
  is(r.code, 0, r.stderr);
  match(r.stdout, /agent is not installed/);
});

/** What the systemd test must leave as it found it on this machine (the real paths). */
function hostPaths(): string {
  const list = (d: string) => (existsSync(d) ? files(d).join(' ') : '(none)');
  const there = (p: string) => `${p}: ${existsSync(p) ? 'yes' : 'no'}`;
  return [list('/usr/local/bin'), list('/usr/local/lib'), list('/etc/systemd/system'), there('/var/lib/agent'), there('/run/agent'), there('/run/systemd/system')].join('\n');
}

/** Pids of the processes in namespace ns (as /proc/PID/ns/KIND reads, e.g. pid:[4026532178]). */
function inNamespace(kind: 'pid' | 'mnt', ns: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/ns/${kind}`) === ns;
      } catch {
        return false; // exited meanwhile
      }
    });
}

t('under systemd: installs and enables agent.service, re-running upgrades in place and restarts the daemon, --uninstall stops it and removes everything', async () => {
  // The real installer without AGENT_ROOT, as pid 1 of new mount, network and
  // pid namespaces: the script masks every path written with a tmpfs, and a
  // stand-in systemctl runs the daemon (fixtures/install-systemd.sh). The
  // release is reached as a file:// URL (curl reads it): the HTTP server on
  // this process's 127.0.0.1 is not reachable from the new network namespace,
  // whose loopback is its own. setpriv --pdeathsig and unshare --kill-child:
  // if this process dies, the namespaces' processes die with it.
  const out = join(work, 'systemd');
  mkdirSync(out);
  const before = hostPaths();
  const script = join(root, 'test/e2e/fixtures/install-systemd.sh');
  const ns = ['unshare', '--mount', '--propagation', 'private', '--net', '--pid', '--fork', '--kill-child', '--mount-proc'];
  const r = await run(['setpriv', '--pdeathsig', 'KILL', '--', ...ns, 'sh', script, out, `file://${www}`, readlinkSync('/proc/self/ns/mnt')], {}, true);
  const read = (name: string) => (existsSync(join(out, name)) ? readFileSync(join(out, name), 'utf8') : `(no ${name})`);
  const facts = Object.fromEntries(
    read('facts')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string | undefined>;
  const context = `\nstderr: ${r.stderr}\nfacts:\n${read('facts')}\nsystemctl.log:\n${read('systemctl.log')}\ndaemon.log:\n${read('daemon.log')}`;
  is(r.code, 0, context);
  is(r.stderr, '');

  // Nothing outlived the namespaces, and the real paths are as they were.
  ok(facts['pidns']?.startsWith('pid:[') && facts['mntns']?.startsWith('mnt:['), context);
  is(inNamespace('pid', facts['pidns']!).join(' '), '', 'no process left in the pid namespace');
  is(inNamespace('mnt', facts['mntns']!).join(' '), '', 'no process left in the mount namespace (its tmpfs mounts are gone)');
  is(hostPaths(), before);
  is(read('ps.end').split('\n').filter((l) => /agent/.test(l) && !/install-systemd\.sh/.test(l)).join('\n'), '', 'no daemon left at the end');

  // systemctl, in this order, by each install and by --uninstall.
  const each = ['daemon-reload', 'enable --quiet agent.service', 'restart agent.service'];
  is(read('systemctl.log'), [...each, ...each, 'disable --now --quiet agent.service', 'disable --now --quiet agent.service', 'daemon-reload', ''].join('\n'));

  // A fresh install: the executable, the unit, enabled, the daemon answering.
  is(`${facts['install1.rc']} ${read('install1.err')}`, '0 ');
  match(read('install1.out'), new RegExp(`installed /usr/local/bin/agent: agent version ${version} \\(${exe}\\)\nagent install: agent\\.service enabled and \\(re\\)started`));
  is(read('install1.unit'), readFileSync(join(root, 'packaging/agent.service'), 'utf8'));
  is(facts['install1.wants'], '/etc/systemd/system/agent.service');
  is(facts['install1.state-mode'], '700');
  match(facts['install1.pid'] ?? '', /^\d+$/, context);
  is(facts['install1.version.rc'], '0', read('install1.version'));
  match(read('install1.version'), new RegExp(`\nServer:\n Version:      ${version}\n`));

  // Re-running: renamed into place, and the daemon restarted (a new process; the old one gone).
  is(`${facts['install2.rc']} ${read('install2.err')}`, '0 ');
  match(read('install2.out'), new RegExp(`upgraded /usr/local/bin/agent: ${version} -> ${version} \\(${exe}\\)\nagent install: agent\\.service enabled and \\(re\\)started`));
  ok(facts['install2.ino'] !== facts['install1.ino'], 'a new inode: renamed into place');
  match(facts['install2.pid'] ?? '', /^\d+$/, context);
  ok(facts['install2.pid'] !== facts['install1.pid'], `a new daemon: ${context}`);
  is(facts['install2.old-alive'], 'no', 'the old daemon is gone');
  is(facts['install2.version.rc'], '0', read('install2.version'));
  match(read('install2.version'), new RegExp(`\nServer:\n Version:      ${version}\n`));

  // --uninstall whose stop fails: one line, nothing removed, the daemon still running.
  is(`${facts['stuck.rc']} ${read('stuck.err').trim()}`, '1 agent install: could not stop agent.service (Failed to disable unit: Access denied); nothing removed');
  equal([facts['stuck.binary'], facts['stuck.unit'], facts['stuck.daemon-alive']], ['present', 'present', 'yes']);

  // --uninstall: the daemon stopped, the executable and the unit gone, the state kept.
  is(`${facts['uninstall.rc']} ${read('uninstall.err')}`, '0 ');
  match(read('uninstall.out'), /removed agent; kept \/var\/lib\/agent/);
  is(facts['uninstall.daemon-alive'], 'no');
  is(facts['uninstall.pidfile'], 'gone');
  is(read('uninstall.left'), '', 'nothing left in /usr/local/bin, /usr/local/lib, /etc/systemd/system');
  is(facts['uninstall.state'], '700');
  ok(Number(facts['uninstall.state-files']) > 0, 'the daemon\'s state is kept');

  // Each daemon started once and stopped by SIGTERM (KillMode=process), not killed.
  const log = read('daemon.log');
  is(log.match(/ daemon started /g)?.length, 2, log);
  is(log.match(/ signal received, stopping signal=SIGTERM/g)?.length, 2, log);
  is(log.match(/ daemon stopped/g)?.length, 2, log);
});

t('--bundle: agent.mjs and a wrapper that runs it on this machine\'s node; the executable replaces both later', async () => {
  const B = newRoot();
  const r = await install(B, ['--bundle', '--no-systemd']);
  is(r.code, 0, r.stderr);
  match(r.stdout, /\(agent\.mjs on \/.*node\)/);
  is(files(B).join(' '), 'usr/local/bin/agent usr/local/lib/agent/agent.mjs');
  is(sha256(join(B, 'usr/local/lib/agent/agent.mjs')), sha256(join(rel, 'agent.mjs')));
  match(readFileSync(join(B, 'usr/local/bin/agent'), 'utf8'), /^#!\/bin\/sh\n/);
  is((await run([join(B, 'usr/local/bin/agent'), '--version'], {})).stdout, `agent version ${version}\n`);
  const up = await install(B, ['--no-systemd']);
  is(up.code, 0, up.stderr);
  is(files(B).join(' '), 'usr/local/bin/agent');
  is((await run([join(B, 'usr/local/bin/agent'), '--version'], {})).stdout, `agent version ${version}\n`);
});

t('a release with no executable for this machine installs the bundle', async () => {
  const B = newRoot();
  const r = await install(B, ['--no-systemd'], { AGENT_BASE_URL: `${base}/nobinary` });
  is(r.code, 0, r.stderr);
  match(r.stdout, /\(agent\.mjs on /);
  is((await run([join(B, 'usr/local/bin/agent'), '--version'], {})).stdout, `agent version ${version}\n`);
});

t('the bundle on Deno 2 when Node is absent', async () => {
  const scoped = join(root, 'node_modules/@deno');
  const deno = readdirSync(scoped).map((d) => join(scoped, d, 'deno')).find((p) => existsSync(p));
  ok(deno, 'deno in node_modules');
  const bin = toolDir('bin-deno', [...BASICS, 'curl'], { deno: deno! });
  const B = newRoot();
  const r = await install(B, ['--bundle', '--no-systemd'], { PATH: bin });
  is(r.code, 0, r.stderr);
  match(r.stdout, /\(agent\.mjs on .*deno\)/);
  is((await run([join(B, 'usr/local/bin/agent'), '--version'], { PATH: bin })).stdout, `agent version ${version}\n`);
});

t('no curl and no wget, or no runtime for the bundle: one line, nothing written', async () => {
  const B = newRoot();
  const bare = toolDir('bin-bare', BASICS);
  oneLine(await install(B, [], { PATH: bare }), /needs curl or wget/);
  const curlOnly = toolDir('bin-curl', [...BASICS, 'curl']);
  oneLine(await install(B, ['--bundle'], { PATH: curlOnly }), /^agent install: --bundle: the portable bundle needs Node >= 20 or Deno >= 2 on PATH \(found: neither\)$/);
  oneLine(await install(B, [], { PATH: curlOnly, AGENT_BASE_URL: `${base}/nobinary` }), /no single executable for .* needs Node >= 20 or Deno >= 2/);
  is(readdirSync(B).join(' '), '');
});

t('bad input: one line each', async () => {
  const B = newRoot();
  oneLine(await install(B, ['--frobnicate']), /unknown argument "--frobnicate"/);
  oneLine(await install(B, ['--purge']), /--purge: only together with --uninstall/);
  oneLine(await install(B, [], { AGENT_VERSION: '../etc' }), /AGENT_VERSION: expected a version such as 0\.1\.0, or latest; got "\.\.\/etc"/);
  oneLine(await install(B, [], { AGENT_VERSION: '9.9.9' }), /could not download .*\/9\.9\.9\/SHA256SUMS: curl: \(22\)/);
  oneLine(await install(B, [], { AGENT_BASE_URL: undefined }), /AGENT_BASE_URL is not set/);
  oneLine(await install(B, [], { AGENT_ROOT: 'relative/dir' }), /AGENT_ROOT: expected an absolute path/);
  is(readdirSync(B).join(' '), '');
});

t('release --base-url --no-sea: install.sh finds the release by itself, and it is the bundle', async () => {
  const stamped = join(www, 'stamped', 'latest');
  const r = await run([process.execPath, join(root, 'scripts/release.mjs'), '--no-build', '--no-sea', '--out', stamped, '--base-url', `${base}/stamped/`], {});
  is(r.code, 0, r.stderr);
  is(readdirSync(stamped).sort().join(' '), 'SHA256SUMS agent.mjs agent.service install.sh');
  match(readFileSync(join(stamped, 'install.sh'), 'utf8'), new RegExp(`^DEFAULT_BASE_URL='${base}/stamped'$`, 'm'));
  const B = newRoot();
  const i = await run(['sh', '-c', 'curl -fsSL "$1/stamped/latest/install.sh" | sh -s -- --no-systemd', 'sh', base], { AGENT_ROOT: B });
  is(i.code, 0, i.stderr);
  match(i.stdout, new RegExp(`fetching ${base}/stamped/latest/agent\\.mjs`));
  is((await run([join(B, 'usr/local/bin/agent'), '--version'], {})).stdout, `agent version ${version}\n`);
});

t.run();
