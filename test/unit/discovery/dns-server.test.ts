// The embedded DNS server over real sockets on 127.0.0.1 (ephemeral ports),
// with a ManualClock for every timeout so nothing waits on wall time.
import dnsPacket from 'dns-packet';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { suite, equal, is, ok, until } from '../../harness.js';
import { ManualClock, realClock } from '../../../shared/clock.js';
import { seededRand } from '../../../shared/rand.js';
import { DnsServer, MAX_FORWARDS_IN_FLIGHT, TCP_IDLE_MS, type DnsServerOptions, type DnsStats } from '../../../agent/discovery/dns-server.js';
import type { DiscoveryView } from '../../../agent/discovery/records.js';
import { viewOf, bigRrView, FRONT_FIRST, quietLog } from './dns-fixtures.js';

const t = suite('dns-server');
type Decoded = dnsPacket.DecodedPacket & { rcode?: string };
type Upstream = { host: string; port: number };

async function start(o: Partial<DnsServerOptions> = {}): Promise<{ server: DnsServer; clock: ManualClock }> {
  const clock = new ManualClock();
  const server = await DnsServer.start({
    address: '127.0.0.1',
    port: 0,
    view: viewOf(),
    askerOf: (ip) => (ip === '127.0.0.1' ? FRONT_FIRST : undefined),
    upstreams: () => [],
    rand: seededRand(11),
    clock,
    log: quietLog,
    ...o,
  });
  return { server, clock };
}

function q(name: string, type: dnsPacket.RecordType = 'A', id = 0x1234, extra: Partial<dnsPacket.Packet> = {}): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }], ...extra });
}

/** A UDP client that keeps every reply it gets. */
class UdpClient {
  readonly replies: Buffer[] = [];
  readonly sock: UdpSocket = createSocket('udp4');
  constructor(readonly port: number) {
    this.sock.on('message', (m) => this.replies.push(m));
  }
  send(m: Buffer): void {
    this.sock.send(m, this.port, '127.0.0.1');
  }
  async next(n = this.replies.length + 1): Promise<Decoded> {
    await until(() => this.replies.length >= n, 2000, `reply ${n}`);
    return dnsPacket.decode(this.replies[n - 1]!);
  }
  close(): Promise<void> {
    return new Promise((r) => this.sock.close(() => r()));
  }
}

async function udpAsk(port: number, m: Buffer): Promise<Decoded> {
  const c = new UdpClient(port);
  try {
    c.send(m);
    return await c.next();
  } finally {
    await c.close();
  }
}

function frame(m: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(m.length);
  return Buffer.concat([len, m]);
}

/** A TCP client reading length-framed replies. */
class TcpClient {
  readonly replies: Buffer[] = [];
  closed = false;
  #buf = Buffer.alloc(0);
  readonly sock: Socket;
  constructor(port: number) {
    this.sock = connect({ host: '127.0.0.1', port });
    this.sock.on('error', () => {});
    this.sock.on('close', () => (this.closed = true));
    this.sock.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      while (this.#buf.length >= 2 && this.#buf.length >= 2 + this.#buf.readUInt16BE(0)) {
        this.replies.push(this.#buf.subarray(2, 2 + this.#buf.readUInt16BE(0)));
        this.#buf = this.#buf.subarray(2 + this.#buf.readUInt16BE(0));
      }
    });
  }
  async connected(): Promise<void> {
    if (this.sock.readyState === 'open') return;
    await new Promise<void>((r) => this.sock.once('connect', () => r()));
  }
  async all(n: number): Promise<Decoded[]> {
    await until(() => this.replies.length >= n, 2000, `${n} tcp replies`);
    return this.replies.map((r) => dnsPacket.decode(r));
  }
  async close(): Promise<void> {
    this.sock.destroy();
    await until(() => this.closed, 2000, 'tcp client closed');
  }
}

