#!/usr/bin/env node
// `npm run release`: build, then lay out one release directory (docs/install.md).
//
//   node scripts/release.mjs [--no-sea] [--no-build] [--out DIR] [--base-url URL]
//
// Writes to DIR (default dist/), beside what the build made:
//
//   agent-linux-<arch>  the single executable (a hard link to dist/agent), unless --no-sea
//   agent.mjs           the portable bundle, for Node >= 20 or Deno 2
//   agent.service       the systemd unit (packaging/agent.service)
//   install.sh          scripts/install.sh; with --base-url, its DEFAULT_BASE_URL
//                       says where releases live, so `curl <base>/install.sh | sh`
//                       needs no AGENT_BASE_URL
//   SHA256SUMS          `sha256sum` format over the four files above
//
// --no-build reuses what `npm run build` left in dist/ (the e2e test lays out
// a release in a temporary directory that way, in a second, without a rebuild).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const args = process.argv.slice(2);
const sea = !args.includes('--no-sea');
const build = !args.includes('--no-build');
const out = resolve(valueOf('--out') ?? dist);
const baseUrl = valueOf('--base-url');
// Names as `uname -m` prints them: install.sh looks for agent-linux-$(uname -m).
const ARCH = { x64: 'x86_64', arm64: 'aarch64' };

function valueOf(flag) {
  const at = args.indexOf(flag);
  if (at < 0) return undefined;
  const v = args[at + 1];
  if (v === undefined || v.startsWith('--')) fail(`${flag}: expected a value`);
  return v;
}

function fail(message) {
  process.stderr.write(`release: ${message}\n`);
  process.exit(1);
}

for (const a of args) {
  if (a.startsWith('--') && !['--no-sea', '--no-build', '--out', '--base-url'].includes(a)) {
    fail(`unknown flag "${a}" (expected --no-sea, --no-build, --out DIR, --base-url URL)`);
  }
}
if (baseUrl !== undefined && !/^https?:\/\/[^\s'"\\$`]+$/.test(baseUrl)) fail(`--base-url: expected an http(s) URL, got "${baseUrl}"`);
const arch = ARCH[process.arch];
if (sea && arch === undefined) fail(`no uname -m name for process.arch "${process.arch}"; use --no-sea`);

if (build) execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), ...(sea ? [] : ['--no-sea'])], { stdio: 'inherit' });
mkdirSync(out, { recursive: true });

/** Place src at out/name: the executable (~100 MB) as a hard link where it can be, the rest as copies. */
function place(src, name, link = false) {
  if (!existsSync(src)) fail(`${src} is missing: run \`npm run build\` first`);
  const dest = join(out, name);
  if (resolve(src) === dest) return;
  rmSync(dest, { force: true });
  if (link) {
    try {
      linkSync(src, dest);
      return;
    } catch {
      // another file system: copy
    }
  }
  copyFileSync(src, dest);
}

const exe = `agent-linux-${arch}`;
const files = [];
if (sea) {
  place(join(dist, 'agent'), exe, true);
  files.push(exe);
} else {
  // A stale executable from an earlier full release must not be served beside sums that omit it.
  for (const name of Object.values(ARCH)) rmSync(join(out, `agent-linux-${name}`), { force: true });
}
place(join(dist, 'agent.mjs'), 'agent.mjs');
place(join(root, 'packaging/agent.service'), 'agent.service');
files.push('agent.mjs', 'agent.service');

let installer = readFileSync(join(root, 'scripts/install.sh'), 'utf8');
if (baseUrl !== undefined) {
  const stamped = installer.replace(/^DEFAULT_BASE_URL=''$/m, `DEFAULT_BASE_URL='${baseUrl.replace(/\/+$/, '')}'`);
  if (stamped === installer) fail("scripts/install.sh has no line DEFAULT_BASE_URL='' to stamp");
  installer = stamped;
}
rmSync(join(out, 'install.sh'), { force: true });
writeFileSync(join(out, 'install.sh'), installer);
chmodSync(join(out, 'install.sh'), 0o755);
files.push('install.sh');

const sums = files
  .sort()
  .map((name) => `${createHash('sha256').update(readFileSync(join(out, name))).digest('hex')}  ${name}\n`)
  .join('');
writeFileSync(join(out, 'SHA256SUMS'), sums);

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
process.stdout.write(`release ${pkg.version} in ${out}: ${[...files, 'SHA256SUMS'].join(', ')}\n`);
