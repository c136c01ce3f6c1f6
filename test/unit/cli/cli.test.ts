// The CLI driven the way a user drives it, against a real daemon API on a
// Unix socket in a temp dir (no root needed).
import { mkdtempSync, rmSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { suite, equal, is, ok, match } from '../../harness.js';
import { runCli } from '../../../agent/cli/index.js';
import { Daemon } from '../../../agent/daemon/daemon.js';
import { createLogger } from '../../../agent/daemon/log.js';

interface Captured { code: number; out: string; err: string }

async function cli(...argv: string[]): Promise<Captured> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

const quiet = createLogger({ level: 'error', format: 'text', write: () => {}, nowIso: () => '' });

interface State { dir: string; sock: string; daemon?: Daemon }
const t = suite<State>('cli', { dir: '', sock: '' });

t.before.each((s) => {
  s.dir = mkdtempSync(join(tmpdir(), 'agent-cli-'));
  s.sock = join(s.dir, 'agent.sock');
});
t.after.each(async (s) => {
  await s.daemon?.stop();
  s.daemon = undefined;
  rmSync(s.dir, { recursive: true, force: true });
});

async function startDaemon(s: State): Promise<void> {
  s.daemon = new Daemon({ socketPath: s.sock, stateDir: join(s.dir, 'state'), namePrefix: 'tst', log: quiet });
  await s.daemon.start();
}

t('--version prints one line with the version', async () => {
  const r = await cli('--version');
  is(r.code, 0);
  match(r.out, /^agent version \S+\n$/);
  is(r.err, '');
});

t('--help lists commands grouped like docker, with no command that does not exist', async () => {
  const r = await cli('--help');
  is(r.code, 0);
  match(r.out, /Usage:\s+agent \[OPTIONS\] COMMAND/);
  match(r.out, /\nCommands:\n(  \w+ +.+\n)+/);
  for (const c of ['daemon', 'info', 'network', 'service', 'version']) match(r.out, new RegExp(`\\n  ${c} +\\S`));
  ok(!/\n  (stack|secret|config) /.test(r.out), 'no command that does not exist yet');
});

t('an unknown command is one error line on stderr and exit 2', async () => {
  const r = await cli('-H', 'unix:///nowhere.sock', 'frobnicate');
  is(r.code, 2);
  is(r.out, '');
  is(r.err, "agent: 'frobnicate' is not an agent command (see 'agent --help')\n");
});

t('an unknown flag is one error line and exit 2', async () => {
  const r = await cli('info', '--bogus');
  is(r.code, 2);
  is(r.err.split('\n').length, 2);
  match(r.err, /^agent: Unknown argument: bogus/);
});

t('a bad --host is refused in one line', async () => {
  const r = await cli('-H', 'tcp://1.2.3.4:2375', 'info');
  is(r.code, 2);
  is(r.err, `agent: --host: only unix sockets are supported (unix:///path), got "tcp://1.2.3.4:2375" (see 'agent --help')\n`);
});

t('no daemon: one line naming the socket, exit 1', async (s) => {
  const r = await cli('-H', `unix://${s.sock}`, 'info');
  is(r.code, 1);
  is(r.err, `agent: cannot connect to the agent daemon at unix://${s.sock}: is the daemon running?\n`);
});

t('version shows client and server; without a daemon the client part and an error', async (s) => {
  let r = await cli('-H', `unix://${s.sock}`, 'version');
  is(r.code, 1);
  match(r.out, /^Client:\n Version: /);
  ok(!r.out.includes('Server:'));
  await startDaemon(s);
  r = await cli('-H', `unix://${s.sock}`, 'version');
  is(r.code, 0);
  match(r.out, /Client:[\s\S]*\nServer:\n Version: /);
  r = await cli('-H', `unix://${s.sock}`, 'version', '--format', 'json');
  const j = JSON.parse(r.out) as { Client: { Version: string }; Server: { Version: string } };
  is(j.Client.Version, j.Server.Version);
});

t('info talks to the daemon; --format json is stable; a bad format is an error', async (s) => {
  await startDaemon(s);
  let r = await cli('-H', `unix://${s.sock}`, 'info');
  is(r.code, 0);
  match(r.out, /Name prefix:\s+tst\n/);
  r = await cli('--host', `unix://${s.sock}`, 'info', '--format', 'json');
  const j = JSON.parse(r.out) as { NamePrefix: string; Swarm: { LocalNodeState: string }; Pid: number };
  equal([j.NamePrefix, j.Swarm.LocalNodeState, j.Pid], ['tst', 'inactive', process.pid]);
  r = await cli('-H', `unix://${s.sock}`, 'info', '--format', 'yaml');
  is(r.code, 1);
  is(r.err, 'agent: --format: expected "json", got "yaml"\n');
});

t('AGENT_HOST is the default for --host', async (s) => {
  await startDaemon(s);
  const old = process.env['AGENT_HOST'];
  process.env['AGENT_HOST'] = `unix://${s.sock}`;
  try {
    const r = await cli('info', '--format', 'json');
    is(r.code, 0);
  } finally {
    if (old === undefined) delete process.env['AGENT_HOST'];
    else process.env['AGENT_HOST'] = old;
  }
});

t('daemon: socket is mode 0660, state dir 0700, socket removed on stop', async (s) => {
  await startDaemon(s);
  is(statSync(s.sock).mode & 0o777, 0o660);
  is(statSync(join(s.dir, 'state')).mode & 0o777, 0o700);
  await s.daemon!.stop();
  s.daemon = undefined;
  ok(!existsSync(s.sock));
});

t('daemon: a stale socket file is replaced, a live one is refused', async (s) => {
  writeFileSync(s.sock, '');
  await startDaemon(s);
  const second = new Daemon({ socketPath: s.sock, stateDir: join(s.dir, 'state2'), namePrefix: 'tst', log: quiet });
  let msg = '';
  await second.start().catch((e: Error) => (msg = e.message));
  is(msg, `another agent daemon is already listening on ${s.sock}`);
});

t('daemon: unknown paths are 404 with a JSON message', async (s) => {
  await startDaemon(s);
  const { ApiClient } = await import('../../../agent/api/client.js');
  const c = new ApiClient({ host: `unix://${s.sock}` });
  let err: { message: string; status: number } | undefined;
  await c.get('/nope').catch((e) => (err = e));
  equal([err?.status, err?.message], [404, 'page not found: GET /nope']);
  is(await c.text('/_ping'), 'OK');
});

t('daemon: a listener on the path that is not ours still blocks a second daemon', async (s) => {
  const other = createServer();
  await new Promise<void>((r) => other.listen(s.sock, r));
  try {
    let msg = '';
    await startDaemon(s).catch((e: Error) => (msg = e.message));
    match(msg, /already listening/);
    s.daemon = undefined;
  } finally {
    await new Promise<void>((r) => other.close(() => r()));
  }
});

t('daemon: a bad --name-prefix is refused in one line before anything starts', async (s) => {
  const r = await cli('daemon', '-H', `unix://${s.sock}`, '--state-dir', join(s.dir, 'st'), '--name-prefix', 'Bad_Prefix');
  is(r.code, 2);
  is(r.err, `agent: --name-prefix: expected 1-12 characters of [a-z0-9-] starting with a letter, got "Bad_Prefix" (see 'agent --help')\n`);
  ok(!existsSync(join(s.dir, 'st')));
});

t('daemon: a relative --socket or a bad --hostname is refused in one line before anything starts', async (s) => {
  const r = await cli('daemon', '--socket', 'agent.sock', '--state-dir', join(s.dir, 'st'));
  is(r.code, 2);
  is(r.err, `agent: --socket: expected an absolute path, got "agent.sock" (see 'agent --help')\n`);
  const h = await cli('daemon', '--socket', s.sock, '--state-dir', join(s.dir, 'st'), '--hostname', 'bad_name!');
  is(h.code, 2);
  match(h.err, /^agent: --hostname: expected 1-63 characters/);
  ok(!existsSync(join(s.dir, 'st')));
  ok(!existsSync(s.sock));
});

t.run();