/** A fake upstream resolver: UDP and TCP on one port; handlers decide per query (undefined: stay silent). */
class FakeUpstream {
  readonly udpSeen: dnsPacket.DecodedPacket[] = [];
  readonly tcpSeen: dnsPacket.DecodedPacket[] = [];
  readonly udp: UdpSocket = createSocket('udp4');
  tcp: Server | undefined;
  readonly conns = new Set<Socket>();
  port = 0;
  constructor(
    readonly onUdp: (p: dnsPacket.DecodedPacket) => Buffer | undefined,
    readonly onTcp: (p: dnsPacket.DecodedPacket) => Buffer | undefined = onUdp,
  ) {}
  get addr(): Upstream {
    return { host: '127.0.0.1', port: this.port };
  }
  async start(withTcp = false): Promise<this> {
    await new Promise<void>((r) => this.udp.bind(0, '127.0.0.1', () => r()));
    this.port = this.udp.address().port;
    this.udp.on('message', (m, rinfo) => {
      const p = dnsPacket.decode(m);
      this.udpSeen.push(p);
      const out = this.onUdp(p);
      if (out) this.udp.send(out, rinfo.port, rinfo.address);
    });
    if (withTcp) {
      const tcp = createServer((sock) => {
        this.conns.add(sock);
        sock.on('close', () => this.conns.delete(sock));
        sock.on('error', () => {});
        let buf = Buffer.alloc(0);
        sock.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
          const p = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          buf = buf.subarray(2 + buf.readUInt16BE(0));
          this.tcpSeen.push(p);
          const out = this.onTcp(p);
          if (out) sock.write(frame(out));
        });
      });
      await new Promise<void>((r) => tcp.listen(this.port, '127.0.0.1', () => r()));
      this.tcp = tcp;
    }
    return this;
  }
  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await Promise.all([
      new Promise<void>((r) => this.udp.close(() => r())),
      this.tcp ? new Promise<void>((r) => this.tcp!.close(() => r())) : Promise.resolve(),
    ]);
  }
}

function answerTo(p: dnsPacket.DecodedPacket, ips: string[], extraFlags = 0): Buffer {
  const question = p.questions![0]!;
  return dnsPacket.encode({
    type: 'response',
    id: p.id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | extraFlags,
    questions: [question],
    answers: ips.map((ip) => ({ type: 'A' as const, name: question.name, ttl: 300, data: ip })),
  });
}

function dataOf(a: dnsPacket.Answer): string {
  return a.type === 'A' ? a.data : '';
}

function sum(s: DnsStats): number {
  return s.answered + s.forwarded + s.refused + s.formerr + s.notimp + s.servfail + s.dropped;
}

t('UDP: A for a vip service, authoritative, with the id and question echoed', async () => {
  const { server } = await start();
  try {
    ok(server.local.udp > 0 && server.local.udp === server.local.tcp, 'one port for UDP and TCP');
    const p = await udpAsk(server.local.udp, q('web', 'A', 0xbeef));
    is(p.id, 0xbeef);
    is(p.rcode, 'NOERROR');
    ok(p.flag_aa && p.flag_rd && p.flag_ra && !p.flag_tc);
    equal(p.answers!.map((a) => [a.name, a.type === 'A' ? a.data : '', (a as dnsPacket.StringAnswer).ttl]), [['web', '10.0.1.2', 5]]);
    const nx = await udpAsk(server.local.udp, q('nosuch', 'A', 7));
    is(nx.rcode, 'NXDOMAIN');
    equal(server.stats, { queries: 2, answered: 2, forwarded: 0, refused: 0, formerr: 0, notimp: 0, servfail: 0, dropped: 0, truncated: 0 });
  } finally {
    await server.close();
  }
});

