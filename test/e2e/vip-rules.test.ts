// The VIP rules of agent/discovery/vip-rules.ts in real namespaces (issue 9,
// DESIGN §5). A switch netns holds a bridge; a client netns and three server
// netns hang off it on 10.99.0.0/24. The rules go into the client netns only,
// through hostNftRunner, as the daemon will load them. Each server answers a
// new TCP connection with its name and the peer address it sees, echoes
// lines, and answers UDP the same way; a driver process in the client netns
// opens connections on request and reports what came back.
//
// Everything is named vr<pid>-...: netns only, every link lives inside them,
// nothing is made in the root netns. Teardown kills the processes and deletes
// the netns (links go with them); an exit/signal hook does the same
// synchronously if the test process is ended early, and a run sweeps
// leftovers of dead vr<pid> processes first.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { suite, equal, is, ok, match, eventually } from '../harness.js';
import { run, runSync } from '../../agent/host/run.js';
import { registerLive, unregisterLive } from '../../agent/testbed/cleanup.js';
import { hostNftRunner, VipBalancer } from '../../agent/discovery/vip-balancer.js';
import { nftScript, vipTable, VIP_TABLE, type VipMap } from '../../agent/discovery/vip-rules.js';
import type { ServiceRecord } from '../../agent/discovery/records.js';
import { realClock } from '../../shared/clock.js';
import { createLogger } from '../../agent/daemon/log.js';

const PREFIX = `vr${process.pid}`;
const SW = `${PREFIX}-sw`;
const CLIENT = { netns: `${PREFIX}-c`, ip: '10.99.0.10' };
const SERVERS = [1, 2, 3].map((i) => ({ name: `s${i}`, netns: `${PREFIX}-s${i}`, ip: `10.99.0.${10 + i}` }));
const VIP = '10.99.0.100';
/** A VIP whose service has no running task. */
const DEAD_VIP = '10.99.0.101';
const PORT = 8080;
// 210 draws per check: with p = 1/3 each server lands outside 20-45% with
// probability ~2e-4 (binomial tails), ~0.07% for a whole check of three.
const FLOWS = 210;
/** Children end themselves after this long even if nobody kills them. */
const LIFETIME_MS = 240_000;

const SERVER = `const [name, port, lifeMs] = process.argv.slice(1);
const net = require('net'), dgram = require('dgram');
setTimeout(() => process.exit(2), +lifeMs).unref();
process.stdin.on('end', () => process.exit(0)).resume();
let up = 0;
const ready = () => { if (++up === 2) console.log('ready'); };
net.createServer((s) => {
  s.on('error', () => {});
  s.write(name + ' ' + s.remoteAddress + '\\n');
  s.on('data', (d) => s.write(name + ':' + d));
}).listen(+port, '0.0.0.0', ready);
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => u.send(name + ' ' + r.address, r.port, r.address));
u.bind(+port, '0.0.0.0', ready);`;

