// Seeded fuzzing of the embedded DNS server over real sockets: random bytes
// and mutated valid queries from clients, random and mutated answers from a
// fake upstream. The server must stay up, every reply must decode, and the
// counters must add up. A failure prints its seed; FUZZ_SEED=n replays it.
import dnsPacket from 'dns-packet';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { suite, is, ok, until } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { seededRand, type Rand } from '../../../shared/rand.js';
import { DnsServer, type DnsStats } from '../../../agent/discovery/dns-server.js';
import { viewOf, bigRrView, FRONT_FIRST, quietLog } from './dns-fixtures.js';

const t = suite('dns-fuzz');
const SEED = Number(process.env.FUZZ_SEED ?? 20260101);
const MESSAGES = 3000;
const TIMEOUT_MS = 1000;

const NAMES = ['web', 'WEB.', 'rr', 'tasks.rr', 'tasks.web.back', 'web.1.aaa', 'box.front', 'big', 'secret', 'nosuch', 'example.com', 'a.b.c.example.org', '3.1.0.10.in-addr.arpa', '9.9.9.9.in-addr.arpa', '.', 'x'.repeat(63) + '.example'];
const TYPES = ['A', 'AAAA', 'PTR', 'MX', 'TXT', 'ANY', 'SRV', 'CNAME', 'NS'] as dnsPacket.RecordType[];

function pick<T>(r: Rand, xs: readonly T[]): T {
  return xs[r.int(xs.length)]!;
}