t('TCP: several queries on one connection, in one write and split across writes', async () => {
  const { server } = await start();
  const c = new TcpClient(server.local.tcp);
  try {
    await c.connected();
    c.sock.write(Buffer.concat([frame(q('web', 'A', 1)), frame(q('tasks.rr', 'A', 2)), frame(q('box', 'AAAA', 3))]));
    const bytes = frame(q('db', 'A', 4));
    c.sock.write(bytes.subarray(0, 1));
    await until(() => server.stats.queries === 3, 2000, '3 queries');
    c.sock.write(bytes.subarray(1, 9));
    c.sock.write(bytes.subarray(9));
    const r = await c.all(4);
    equal(r.map((p) => p.id), [1, 2, 3, 4]);
    equal(r[0]!.answers!.map((a) => dataOf(a)), ['10.0.1.2']);
    equal(r[1]!.answers!.map((a) => dataOf(a)).sort(), ['10.0.1.5', '10.0.1.6', '10.0.1.7']);
    is(r[2]!.answers!.length, 0);
    equal(r[3]!.answers!.map((a) => dataOf(a)), ['10.0.2.10']);
    is(server.stats.answered, 4);
  } finally {
    await c.close();
    await server.close();
  }
});

t('a source address askerOf does not know is REFUSED, over UDP and TCP', async () => {
  const { server } = await start({ askerOf: () => undefined });
  const c = new TcpClient(server.local.tcp);
  try {
    const p = await udpAsk(server.local.udp, q('web', 'A', 5));
    is(p.rcode, 'REFUSED');
    is(p.id, 5);
    is(p.answers!.length, 0);
    ok(!p.flag_aa);
    c.sock.write(frame(q('example.com', 'A', 6)));
    const [r] = await c.all(1);
    is(r!.rcode, 'REFUSED');
    is(server.stats.refused, 2);
    is(server.stats.forwarded + server.stats.servfail, 0, 'a stranger never reaches the upstreams');
  } finally {
    await c.close();
    await server.close();
  }
});

t('garbage with a header is FORMERR echoing its id; shorter than a header, or a response, gets nothing', async () => {
  const { server } = await start();
  const c = new UdpClient(server.local.udp);
  try {
    c.send(Buffer.from([1, 2, 3]));
    c.send(dnsPacket.encode({ type: 'response', id: 77, questions: [{ name: 'web', type: 'A' }] }));
    c.send(Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 0x61]));
    const p = await c.next();
    is(p.id, 0xabcd);
    is(p.rcode, 'FORMERR');
    c.send(q('web', 'A', 9));
    is((await c.next(2)).id, 9);
    is(c.replies.length, 2);
    equal([server.stats.queries, server.stats.dropped, server.stats.formerr, server.stats.answered], [4, 2, 1, 1]);
  } finally {
    await c.close();
    await server.close();
  }
});

t('a big dnsrr answer over UDP comes truncated with TC; the same over TCP is complete', async () => {
  const { server } = await start({ view: bigRrView(60) });
  const c = new TcpClient(server.local.tcp);
  try {
    const u = await udpAsk(server.local.udp, q('big', 'A', 21));
    ok(u.flag_tc);
    ok(u.answers!.length < 60);
    c.sock.write(frame(q('big', 'A', 22)));
    const [t2] = await c.all(1);
    ok(!t2!.flag_tc);
    is(t2!.answers!.length, 60);
    is(new Set(t2!.answers!.map((a) => dataOf(a))).size, 60);
    is(server.stats.truncated, 1);
  } finally {
    await c.close();
    await server.close();
  }
});

t('forward: a name not ours goes to the upstream under another id; the answer comes back under the client\'s', async () => {
  const up = await new FakeUpstream((p) => answerTo(p, ['93.184.216.34'])).start();
  const { server } = await start({ upstreams: () => [up.addr] });
  try {
    const p = await udpAsk(server.local.udp, q('example.com', 'A', 0x5151));
    is(p.id, 0x5151);
    is(p.rcode, 'NOERROR');
    ok(!p.flag_aa, 'not our name: not authoritative');
    equal(p.answers!.map((a) => dataOf(a)), ['93.184.216.34']);
    is(up.udpSeen.length, 1);
    equal(up.udpSeen[0]!.questions, [{ name: 'example.com', type: 'A', class: 'IN' }]);
    ok(up.udpSeen[0]!.flag_rd, 'the query goes as it is');
    is(server.stats.forwarded, 1);
  } finally {
    await server.close();
    await up.close();
  }
});

