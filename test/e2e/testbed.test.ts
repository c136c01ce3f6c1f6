// The test bed itself, on real namespaces: connectivity on both underlays,
// MTU, impairments, partitions, agents, and above all that teardown leaves
// nothing behind (destroy, SIGTERM, SIGKILL + sweepStale).
//
// Run as a child with TESTBED_TEST_CHILD=1, this file instead creates a bed,
// prints what it made as one JSON line and waits to be signalled.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, ok, is, equal } from '../harness.js';
import { TestBed, NEEDS_ROOT, listOurs, sweepStale, type Host, type AgentProcess } from '../../agent/testbed/index.js';
import { pidAlive } from '../../agent/testbed/processes.js';
import { run } from '../../agent/host/run.js';

const CHILD_ENV = 'TESTBED_TEST_CHILD';
const FAKE_AGENT = [process.execPath, join(process.cwd(), 'test/e2e/fixtures/fake-daemon.mjs')];
// The built agent, when there is one (TESTBED_AGENT_MJS points at another build).
const REAL_AGENT = process.env.TESTBED_AGENT_MJS ?? join(process.cwd(), 'dist/agent.mjs');

// This file's own bundled code, for starting it again in child mode.
const SELF_SOURCE = process.env[CHILD_ENV] === '1' ? '' : readFileSync(process.argv[1] ?? '', 'utf8');

interface ChildReport {
  prefix: string;
  pids: number[];
}

/** Resolve once fn resolves true, polling every 50 ms; reject after deadlineMs. */
async function eventually(fn: () => Promise<boolean>, deadlineMs: number, what: string): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (!(await fn())) {
    if (performance.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise<void>((r) => setTimeout(r, 50));
  }
}

async function pings(bed: TestBed, from: Host, to: string, extra: string[] = []): Promise<boolean> {
  const r = await bed.exec(from, ['ping', '-n', '-c1', '-W0.5', ...extra, to], { allowFail: true });
  return r.code === 0;
}

// TCP connect from a host: exit 0 on connect, 1 on error or after timeoutMs of silence.
const TCP_CLIENT = `const s=require('net').connect(+process.argv[2],process.argv[1]);
s.setTimeout(+process.argv[3],()=>process.exit(1));s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));`;
// Clients hang up at once, so the server must shrug off ECONNRESET.
const TCP_SERVER = `require('net').createServer((s)=>{s.on('error',()=>{});s.end('hi');}).listen(+process.argv[1],'0.0.0.0');`;
// UDP: the receiver exits 0 on the first datagram, 1 after timeoutMs; the sender sends one every 50 ms.
const UDP_RECEIVER = `const s=require('dgram').createSocket('udp4');s.on('message',()=>process.exit(0));
s.bind(+process.argv[1]);setTimeout(()=>process.exit(1),+process.argv[2]);`;
const UDP_SENDER = `const s=require('dgram').createSocket('udp4');let n=0;
const t=setInterval(()=>{s.send('x',+process.argv[2],process.argv[1]);if(++n===+process.argv[3]){clearInterval(t);s.close();}},50);`;

async function tcpConnects(bed: TestBed, from: Host, to: string, port: number): Promise<boolean> {
  const r = await bed.exec(from, [process.execPath, '-e', TCP_CLIENT, to, `${port}`, '700'], { allowFail: true });
  return r.code === 0;
}

async function udpArrives(bed: TestBed, from: Host, to: Host): Promise<boolean> {
  const [recv] = await Promise.all([
    bed.exec(to, [process.execPath, '-e', UDP_RECEIVER, '7001', '1500'], { allowFail: true }),
    bed.exec(from, [process.execPath, '-e', UDP_SENDER, to.ip, '7001', '20']),
  ]);
  return recv.code === 0;
}

function rootLinks(): Promise<string> {
  return run(['ip', '-o', 'link', 'show']).then((r) => r.stdout.replace(/^(\d+: \S+).*$/gm, '$1'));
}

const empty = { netns: [], links: [], dirs: [] };

/** Child mode: a bed with an agent, a tracked process and an orphan in it; report, then wait for a signal. */
async function holdBed(): Promise<void> {
  const bed = await TestBed.create({ hosts: 2 });
  const [h0, h1] = bed.hosts as [Host, Host];
  const agent = await bed.startAgent(h0, { agentCmd: FAKE_AGENT });
  const sleeper = bed.spawn(h1, ['sleep', '300']);
  const orphan = await bed.exec(h1, ['sh', '-c', 'sleep 300 >/dev/null 2>&1 & echo $!']);
  const report: ChildReport = { prefix: bed.prefix, pids: [agent.pid, sleeper.pid, Number(orphan.stdout.trim())] };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  setInterval(() => {}, 60_000);
}