// One JSON request per stdin line, one JSON answer per stdout line, in order.
const DRIVER = `const [lifeMs] = process.argv.slice(1);
const net = require('net'), dgram = require('dgram');
setTimeout(() => process.exit(2), +lifeMs).unref();
const held = new Map();
let nextId = 0;
function line(s, ms) {
  return new Promise((res, rej) => {
    let buf = '';
    const done = (f, v) => { clearTimeout(t); s.off('data', onData); s.off('error', onErr); s.off('close', onClose); f(v); };
    const onData = (d) => { buf += d; const i = buf.indexOf('\\n'); if (i >= 0) done(res, buf.slice(0, i)); };
    const onErr = (e) => done(rej, e);
    const onClose = () => done(rej, new Error('closed'));
    const t = setTimeout(() => done(rej, new Error('timeout')), ms);
    s.on('data', onData); s.on('error', onErr); s.on('close', onClose);
  });
}
const connect = (host, port) => { const s = net.connect({ host, port }); s.setEncoding('utf8'); return s; };
const ops = {
  async tcp({ host, port, n }) {
    const out = [];
    for (let i = 0; i < n; i++) {
      const s = connect(host, port);
      try { out.push(await line(s, 2000)); } catch (e) { out.push('error ' + (e.code || e.message)); } finally { s.destroy(); }
    }
    return out;
  },
  async udp({ host, port, n }) {
    // All open at once: n distinct source ports, so n distinct flows.
    const socks = [];
    try {
      for (let i = 0; i < n; i++) { const u = dgram.createSocket('udp4'); socks.push(u); await new Promise((r) => u.bind(0, r)); }
      const out = [];
      for (const u of socks) {
        out.push(await new Promise((res) => {
          const t = setTimeout(() => { u.off('message', on); res('error timeout'); }, 1000);
          const on = (m, r) => { clearTimeout(t); u.off('message', on); res(m.toString() + ' from ' + r.address); };
          u.on('message', on);
          u.send('hi', port, host);
        }));
      }
      return out;
    } finally { for (const u of socks) u.close(); }
  },
  async hold({ host, port }) {
    const s = connect(host, port);
    s.on('error', () => {});
    const greeting = await line(s, 2000);
    held.set(nextId, s);
    return { id: nextId++, greeting };
  },
  async echo({ id, text }) { const s = held.get(id); s.write(text + '\\n'); return await line(s, 2000); },
  async drop() { for (const s of held.values()) s.destroy(); held.clear(); return 'ok'; },
  probeTcp({ host, port }) {
    const t0 = Date.now();
    const s = net.connect({ host, port });
    return new Promise((res) => {
      const t = setTimeout(() => { s.destroy(); res({ code: 'timeout', ms: Date.now() - t0 }); }, 3000);
      s.on('connect', () => { clearTimeout(t); s.destroy(); res({ code: 'connected', ms: Date.now() - t0 }); });
      s.on('error', (e) => { clearTimeout(t); res({ code: e.code, ms: Date.now() - t0 }); });
    });
  },
  probeUdp({ host, port }) {
    // A connected socket hears the ICMP port-unreachable as ECONNREFUSED.
    const t0 = Date.now();
    const u = dgram.createSocket('udp4');
    return new Promise((res) => {
      const end = (v) => { clearTimeout(t); u.close(); res({ ...v, ms: Date.now() - t0 }); };
      const t = setTimeout(() => end({ code: 'timeout' }), 3000);
      u.on('error', (e) => end({ code: e.code }));
      u.on('message', (m) => end({ code: 'answered ' + m }));
      u.connect(port, host, () => u.send('hi'));
    });
  },
};
require('readline').createInterface({ input: process.stdin })
  .on('line', async (l) => {
    const req = JSON.parse(l);
    try { console.log(JSON.stringify({ ok: await ops[req.op](req) })); } catch (e) { console.log(JSON.stringify({ err: e.code || e.message })); }
  })
  .on('close', () => process.exit(0));
console.log('ready');`;

/** A node child in a netns speaking lines on stdio. */
class Child {
  readonly proc: ChildProcess;
  readonly #lines: string[] = [];
  #wake: (() => void) | undefined;
  #exited = false;

