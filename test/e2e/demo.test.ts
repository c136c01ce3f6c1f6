// `agent demo` as a user runs it: it shows the cluster, tears down, and
// leaves no namespace, link, temp dir or process behind, also when the user
// presses Ctrl-C while it keeps the cluster up.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { suite, is, match, ok, equal } from '../harness.js';
import { listOurs } from '../../agent/testbed/index.js';

const mjs = join(process.cwd(), 'dist/agent.mjs');
const t = suite('demo');

interface Run { code: number | null; signal: NodeJS.Signals | null; out: string; pid: number }

function startDemo(args: string[], onOut?: (all: string, kill: (s: NodeJS.Signals) => void) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mjs, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const deadline = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const take = (d: Buffer) => {
      out += d;
      onOut?.(out, (s) => child.kill(s));
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, out, pid: child.pid! });
    });
  });
}

/** The prefix the demo's test bed used: tb<pid base36>-0. */
const prefixOf = (pid: number) => `tb${pid.toString(36)}-0`;

async function nothingLeft(pid: number): Promise<void> {
  const left = await listOurs(prefixOf(pid));
  equal(left, { netns: [], links: [], dirs: [] });
  const { stdout } = await import('node:child_process').then((cp) => ({ stdout: cp.execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }) }));
  ok(!stdout.includes(`--name-prefix ${prefixOf(pid)}-`), 'an agent daemon of the demo is still running');
}

t('agent demo shows hosts, agents, reachability and a partition, then leaves nothing', async () => {
  const r = await startDemo([]);
  is(r.code, 0, r.out);
  match(r.out, /HOST\s+PID\s+RUNTIME\s+VERSION/);
  match(r.out, /Name prefix:\s+tb\w+-0-h0/);
  match(r.out, /h0 -> ?h1 blocked|h0->h1 blocked, h1->h2 ok; healed: h0->h1 ok/);
  match(r.out, /Swarm initialized: current node \(\w+\) is now a manager\./);
  match(r.out, /This node joined a swarm as a manager\./);
  match(r.out, /\w+ \*\s+h0\s+Ready\s+Active\s+Leader/);
  match(r.out, /\s+h2\s+Ready\s+Active\s+\S/);
  match(r.out, /refused the join: invalid join token/);
  match(r.out, /\n  NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n  \w{12}\s+agent_gwbridge\s+bridge\s+local\n(  \w{12}\s+\S+\s+overlay\s+swarm\n){3}/);
  match(r.out, /h2\s+192\.0\.2\.12:7946\s+3\/3\s+\d/);
  match(r.out, /an entry written on h0 is on h2 after \d+ ms:\n\s+KEY\s+VALUE\s+OWNER\n\s+10\.0\.1\.2\s+mac 02:42:0a:00:01:02 vtep h0/);
  match(r.out, /web has 10\.0\.\d+\.\d+ on demo-front \(MTU 1350/);
  match(r.out, /3 packets transmitted, 3 received, 0% packet loss/);
  match(r.out, /this node has endpoints on overlay networks \(client\)/);
  match(r.out, /on demo-secure \(MTU 1318/);
  match(r.out, /NODE\s+STATE\s+LAST HANDSHAKE\s+SENT\s+RECEIVED\n(\s+h[12]\s+up\s.*\n){2}/);
  // The internal overlay: no default route in vault, its peer across hosts answers, the other host's address does not.
  const routes = /h1\$ agent exec vault -- ip -4 route\n((?: {2}.*\n)+)/.exec(r.out)?.[1] ?? '';
  ok(/eth-gw/.test(routes) && !/default/.test(routes), `vault's routes: ${routes}`);
  match(r.out, /2 packets transmitted, 2 received, 0% packet loss/);
  // A task resolves a service by name through exec too (in the task's UTS namespace: its dotted hostname adds no search domain).
  match(r.out, /getent hosts demo-api\n\s+10\.\d+\.\d+\.\d+\s+demo-api\n/);
  match(r.out, /dig \+short tasks\.demo-api\n(\s+10\.\d+\.\d+\.\d+\n){3}/);
  match(r.out, /Network is unreachable/);
  // The routing mesh: 8080 answers through every host, each answer from a task of demo-pub.
  match(r.out, /CURL FROM\s+TO\s+ANSWERED BY.*\n(\s+h\d\s+h\d 192\.0\.2\.\d+:8080\s+demo-pub\.\d(, demo-pub\.\d){2}\n){3}/);
  // Observing: a node's gossip health as the managers see it, and its metrics; then what was shown and where to look next.
  match(r.out, /Gossip:\n\s+State:\s+Healthy\n/);
  match(r.out, /agent_gossip_members\{state="alive"\} 3\n/);
  match(r.out, /What you saw: [\s\S]*Where to look next:\n\s+docs\//);
  match(r.out, /no namespace, link or temp dir of tb\w+-0 is left/);
  await nothingLeft(r.pid);
});

t('Ctrl-C while the demo keeps the cluster up tears everything down', async () => {
  let sent = false;
  const r = await startDemo(['--keep', '--hosts', '2'], (all, kill) => {
    if (!sent && all.includes('Press Ctrl-C')) {
      sent = true;
      kill('SIGINT');
    }
  });
  ok(sent, r.out);
  is(r.code, 130, r.out);
  await nothingLeft(r.pid);
});

t('bad --hosts is one line and exit 2', async () => {
  const r = await startDemo(['--hosts', '40']);
  is(r.code, 2);
  is(r.out, "agent: --hosts: expected an integer from 2 to 9, got 40 (see 'agent --help')\n");
});

t.run();