t('forward: an upstream the socket cannot even connect to (the broadcast address: EACCES, nothing sent) gives way to the next; alone, SERVFAIL; the server lives', async () => {
  const up = await new FakeUpstream((p) => answerTo(p, ['93.184.216.34'])).start();
  const unreachable = { host: '255.255.255.255', port: 53 };
  const { server } = await start({ upstreams: () => [unreachable, up.addr], clock: realClock() as ManualClock, timeoutMs: 2000 });
  try {
    const p = await udpAsk(server.local.udp, q('example.com', 'A', 0x6161));
    equal([p.id, p.rcode, p.answers!.map((a) => dataOf(a))], [0x6161, 'NOERROR', ['93.184.216.34']]);
  } finally {
    await server.close();
    await up.close();
  }
  const alone = await start({ upstreams: () => [unreachable], clock: realClock() as ManualClock, timeoutMs: 2000 });
  try {
    is((await udpAsk(alone.server.local.udp, q('example.com'))).rcode, 'SERVFAIL');
    is((await udpAsk(alone.server.local.udp, q('web'))).rcode, 'NOERROR', 'and it still answers');
  } finally {
    await alone.server.close();
  }
});

t('an asker on internal networks only: names not ours are SERVFAIL, never forwarded; its own names still answer', async () => {
  const up = await new FakeUpstream((p) => answerTo(p, ['93.184.216.34'])).start();
  const { server } = await start({ upstreams: () => [up.addr], askerOf: () => ({ ...FRONT_FIRST, internal: true }) });
  try {
    const p = await udpAsk(server.local.udp, q('example.com', 'A', 0x5252));
    equal([p.id, p.rcode, p.answers?.length ?? 0], [0x5252, 'SERVFAIL', 0]);
    is(up.udpSeen.length, 0, 'nothing went out');
    equal([server.stats.servfail, server.stats.forwarded], [1, 0]);
    const own = await udpAsk(server.local.udp, q('web', 'A'));
    is(own.rcode, 'NOERROR');
    ok((own.answers ?? []).length > 0, 'the swarm\'s names answer as before');
  } finally {
    await server.close();
    await up.close();
  }
});