/** Starts this file in child mode and resolves with its report and its exit. */
async function startChild(): Promise<{ report: ChildReport; kill: (s: NodeJS.Signals) => void; exited: Promise<{ code: number | null; signal: string | null }> }> {
  // Fed on stdin from the copy read at load: the bundle on disk may be replaced
  // by a concurrent test run while this one is going.
  const child = spawn(process.execPath, ['--input-type=module', '-'], { env: { ...process.env, [CHILD_ENV]: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(SELF_SOURCE);
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const report = await new Promise<ChildReport>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) resolve(JSON.parse(line) as ChildReport);
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before reporting: ${err.trim()}`)));
  });
  return { report, kill: (s) => child.kill(s), exited };
}

if (process.env[CHILD_ENV] === '1') {
  await holdBed();
} else {
  const t = suite<{ bed?: TestBed; rootBefore?: string }>('testbed', {});

  t.before(async (ctx) => {
    ctx.rootBefore = await rootLinks();
    ctx.bed = await TestBed.create({ hosts: 3, secondUnderlay: true });
  });
  t.after(async (ctx) => {
    await ctx.bed?.destroy();
  });

  t('run: no shell, stdin input, netns wrapping, one-line errors naming the command and its first stderr line', async ({ bed }) => {
    if (!bed) throw new Error('no bed');
    equal(await run(['cat'], { input: '$(echo not a shell)' }), { code: 0, stdout: '$(echo not a shell)', stderr: '' });
    is((await run(['ip', '-o', 'addr', 'show', 'eth0'], { netns: bed.hosts[0]!.netns })).stdout.includes('192.0.2.10/24'), true);
    const failed = await run(['sh', '-c', 'echo first >&2; echo second >&2; exit 3']).catch((e: Error) => e.message);
    is(failed, 'sh -c "echo first >&2; echo second >&2; exit 3": first');
    is((await run(['sh', '-c', 'exit 3'], { allowFail: true })).code, 3);
    is(await run(['no-such-tool-anywhere']).catch((e: Error) => e.message), 'no-such-tool-anywhere: command not found');
    is(await run(['sleep', '5'], { timeoutMs: 100 }).catch((e: Error) => e.message), 'sleep 5: timed out after 100 ms');
  });

  t('a bed refuses to run as non-root, in one line, creating nothing', async () => {
    const err = await TestBed.create({ hosts: 1, uid: 1000, prefix: 'tbnoroot' }).catch((e: Error) => e);
    ok(err instanceof Error);
    is(err.message, 'the test bed needs root (network namespaces): run as root');
    is(err.message, NEEDS_ROOT);
    equal(await listOurs('tbnoroot'), empty);
  });

  t('every host reaches every other on both underlays; the root netns gains nothing', async ({ bed, rootBefore }) => {
    if (!bed) throw new Error('no bed');
    const pairs = bed.hosts.flatMap((a) => bed.hosts.filter((b) => b !== a).map((b) => [a, b] as const));
    const results = await Promise.all(
      pairs.flatMap(([a, b]) => [pings(bed, a, b.ip), pings(bed, a, b.ip2 ?? 'missing')]),
    );
    equal(results, results.map(() => true));
    is(await rootLinks(), rootBefore);
    const ours = await listOurs(bed.prefix);
    equal(ours.links, []);
    equal(ours.netns.sort(), [`${bed.prefix}-h0`, `${bed.prefix}-h1`, `${bed.prefix}-h2`, `${bed.prefix}-sw`]);
    is((await bed.exec(bed.hosts[0]!, ['ip', '-o', 'addr', 'show', 'lo'])).stdout.includes('127.0.0.1'), true);
  });

  t('MTU is applied per host, on both ends of its link', async ({ bed }) => {
    if (!bed) throw new Error('no bed');
    const [h0, h1] = bed.hosts as [Host, Host];
    is(await pings(bed, h0, h1.ip, ['-M', 'do', '-s', `${1400 - 28}`]), true);
    is(await pings(bed, h0, h1.ip, ['-M', 'do', '-s', `${1400 - 27}`]), false);
    await bed.setMtu(h1, 1300);
    try {
      is(h1.mtu, 1300);
      is(await pings(bed, h1, h0.ip, ['-M', 'do', '-s', `${1300 - 28}`]), true);
      is(await pings(bed, h1, h0.ip, ['-M', 'do', '-s', `${1300 - 27}`]), false);
      // h0 still sends 1400-byte packets; h1's link drops them on the way in.
      is(await pings(bed, h0, h1.ip, ['-M', 'do', '-s', `${1400 - 28}`]), false);
      is(await pings(bed, h0, h1.ip2 ?? '', ['-M', 'do', '-s', `${1300 - 28}`]), true);
    } finally {
      await bed.setMtu(h1, 1400);
    }
    is(await pings(bed, h0, h1.ip, ['-M', 'do', '-s', `${1400 - 28}`]), true);
  });

  t('netem: loss drops that host\'s frames at the switch; delay shows in the RTT where the kernel has netem', async ({ bed }) => {
    if (!bed) throw new Error('no bed');
    const [h0, h1, h2] = bed.hosts as [Host, Host, Host];
    await bed.netem(h0, { lossPct: 100 });
    is(await pings(bed, h1, h0.ip), false);
    is(await pings(bed, h1, h2.ip), true);
    await bed.netem(h0, { lossPct: 50 });
    const r = await bed.exec(h1, ['ping', '-n', '-q', '-c50', '-i0.002', '-W0.3', h0.ip], { allowFail: true });
    const received = Number(/(\d+) received/.exec(r.stdout)?.[1] ?? NaN);
    ok(received > 5 && received < 45, `50% loss let ${received}/50 through`);
    await bed.netem(h0, null);
    is(await pings(bed, h1, h0.ip), true);

    if (await bed.netemAvailable()) {
      await bed.netem(h0, { delayMs: 100 });
      const slow = await bed.exec(h1, ['ping', '-n', '-c1', '-W2', h0.ip]);
      const rtt = Number(/time=([\d.]+) ms/.exec(slow.stdout)?.[1] ?? NaN);
      ok(rtt >= 100, `rtt ${rtt} ms with 100 ms delay`);
      await bed.netem(h0, null);
      const fast = await bed.exec(h1, ['ping', '-n', '-c1', '-W2', h0.ip]);
      ok(Number(/time=([\d.]+) ms/.exec(fast.stdout)?.[1] ?? NaN) < 50);
    } else {
      const err = await bed.netem(h0, { delayMs: 100 }).catch((e: Error) => e);
      ok(err instanceof Error && err.message.includes('sch_netem'), String(err));
      process.stdout.write('  (this kernel has no sch_netem: delay checked to fail with one clear line)\n');
    }
  });

  t('partition blocks ping, TCP and UDP between the sides on every underlay, others unaffected; heal restores', async ({ bed }) => {
    if (!bed) throw new Error('no bed');
    const [h0, h1, h2] = bed.hosts as [Host, Host, Host];
    const server = bed.spawn(h1, [process.execPath, '-e', TCP_SERVER, '7000']);
    try {
      await eventually(() => tcpConnects(bed, h2, h1.ip, 7000), 5_000, 'the TCP server on h1');
      await bed.partition([h0], [h1, h2]);
      const cut = await Promise.all([
        pings(bed, h0, h1.ip),
        pings(bed, h1, h0.ip),
        pings(bed, h0, h2.ip2 ?? ''),
        pings(bed, h2, h0.ip2 ?? ''),
        tcpConnects(bed, h0, h1.ip, 7000),
        udpArrives(bed, h1, h0),
      ]);
      equal({ cut }, { cut: [false, false, false, false, false, false] });
      const intact = await Promise.all([pings(bed, h1, h2.ip), pings(bed, h2, h1.ip2 ?? ''), tcpConnects(bed, h2, h1.ip, 7000)]);
      equal({ intact }, { intact: [true, true, true] });
      await bed.heal();
      const healed = await Promise.all([pings(bed, h0, h1.ip), pings(bed, h2, h0.ip2 ?? ''), tcpConnects(bed, h0, h1.ip, 7000)]);
      equal({ healed }, { healed: [true, true, true] });

      // One way: h0 can no longer send to h1, but still hears h1.
      await bed.block(h0, h1);
      equal(await Promise.all([udpArrives(bed, h0, h1), udpArrives(bed, h1, h0), udpArrives(bed, h0, h2)]), [false, true, true]);
      await bed.heal();
      is(await udpArrives(bed, h0, h1), true);
    } finally {
      await server.stop();
    }
  });

  t('startAgent waits for /_ping; cli and api reach it; stop ends it; a restart keeps its dir', async ({ bed }) => {
    if (!bed) throw new Error('no bed');
    const [h0] = bed.hosts as [Host];
    let agent: AgentProcess | undefined = await bed.startAgent(h0, { agentCmd: FAKE_AGENT });
    try {
      const v = await agent.cli(['version']);
      equal([v.code, v.stdout.trim()], [0, 'Version: 0.0.0-fake']);
      const info = JSON.parse((await agent.api('GET', '/version')).body) as { NamePrefix: string; Pid: number };
      equal([info.NamePrefix, info.Pid], [`${bed.prefix}-h0`, agent.pid]);
      ok(existsSync(join(agent.stateDir, 'pid')));
      const firstPid = agent.pid;
      is((await agent.stop()).code, 0);
      is(agent.running, false);
      ok(!pidAlive(firstPid));
      agent = await bed.startAgent(h0, { agentCmd: FAKE_AGENT });
      ok(agent.pid !== firstPid);
      ok(readFileSync(agent.logPath, 'utf8').split('listening').length === 3, 'one log across both runs');
    } finally {
      await agent?.stop();
    }
  });

  t('an agent that dies before answering fails startAgent with one line holding its log', async ({ bed }) => {
    if (!bed) throw new Error('no bed');
    const err = await bed
      .startAgent(bed.hosts[1]!, { agentCmd: FAKE_AGENT, env: { ...process.env, FAKE_DAEMON_FAIL: 'boom: cannot bind 2377' } })
      .catch((e: Error) => e);
    ok(err instanceof Error);
    is(err.message, 'agent h1: exited (code 3) before answering GET /_ping; log: boom: cannot bind 2377');
  });

  if (existsSync(REAL_AGENT)) {
    t('the real agent (dist/agent.mjs) starts in a bed and answers its CLI', async ({ bed }) => {
      if (!bed) throw new Error('no bed');
      const agent = await bed.startAgent(bed.hosts[2]!, { agentCmd: [process.execPath, REAL_AGENT] });
      try {
        const v = await agent.cli(['version']);
        is(v.code, 0, v.stderr);
        ok(v.stdout.trim() !== '');
      } finally {
        await agent.stop();
      }
    });
  }

  t('destroy ends every process in the bed (tracked, agent, orphan) and leaves nothing; it is idempotent', async () => {
    const bed = await TestBed.create({ hosts: 2, mtu: 1300 });
    const [h0, h1] = bed.hosts as [Host, Host];
    const sleeper = bed.spawn(h0, ['sleep', '300']);
    const agent = await bed.startAgent(h1, { agentCmd: FAKE_AGENT });
    const orphan = Number((await bed.exec(h1, ['sh', '-c', 'sleep 300 >/dev/null 2>&1 & echo $!'])).stdout.trim());
    ok(pidAlive(sleeper.pid) && pidAlive(agent.pid) && pidAlive(orphan));
    ok((await listOurs(bed.prefix)).dirs.length === 1);
    await bed.destroy();
    equal([pidAlive(sleeper.pid), pidAlive(agent.pid), pidAlive(orphan)], [false, false, false]);
    equal(await listOurs(bed.prefix), empty);
    await bed.destroy();
  });

  t('a process holding a bed and sent SIGTERM exits 143 and leaves nothing behind', async () => {
    const child = await startChild();
    ok(child.report.pids.every(pidAlive));
    ok((await listOurs(child.report.prefix)).netns.length === 3);
    child.kill('SIGTERM');
    equal(await child.exited, { code: 143, signal: null });
    equal(await listOurs(child.report.prefix), empty);
    equal(child.report.pids.map(pidAlive), [false, false, false]);
  });

  t('a SIGKILLed holder leaves leftovers that sweepStale removes, never touching a live bed', async ({ bed }) => {
    if (!bed) throw new Error('no bed');
    const child = await startChild();
    child.kill('SIGKILL');
    equal(await child.exited, { code: null, signal: 'SIGKILL' });
    const left = await listOurs(child.report.prefix);
    is(left.netns.length, 3);
    ok(child.report.pids.every(pidAlive), 'the agent and sleepers outlive their SIGKILLed parent');
    const swept = await sweepStale();
    ok(swept.includes(child.report.prefix), `swept ${swept.join(', ')}`);
    ok(!swept.includes(bed.prefix));
    equal(await listOurs(child.report.prefix), empty);
    equal(child.report.pids.map(pidAlive), [false, false, false]);
    is((await listOurs(bed.prefix)).netns.length, 4);
  });

  t.run();
}