function validQuery(r: Rand): Buffer {
  const opt = { type: 'OPT' as const, name: '.', udpPayloadSize: pick(r, [0, 512, 1232, 4096, 65535]), extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
  return dnsPacket.encode({
    type: 'query',
    id: r.int(0x10000),
    flags: r.int(4) === 0 ? r.int(0x8000) : dnsPacket.RECURSION_DESIRED,
    questions: [{ name: pick(r, NAMES), type: pick(r, TYPES), class: r.int(8) === 0 ? 'CH' : 'IN' }],
    additionals: r.int(3) === 0 ? [opt] : [],
  });
}

/** Flip, cut, extend or overwrite the header counts of a valid message. */
function mutate(r: Rand, m: Buffer): Buffer {
  let out = Buffer.from(m);
  const kinds = 1 + r.int(3);
  for (let k = 0; k < kinds; k++) {
    switch (r.int(4)) {
      case 0:
        for (let i = 0, n = 1 + r.int(4); i < n && out.length > 0; i++) out[r.int(out.length)] = r.int(256);
        break;
      case 1:
        out = out.subarray(0, r.int(out.length + 1));
        break;
      case 2:
        out = Buffer.concat([out, Buffer.from(r.bytes(1 + r.int(40)))]);
        break;
      case 3:
        if (out.length >= 12) out.writeUInt16BE(r.int(0x10000), 4 + 2 * r.int(4));
        break;
    }
  }
  return out;
}

function message(r: Rand): Buffer {
  switch (r.int(3)) {
    case 0:
      return Buffer.from(r.bytes(r.int(300)));
    case 1:
      return validQuery(r);
    default:
      return mutate(r, validQuery(r));
  }
}

function sum(s: DnsStats): number {
  return s.answered + s.forwarded + s.refused + s.formerr + s.notimp + s.servfail + s.dropped;
}

/** A fake upstream answering a query validly, with garbage, with a mutated answer, or not at all. */
async function fakeUpstream(r: Rand): Promise<{ sock: UdpSocket; port: number; close(): Promise<void> }> {
  const sock = createSocket('udp4');
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  sock.on('message', (m, rinfo) => {
    let p: dnsPacket.DecodedPacket;
    try {
      p = dnsPacket.decode(m);
    } catch {
      return;
    }
    const valid = dnsPacket.encode({
      type: 'response',
      id: p.id,
      flags: dnsPacket.RECURSION_AVAILABLE | (r.int(10) === 0 ? dnsPacket.TRUNCATED_RESPONSE : 0) | (r.int(10) === 0 ? 2 : 0),
      questions: p.questions,
      answers: Array.from({ length: r.int(50) }, (_, i) => ({ type: 'A' as const, name: 'example.com', ttl: 60, data: `192.0.2.${i}` })),
    });
    const idBytes = Buffer.alloc(2);
    idBytes.writeUInt16BE(p.id!);
    const replies = [
      () => valid,
      () => Buffer.concat([idBytes, Buffer.from(r.bytes(r.int(100)))]),
      () => mutate(r, valid),
      () => undefined,
    ];
    const out = pick(r, replies)();
    if (out !== undefined) sock.send(out, rinfo.port, rinfo.address);
  });
  return { sock, port: sock.address().port, close: () => new Promise<void>((res) => sock.close(() => res())) };
}

t(`${MESSAGES} random and mutated messages over UDP (seed ${SEED}): up, every reply decodes, counters add up`, async () => {
  const r = seededRand(SEED);
  const upstream = await fakeUpstream(r.fork());
  const askers = r.fork();
  const clock = new ManualClock();
  const server = await DnsServer.start({
    address: '127.0.0.1',
    port: 0,
    view: bigRrView(40),
    askerOf: () => (askers.int(10) === 0 ? undefined : FRONT_FIRST),
    upstreams: () => [{ host: '127.0.0.1', port: upstream.port }],
    rand: r.fork(),
    clock,
    log: quietLog,
    timeoutMs: TIMEOUT_MS,
  });
  const client = createSocket('udp4');
  const replies: Buffer[] = [];
  client.on('message', (m) => replies.push(m));
  const ids = new Set<number>();
  try {
    for (let i = 0; i < MESSAGES; i++) {
      const m = message(r);
      if (m.length >= 2) ids.add(m.readUInt16BE(0));
      client.send(m, server.local.udp, '127.0.0.1');
      await until(() => server.stats.queries === i + 1, 2000, `seed ${SEED}: message ${i} read`);
      // Let silent upstreams time out now and then, as time would.
      if (i % 100 === 99) clock.advance(TIMEOUT_MS);
    }
    // Every exchange timer is set by now: one more budget settles every forward.
    clock.advance(TIMEOUT_MS);
    await until(() => sum(server.stats) === server.stats.queries, 2000, `seed ${SEED}: every query settled`);
    const s = server.stats;
    await until(() => replies.length === s.queries - s.dropped, 2000, `seed ${SEED}: one reply per query not dropped`);
    for (const m of replies) {
      const p = dnsPacket.decode(m);
      ok(p.type === 'response', `seed ${SEED}: a response`);
      ok(ids.has(p.id!), `seed ${SEED}: reply id ${p.id} was a query's`);
      ok(m.length <= 4096, `seed ${SEED}: ${m.length} bytes over UDP`);
    }
    ok(s.answered > 100 && s.formerr > 100 && s.dropped > 100 && s.refused > 50 && s.forwarded > 10 && s.servfail > 10 && s.notimp > 5 && s.truncated > 0, `seed ${SEED}: every path taken ${JSON.stringify(s)}`);
    if (process.env.FUZZ_VERBOSE) console.log(JSON.stringify(s));
    // Still serving.
    const before = replies.length;
    client.send(dnsPacket.encode({ type: 'query', id: 4242, questions: [{ name: 'web', type: 'A' }] }), server.local.udp, '127.0.0.1');
    await until(() => replies.length > before && dnsPacket.decode(replies.at(-1)!).id === 4242, 2000, `seed ${SEED}: still answers`);
  } finally {
    await new Promise<void>((res) => client.close(() => res()));
    await server.close();
    await upstream.close();
  }
});

t(`random frames and a random byte stream over TCP (seed ${SEED}): the server stays up`, async () => {
  const r = seededRand(SEED + 1);
  const clock = new ManualClock();
  const server = await DnsServer.start({
    address: '127.0.0.1', port: 0, view: viewOf(), askerOf: () => FRONT_FIRST, upstreams: () => [], rand: r.fork(), clock, log: quietLog,
  });
  const open = (): Promise<{ sock: Socket; replies: Buffer[]; closed: () => boolean }> =>
    new Promise((res) => {
      const replies: Buffer[] = [];
      let buf = Buffer.alloc(0);
      let closed = false;
      const sock = connect({ host: '127.0.0.1', port: server.local.tcp }, () => res({ sock, replies, closed: () => closed }));
      sock.on('error', () => {});
      sock.on('close', () => (closed = true));
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
      });
    });
  const framed = (m: Buffer) => {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(m.length);
    return Buffer.concat([len, m]);
  };
  const a = await open();
  const b = await open();
  try {
    const frames = Array.from({ length: 500 }, () => framed(message(r)));
    a.sock.write(Buffer.concat(frames));
    await until(() => server.stats.queries === 500, 2000, `seed ${SEED}: 500 frames read`);
    await until(() => a.replies.length === 500 - server.stats.dropped, 2000, `seed ${SEED}: replies`);
    for (const m of a.replies) is(dnsPacket.decode(m).type, 'response');
    b.sock.write(Buffer.from(r.bytes(20_000)));
    const c = await open();
    c.sock.write(framed(dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: 'web', type: 'A' }] })));
    await until(() => c.replies.length === 1, 2000, `seed ${SEED}: a fresh connection is served`);
    is(dnsPacket.decode(c.replies[0]!).id, 7);
    c.sock.destroy();
    await until(() => c.closed(), 2000, 'closed');
  } finally {
    a.sock.destroy();
    b.sock.destroy();
    await server.close();
    await until(() => a.closed() && b.closed(), 2000, 'closed');
  }
});

t.run();