t('forward: a truncated upstream answer is asked again over TCP; too big for the client\'s UDP, it gets TC and then TCP', async () => {
  const ips = Array.from({ length: 40 }, (_, i) => `192.0.2.${i + 1}`);
  const up = await new FakeUpstream(
    (p) => answerTo(p, [], dnsPacket.TRUNCATED_RESPONSE),
    (p) => answerTo(p, ips),
  ).start(true);
  const { server } = await start({ upstreams: () => [up.addr] });
  const c = new TcpClient(server.local.tcp);
  try {
    const u = await udpAsk(server.local.udp, q('many.example', 'A', 31));
    ok(u.flag_tc, 'over 512 bytes: TC for the client');
    is(u.id, 31);
    is(up.tcpSeen.length, 1, 'the upstream was asked over TCP');
    c.sock.write(frame(q('many.example', 'A', 32)));
    const [full] = await c.all(1);
    is(full!.id, 32);
    ok(!full!.flag_tc);
    is(full!.answers!.length, 40);
    const opt = { type: 'OPT' as const, name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
    const e = await udpAsk(server.local.udp, q('many.example', 'A', 33, { additionals: [opt] }));
    is(e.answers!.length, 40, 'EDNS 4096 takes it over UDP');
    equal([server.stats.forwarded, server.stats.truncated], [3, 1]);
  } finally {
    await c.close();
    await server.close();
    await up.close();
  }
});

t('forward: a closed port (ICMP, no wait) and a SERVFAIL upstream give way to the next, in order', async () => {
  const bad = await new FakeUpstream((p) => answerTo(p, [], 2 /* SERVFAIL */)).start();
  const good = await new FakeUpstream((p) => answerTo(p, ['198.51.100.7'])).start();
  // Nobody listens here: the connected socket hears ICMP port unreachable at once.
  const gone = await new FakeUpstream(() => undefined).start();
  const gonePort = gone.addr;
  await gone.close();
  const { server, clock } = await start({ upstreams: () => [gonePort, bad.addr, good.addr] });
  try {
    const p = await udpAsk(server.local.udp, q('next.example', 'A', 41));
    equal(p.answers!.map((a) => dataOf(a)), ['198.51.100.7']);
    equal([bad.udpSeen.length, good.udpSeen.length], [1, 1]);
    is(clock.nowMs(), 0, 'no timeout was needed');
  } finally {
    await server.close();
    await bad.close();
    await good.close();
  }
});

t('forward: every upstream silent is SERVFAIL after timeoutMs, shared out among them, never before', async () => {
  const a = await new FakeUpstream(() => undefined).start();
  const b = await new FakeUpstream(() => undefined).start();
  const { server, clock } = await start({ upstreams: () => [a.addr, b.addr], timeoutMs: 1000 });
  const c = new UdpClient(server.local.udp);
  try {
    c.send(q('slow.example', 'A', 51));
    await until(() => a.udpSeen.length === 1, 2000, 'first upstream asked');
    clock.advance(499);
    await new Promise((r) => setImmediate(r));
    is(b.udpSeen.length, 0);
    clock.advance(1);
    await until(() => b.udpSeen.length === 1, 2000, 'second upstream asked after 500 ms');
    clock.advance(499);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    is(c.replies.length, 0, 'no answer before timeoutMs');
    clock.advance(1);
    const p = await c.next();
    is(p.id, 51);
    is(p.rcode, 'SERVFAIL');
    equal(p.questions!.map((x) => x.name), ['slow.example']);
    is(server.stats.servfail, 1);
  } finally {
    await c.close();
    await server.close();
    await a.close();
    await b.close();
  }
});

t('forward: SERVFAIL at once with no upstream; a real short timeout never hangs', async () => {
  const { server } = await start();
  try {
    const p = await udpAsk(server.local.udp, q('example.org', 'A', 61));
    is(p.rcode, 'SERVFAIL');
  } finally {
    await server.close();
  }
  const silent = await new FakeUpstream(() => undefined).start();
  const s2 = await DnsServer.start({
    address: '127.0.0.1', port: 0, view: viewOf(), askerOf: () => FRONT_FIRST, upstreams: () => [silent.addr], rand: seededRand(1), clock: realClock(), log: quietLog, timeoutMs: 50,
  });
  try {
    const t0 = performance.now();
    const p = await udpAsk(s2.local.udp, q('example.org', 'A', 62));
    is(p.rcode, 'SERVFAIL');
    ok(performance.now() - t0 < 1000);
  } finally {
    await s2.close();
    await silent.close();
  }
});

t('forward: a stray answer (wrong id or question) is ignored, the real one taken', async () => {
  const wrong = (p: dnsPacket.DecodedPacket) => [
    answerTo({ ...p, id: (p.id! + 1) & 0xffff } as dnsPacket.DecodedPacket, ['6.6.6.6']),
    answerTo({ ...p, questions: [{ name: 'evil.example', type: 'A' }] } as dnsPacket.DecodedPacket, ['6.6.6.7']),
  ];
  const spoof = await new FakeUpstream(() => undefined).start();
  spoof.udp.removeAllListeners('message');
  spoof.udp.on('message', (m, rinfo) => {
    const p = dnsPacket.decode(m);
    for (const w of wrong(p)) spoof.udp.send(w, rinfo.port, rinfo.address);
    spoof.udp.send(answerTo(p, ['203.0.113.9']), rinfo.port, rinfo.address);
  });
  const { server } = await start({ upstreams: () => [spoof.addr] });
  try {
    const p = await udpAsk(server.local.udp, q('real.example', 'A', 71));
    equal(p.answers!.map((a) => dataOf(a)), ['203.0.113.9']);
  } finally {
    await server.close();
    await spoof.close();
  }
});

t(`forward: at most ${MAX_FORWARDS_IN_FLIGHT} in flight, beyond that SERVFAIL at once; close() drops the rest`, async () => {
  const silent = await new FakeUpstream(() => undefined).start();
  const { server } = await start({ upstreams: () => [silent.addr] });
  const c = new UdpClient(server.local.udp);
  try {
    for (let i = 0; i < MAX_FORWARDS_IN_FLIGHT; i++) {
      c.send(q(`n${i}.example`, 'A', i));
      if (i % 32 === 31) await until(() => silent.udpSeen.length === i + 1, 2000, 'upstream asked');
    }
    c.send(q('one.more.example', 'A', 999));
    const p = await c.next();
    is(p.id, 999);
    is(p.rcode, 'SERVFAIL');
  } finally {
    await server.close();
    await c.close();
    await silent.close();
  }
  equal([server.stats.queries, server.stats.servfail, server.stats.dropped], [MAX_FORWARDS_IN_FLIGHT + 1, 1, MAX_FORWARDS_IN_FLIGHT]);
  is(sum(server.stats), server.stats.queries);
});

t('TCP: an idle connection is closed after TCP_IDLE_MS; a half-closed one still gets its reply', async () => {
  const { server, clock } = await start();
  const idle = new TcpClient(server.local.tcp);
  const half = new TcpClient(server.local.tcp);
  try {
    await idle.connected();
    await half.connected();
    half.sock.end(frame(q('web', 'A', 81)));
    const [r] = await half.all(1);
    is(r!.id, 81);
    await until(() => half.closed, 2000, 'server ends after the half-close');
    await until(() => clock.pending() > 0, 2000, 'idle timer armed');
    clock.advance(TCP_IDLE_MS - 1);
    await new Promise((r2) => setImmediate(r2));
    ok(!idle.closed);
    clock.advance(1);
    await until(() => idle.closed, 2000, 'idle connection closed');
  } finally {
    await idle.close();
    await half.close();
    await server.close();
  }
});

t('close() with a forward in flight over TCP: the client is cut off, nothing leaks, the query counted dropped', async () => {
  const silent = await new FakeUpstream(() => undefined).start();
  const { server } = await start({ upstreams: () => [silent.addr] });
  const c = new TcpClient(server.local.tcp);
  try {
    c.sock.write(frame(q('pending.example', 'A', 91)));
    await until(() => silent.udpSeen.length === 1, 2000, 'upstream asked');
    await server.close();
    await until(() => c.closed, 2000, 'client cut off');
    equal([server.stats.queries, server.stats.dropped], [1, 1]);
    await server.close(); // idempotent
  } finally {
    await c.close();
    await silent.close();
  }
});

t('start: exact messages for bad options; a taken port is named', async () => {
  const base = { address: '127.0.0.1', port: 0, view: viewOf() as DiscoveryView, askerOf: () => undefined, upstreams: () => [], rand: seededRand(1), clock: new ManualClock(), log: quietLog };
  const err = async (o: Partial<DnsServerOptions>) => {
    try {
      await DnsServer.start({ ...base, ...o });
    } catch (e) {
      return (e as Error).message;
    }
    return 'started';
  };
  is(await err({ address: 'gw' }), 'DnsServer.start: address must be an IP address, got "gw"');
  is(await err({ port: 70000 }), 'DnsServer.start: port must be an integer in 0..65535, got 70000');
  is(await err({ timeoutMs: 0 }), 'DnsServer.start: timeoutMs must be a positive integer, got 0');
  const { server } = await start();
  try {
    const m = await err({ port: server.local.udp });
    ok(m.startsWith(`dns: cannot listen on 127.0.0.1:${server.local.udp}/udp: `), m);
  } finally {
    await server.close();
  }
});

t.run();