  constructor(netns: string, script: string, args: readonly string[]) {
    this.proc = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc.on('exit', () => {
      this.#exited = true;
      this.#wake?.();
    });
    this.proc.stdin!.on('error', () => {});
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      this.#lines.push(l);
      this.#wake?.();
    });
  }

  /** The next stdout line, or a rejection after ms or when the child is gone. */
  async next(ms: number, what: string): Promise<string> {
    const end = performance.now() + ms;
    while (this.#lines.length === 0) {
      if (this.#exited) throw new Error(`${what}: the child exited`);
      const left = end - performance.now();
      if (left <= 0) throw new Error(`${what}: no answer within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return this.#lines.shift()!;
  }

  async ask<T>(req: Record<string, unknown>, ms = 30_000): Promise<T> {
    this.proc.stdin!.write(JSON.stringify(req) + '\n');
    const a = JSON.parse(await this.next(ms, `driver ${String(req.op)}`)) as { ok?: T; err?: string };
    if (a.err !== undefined) throw new Error(`driver ${String(req.op)}: ${a.err}`);
    return a.ok as T;
  }

  /** SIGKILL and wait for the exit (bounded). */
  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.kill('SIGKILL');
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([gone, new Promise<void>((r) => (t = setTimeout(r, 5_000)))]);
    clearTimeout(t);
  }
}

const NETNS = [SW, CLIENT.netns, ...SERVERS.map((s) => s.netns)];

async function listNetns(): Promise<string[]> {
  return (await run(['ip', 'netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.trim().split(' ')[0] ?? '')
    .filter((n) => n !== '');
}

/** Netns of vr<pid> processes that are gone (a SIGKILLed earlier run), and our own pid's. */
async function sweep(): Promise<void> {
  for (const n of await listNetns()) {
    const pid = /^vr(\d+)-/.exec(n)?.[1];
    if (pid === undefined) continue;
    let alive = Number(pid) !== process.pid;
    if (alive) {
      try {
        process.kill(Number(pid), 0);
      } catch {
        alive = false;
      }
    }
    if (!alive) await run(['ip', 'netns', 'del', n], { allowFail: true });
  }
}

interface World {
  servers: Child[];
  driver: Child | undefined;
  destroySync(): void;
  destroy(): Promise<void>;
}

function newWorld(): World {
  const w: World = {
    servers: [],
    driver: undefined,
    destroySync() {
      for (const c of [...w.servers, ...(w.driver ? [w.driver] : [])]) c.proc.kill('SIGKILL');
      for (const n of NETNS) runSync(['ip', 'netns', 'del', n], { allowFail: true });
    },
    async destroy() {
      for (const c of [...w.servers, ...(w.driver ? [w.driver] : [])]) await c.kill();
      for (const n of NETNS) await run(['ip', 'netns', 'del', n], { allowFail: true });
      unregisterLive(w);
    },
  };
  return w;
}

async function build(w: World): Promise<void> {
  await sweep();
  for (const n of NETNS) await run(['ip', 'netns', 'add', n]);
  await run(['ip', '-n', SW, 'link', 'add', 'br0', 'type', 'bridge']);
  await run(['ip', '-n', SW, 'link', 'set', 'br0', 'up']);
  for (const h of [{ name: 'c', ...CLIENT }, ...SERVERS]) {
    await run(['ip', '-n', SW, 'link', 'add', `p-${h.name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns]);
    await run(['ip', '-n', SW, 'link', 'set', `p-${h.name}`, 'master', 'br0', 'up']);
    await run(['ip', '-n', h.netns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
    await run(['ip', '-n', h.netns, 'link', 'set', 'eth0', 'up']);
    await run(['ip', '-n', h.netns, 'link', 'set', 'lo', 'up']);
  }
  for (const s of SERVERS) w.servers.push(new Child(s.netns, SERVER, [s.name, String(PORT), String(LIFETIME_MS)]));
  w.driver = new Child(CLIENT.netns, DRIVER, [String(LIFETIME_MS)]);
  for (const c of [...w.servers, w.driver]) is(await c.next(10_000, 'startup'), 'ready');
  // The bridge forwards once its ports leave the learning states; wait on traffic, not a sleep.
  await eventually(async () => (await w.driver!.ask<string[]>({ op: 'tcp', host: SERVERS[0]!.ip, port: PORT, n: 1 }))[0]!.startsWith('s1 '), 10_000, 'the client reaching s1');
}

const nft = hostNftRunner({ timeoutMs: 10_000 });
const apply = (m: VipMap): Promise<void> => nft(CLIENT.netns, nftScript(m));
const backends = (names: readonly string[]) => SERVERS.filter((s) => names.includes(s.name)).map((s) => s.ip);
const listTable = async (netns: string): Promise<string> => (await run(['nft', 'list', 'table', 'ip', VIP_TABLE], { netns })).stdout;

/** Server name -> how many of the answers came from it; also checks each answer's shape. */
function tally(answers: readonly string[], re: RegExp): Map<string, number> {
  const n = new Map<string, number>();
  for (const a of answers) {
    const m = re.exec(a);
    ok(m, `unexpected answer ${JSON.stringify(a)}`);
    n.set(m![1]!, (n.get(m![1]!) ?? 0) + 1);
  }
  return n;
}

function spreadOk(counts: Map<string, number>, total: number, names: readonly string[]): void {
  equal([...counts.keys()].sort(), [...names].sort(), `servers hit: ${JSON.stringify([...counts])}`);
  for (const [name, c] of counts) ok(c >= 0.2 * total && c <= 0.45 * total, `${name} got ${c} of ${total}: ${JSON.stringify([...counts])}`);
}

interface Ctx {
  w?: World;
}
const t = suite<Ctx>('vip-rules (root)', {});

t.before(async (ctx) => {
  const w = newWorld();
  registerLive(w);
  try {
    await build(w);
  } catch (e) {
    await w.destroy();
    throw e;
  }
  ctx.w = w;
});

t.after(async (ctx) => {
  await ctx.w?.destroy();
});

const driverOf = (ctx: Ctx): Child => {
  if (!ctx.w?.driver) throw new Error('no topology');
  return ctx.w.driver;
};

t('the script loads on a fresh netns and again over itself (idempotent); an empty map leaves only the conntrack anchor', async () => {
  const m: VipMap = new Map([[VIP, backends(['s1', 's2', 's3'])]]);
  const fresh = SERVERS[2]!.netns;
  await nft(fresh, nftScript(m));
  const once = await listTable(fresh);
  await nft(fresh, nftScript(m));
  is(await listTable(fresh), once);
  ok(once.includes(`ip daddr ${VIP} numgen random mod 3 vmap { 0 : goto be_10_99_0_100_0, 1 : goto be_10_99_0_100_1, 2 : goto be_10_99_0_100_2 }`), once);
  ok(once.includes('counter packets 0 bytes 0 dnat to 10.99.0.13'), once);
  await nft(fresh, nftScript(new Map()));
  // nft versions print the priority as -100 or dstnat.
  match((await listTable(fresh)).replace(/\s+/g, ' ').trim(), /^table ip agent_lb \{ chain vip_dnat \{ type nat hook output priority (-100|dstnat); policy accept; ct state new counter packets 0 bytes 0 \} \}$/);
  await run(['nft', 'delete', 'table', 'ip', VIP_TABLE], { netns: fresh });
});

t('a transaction that fails leaves the previous rules whole (atomic), and the error is one line from nft', async () => {
  const m1: VipMap = new Map([[VIP, backends(['s1', 's2'])]]);
  await apply(m1);
  const before = await listTable(CLIENT.netns);
  // A valid replacement followed by a command the kernel refuses (the table exists now): all or nothing.
  const bad = nftScript(new Map([[VIP, backends(['s3'])]])) + `create table ip ${VIP_TABLE}\n`;
  let err = '';
  await nft(CLIENT.netns, bad).catch((e: Error) => (err = e.message));
  ok(/^ip netns exec vr\d+-c nft -f -: \/dev\/stdin:\d+:\d+-\d+: Error: Could not process rule: File exists$/.test(err), err);
  is(await listTable(CLIENT.netns), before);
});

t(`new TCP connections to the VIP spread over the three servers (20-45% each of ${FLOWS}); servers see the client's own address`, async (ctx) => {
  await apply(new Map([[VIP, backends(['s1', 's2', 's3'])]]));
  const answers = await driverOf(ctx).ask<string[]>({ op: 'tcp', host: VIP, port: PORT, n: FLOWS });
  spreadOk(tally(answers, /^(s[123]) 10\.99\.0\.10$/), FLOWS, ['s1', 's2', 's3']);
});

t(`UDP flows spread too (${FLOWS} source ports); replies come back from the VIP`, async (ctx) => {
  await apply(new Map([[VIP, backends(['s1', 's2', 's3'])]]));
  const answers = await driverOf(ctx).ask<string[]>({ op: 'udp', host: VIP, port: PORT, n: FLOWS });
  spreadOk(tally(answers, /^(s[123]) 10\.99\.0\.10 from 10\.99\.0\.100$/), FLOWS, ['s1', 's2', 's3']);
});

t('open connections survive re-applying the rules without s3 (even the one to s3) and without the VIP; s3 gets no new connection', async (ctx) => {
  const d = driverOf(ctx);
  await apply(new Map([[VIP, backends(['s1', 's2', 's3'])]]));
  // Hold one connection to each server (bounded: 60 tries).
  const held = new Map<string, number>();
  for (let i = 0; i < 60 && held.size < 3; i++) {
    const h = await d.ask<{ id: number; greeting: string }>({ op: 'hold', host: VIP, port: PORT });
    const name = h.greeting.split(' ')[0]!;
    if (!held.has(name)) held.set(name, h.id);
  }
  equal([...held.keys()].sort(), ['s1', 's2', 's3']);
  for (const [name, id] of held) is(await d.ask({ op: 'echo', id, text: 'before' }), `${name}:before`);

  await apply(new Map([[VIP, backends(['s1', 's2'])]]));
  for (const [name, id] of held) is(await d.ask({ op: 'echo', id, text: 'after' }), `${name}:after`);

  const answers = await d.ask<string[]>({ op: 'tcp', host: VIP, port: PORT, n: 60 });
  const counts = tally(answers, /^(s[12]) 10\.99\.0\.10$/);
  equal([...counts.keys()].sort(), ['s1', 's2']);

  // The VIP gone altogether (the service removed): the ct anchor keeps conntrack on, so open flows stay translated.
  await apply(new Map());
  for (const [name, id] of held) is(await d.ask({ op: 'echo', id, text: 'gone' }), `${name}:gone`);
  await d.ask({ op: 'drop' });
});

t('a VIP with no backend is refused at once: TCP reset, UDP port unreachable; the live VIP still works', async (ctx) => {
  const d = driverOf(ctx);
  await apply(new Map([
    [VIP, backends(['s1'])],
    [DEAD_VIP, []],
  ]));
  const tcp = await d.ask<{ code: string; ms: number }>({ op: 'probeTcp', host: DEAD_VIP, port: PORT });
  is(tcp.code, 'ECONNREFUSED');
  ok(tcp.ms < 1000, `refused after ${tcp.ms} ms`);
  const udp = await d.ask<{ code: string; ms: number }>({ op: 'probeUdp', host: DEAD_VIP, port: PORT });
  is(udp.code, 'ECONNREFUSED');
  ok(udp.ms < 1000, `refused after ${udp.ms} ms`);
  equal(await d.ask({ op: 'tcp', host: VIP, port: PORT, n: 3 }), ['s1 10.99.0.10', 's1 10.99.0.10', 's1 10.99.0.10']);
  equal((await d.ask<{ code: string }>({ op: 'probeUdp', host: VIP, port: PORT })).code, 'answered s1 10.99.0.10');
});

t('VipBalancer with the real runner: records in, rules in the client netns within the settle window, a withdrawn task leaves them', async (ctx) => {
  const d = driverOf(ctx);
  const records: ServiceRecord[] = SERVERS.slice(0, 2).map((s, i) => ({ name: `web.${i + 1}.t${i}`, ip: s.ip, service: 'web', vip: VIP }));
  const view = { records: (nid: string) => (nid === 'front' ? records : []), networkId: () => undefined };
  equal(Object.fromEntries(vipTable(['front'], view)), { [VIP]: ['10.99.0.11', '10.99.0.12'] });
  let applied = 0;
  const lines: string[] = [];
  const b = new VipBalancer({
    view,
    endpoints: () => [{ netns: CLIENT.netns, networks: ['front'] }],
    run: async (netns, script) => {
      await nft(netns, script);
      applied++;
    },
    clock: realClock(),
    log: createLogger({ level: 'info', format: 'text', write: (l) => void lines.push(l), nowIso: () => 'T' }),
  });
  try {
    b.changed();
    await eventually(async () => applied === 1, 5_000, 'the first apply');
    const first = tally(await d.ask<string[]>({ op: 'tcp', host: VIP, port: PORT, n: 30 }), /^(s[12]) 10\.99\.0\.10$/);
    equal([...first.keys()].sort(), ['s1', 's2']);

    records.splice(1, 1);
    b.changed();
    await eventually(async () => applied === 2, 5_000, 'the second apply');
    equal(await d.ask({ op: 'tcp', host: VIP, port: PORT, n: 5 }), Array(5).fill('s1 10.99.0.10'));
    equal(lines, []);
  } finally {
    b.close();
  }
});

t('teardown removes every netns and process it made', async (ctx) => {
  const w = ctx.w!;
  await w.destroy();
  ctx.w = undefined;
  for (const c of [...w.servers, w.driver!]) ok(c.proc.exitCode !== null || c.proc.signalCode !== null, 'a child still runs');
  equal((await listNetns()).filter((n) => n.startsWith(`${PREFIX}-`)), []);
});

t.run();
