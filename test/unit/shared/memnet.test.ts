// MemNet's faults, beyond the shared transport contract: determinism, loss,
// duplication, reordering, partitions and one-way blocks.
import { suite, equal, is, ok, not, throws } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import { seededRand } from '../../../shared/rand.js';
import { MemNet, type MemNetConfig } from '../../../shared/transport/memnet.js';
import type { Stream } from '../../../shared/transport/types.js';

const t = suite('memnet');
const A = '10.0.0.1', B = '10.0.0.2', C = '10.0.0.3';
const u8 = (...xs: number[]) => new Uint8Array(xs);

function world(seed: number, faults: Partial<MemNetConfig> = {}) {
  const clock = new ManualClock();
  const net = new MemNet({ clock, rand: seededRand(seed), ...faults });
  return { clock, net };
}

/** Count what arrives at host:port, by first byte. */
async function sink(net: MemNet, host: string, port = 9000) {
  const got: number[] = [];
  const sock = await net.datagram(host).bind({ host, port });
  sock.onMessage((d) => got.push(d[0]!));
  return { sock, got };
}

interface Pair {
  client: Stream;
  server: Stream;
  cData: string[];
  sData: string[];
  cClose: (Error | undefined)[];
  sClose: (Error | undefined)[];
}

async function streamPair(net: MemNet, clock: ManualClock, from: string, to: string): Promise<Pair> {
  let server: Stream | undefined;
  const l = await net.stream(to).listen({ host: to, port: 80 }, (s) => (server = s));
  const p = net.stream(from).connect({ host: to, port: 80 });
  clock.advance(100);
  const client = await p;
  await l.close();
  const pr: Pair = { client, server: server!, cData: [], sData: [], cClose: [], sClose: [] };
  const dec = new TextDecoder();
  client.onData((d) => pr.cData.push(dec.decode(d)));
  pr.server.onData((d) => pr.sData.push(dec.decode(d)));
  client.onClose((e) => pr.cClose.push(e));
  pr.server.onClose((e) => pr.sClose.push(e));
  return pr;
}

const code = (e: Error | undefined) => (e as (Error & { code?: string }) | undefined)?.code;

t('same seed, same calls: identical trace; another seed differs', async () => {
  async function run(seed: number): Promise<string[]> {
    const lines: string[] = [];
    const clock = new ManualClock();
    const net = new MemNet({ clock, rand: seededRand(seed), latencyMs: 5, jitterMs: 20, loss: 0.2, dup: 0.1, trace: (l) => lines.push(l) });
    const hosts = [A, B, C];
    const socks = await Promise.all(hosts.map((h) => net.datagram(h).bind({ host: h, port: 7946 })));
    socks.forEach((s, i) => s.onMessage((d, from) => lines.push(`${hosts[i]} got ${d[0]} from ${from.host} at ${clock.nowMs()}`)));
    const pick = seededRand(99); // the same traffic for every seed: only the network's choices differ
    for (let i = 0; i < 200; i++) {
      clock.advance(1);
      socks[pick.int(3)]!.send(u8(i & 0xff), { host: hosts[pick.int(3)]!, port: 7946 });
    }
    clock.runAll();
    lines.push(JSON.stringify(net.stats));
    return lines;
  }
  const a = await run(1), b = await run(1), c = await run(2);
  ok(a.length > 200);
  equal(a, b);
  not.equal(a, c);
});

t('loss rate is close to the configured probability; counters add up', async () => {
  const { clock, net } = world(3, { loss: 0.3 });
  const { sock, got } = await sink(net, B);
  const tx = await net.datagram(A).bind({ host: A, port: 0 });
  for (let i = 0; i < 10_000; i++) tx.send(u8(1), sock.local);
  clock.runAll();
  const rate = 1 - got.length / 10_000;
  ok(Math.abs(rate - 0.3) < 0.02, `loss rate ${rate}`);
  is(net.stats.sent, 10_000);
  is(net.stats.delivered, got.length);
  is(net.stats.droppedLoss, 10_000 - got.length);
  is(net.stats.dropped, net.stats.droppedLoss);
});

t('duplication delivers some datagrams twice', async () => {
  const { clock, net } = world(4, { dup: 0.25 });
  const { sock, got } = await sink(net, B);
  const tx = await net.datagram(A).bind({ host: A, port: 0 });
  for (let i = 0; i < 4000; i++) tx.send(u8(1), sock.local);
  clock.runAll();
  is(got.length, 4000 + net.stats.duplicated);
  ok(Math.abs(net.stats.duplicated / 4000 - 0.25) < 0.03, `dup rate ${net.stats.duplicated / 4000}`);
});

t('jitter reorders datagrams; without jitter they keep their order', async () => {
  for (const jitterMs of [0, 20]) {
    const { clock, net } = world(5, { latencyMs: 10, jitterMs });
    const { sock, got } = await sink(net, B);
    const tx = await net.datagram(A).bind({ host: A, port: 0 });
    for (let i = 0; i < 200; i++) {
      tx.send(u8(i), sock.local);
      clock.advance(0.5);
    }
    clock.runAll();
    is(got.length, 200);
    const sorted = [...got].sort((x, y) => x - y);
    if (jitterMs === 0) equal(got, sorted);
    else not.equal(got, sorted);
  }
});

t('latency is exact per link, and zero latency is still a clock step', async () => {
  const { clock, net } = world(6);
  net.setLinkFaults(A, B, { latencyMs: 50 });
  const at: string[] = [];
  const a = await net.datagram(A).bind({ host: '0.0.0.0', port: 1 });
  const b = await net.datagram(B).bind({ host: B, port: 1 });
  is(a.local.host, A, '0.0.0.0 binds the host IP');
  a.onMessage(() => at.push(`a@${clock.nowMs()}`));
  b.onMessage(() => at.push(`b@${clock.nowMs()}`));
  a.send(u8(1), b.local);
  b.send(u8(1), a.local);
  equal(at, [], 'nothing is delivered inside send()');
  clock.runAll();
  equal(at, ['a@0', 'b@50']);
});

t('partition drops datagrams between groups only; heal restores', async () => {
  const { clock, net } = world(7);
  const b = await sink(net, B);
  const c = await sink(net, C);
  const tx = await net.datagram(A).bind({ host: A, port: 0 });
  net.partition([A], [B]);
  tx.send(u8(1), b.sock.local);
  tx.send(u8(2), c.sock.local);
  clock.runAll();
  equal(b.got, []);
  equal(c.got, [2]);
  is(net.stats.droppedBlocked, 1);
  net.heal();
  tx.send(u8(3), b.sock.local);
  clock.runAll();
  equal(b.got, [3]);
});

t('one-way block: from->to dropped, to->from delivered; a stream across it stalls', async () => {
  const { clock, net } = world(8, { latencyMs: 1 });
  const a = await sink(net, A);
  const b = await sink(net, B);
  const p = await streamPair(net, clock, A, B);
  net.block(A, B);
  a.sock.send(u8(1), b.sock.local);
  b.sock.send(u8(2), a.sock.local);
  p.server.write(new TextEncoder().encode('held'));
  clock.advance(1000);
  equal(b.got, []);
  equal(a.got, [2]);
  equal(p.cData, [], 'a stream needs both directions');
  net.unblock(A, B);
  clock.advance(1000);
  equal(p.cData, ['held']);
  p.client.destroy();
  await Promise.all([a.sock.close(), b.sock.close()]);
});

t('a stream across a partition stalls, then delivers everything in order after heal', async () => {
  const { clock, net } = world(9, { latencyMs: 2, jitterMs: 5 });
  const p = await streamPair(net, clock, A, B);
  p.client.write(new TextEncoder().encode('a'));
  net.partition([A], [B]);
  clock.advance(1); // 'a' is in flight, parked on arrival
  for (const s of ['b', 'c', 'd']) p.client.write(new TextEncoder().encode(s));
  clock.advance(5_000);
  equal(p.sData, []);
  net.heal();
  clock.advance(100);
  is(p.sData.join(''), 'abcd');
  equal(p.cClose, []);
  p.client.end();
  clock.runAll();
  equal([p.cClose, p.sClose], [[undefined], [undefined]]);
});

t('a stream stalled past streamStallTimeoutMs is reset on both sides with ETIMEDOUT', async () => {
  const { clock, net } = world(10, { latencyMs: 1, streamStallTimeoutMs: 3_000 });
  const p = await streamPair(net, clock, A, B);
  net.partition([A], [B]);
  clock.advance(60_000);
  equal(p.cClose, [], 'an idle stream is not reset');
  p.client.write(new TextEncoder().encode('x'));
  clock.advance(2_999);
  equal(p.cClose, []);
  clock.advance(2);
  is(code(p.cClose[0]), 'ETIMEDOUT');
  is(code(p.sClose[0]), 'ETIMEDOUT');
  net.heal();
  clock.runAll();
  equal(p.sData, []);
  is(p.cClose.length + p.sClose.length, 2);
});

t('connect across a partition or to an unknown host fails with ETIMEDOUT at its timeout', async () => {
  const { clock, net } = world(11, { latencyMs: 1 });
  await net.stream(B).listen({ host: B, port: 80 }, () => {});
  net.partition([A], [B]);
  for (const to of [B, '10.9.9.9']) {
    const start = clock.nowMs();
    let err: (Error & { code?: string }) | undefined;
    net.stream(A).connect({ host: to, port: 80 }, { timeoutMs: 2_500 }).catch((e) => (err = e));
    clock.advance(2_499);
    await Promise.resolve();
    is(err, undefined);
    clock.advance(1);
    await new Promise((r) => setImmediate(r));
    is(err?.code, 'ETIMEDOUT');
    is(clock.nowMs() - start, 2_500);
  }
});

t('heal before the connect timeout lets the connect through', async () => {
  const { clock, net } = world(12, { latencyMs: 1 });
  await net.stream(B).listen({ host: B, port: 80 }, () => {});
  net.partition([A], [B]);
  const p = net.stream(A).connect({ host: B, port: 80 }, { timeoutMs: 5_000 });
  clock.advance(1_000);
  net.heal();
  clock.advance(10);
  const s = await p;
  equal(s.remote, { host: B, port: 80 });
  s.destroy();
});

t('ephemeral ports are deterministic and skip ports in use', async () => {
  const { net } = world(13);
  const d = net.datagram(A);
  const x = await d.bind({ host: A, port: 49_153 });
  const y = await d.bind({ host: A, port: 0 });
  const z = await d.bind({ host: A, port: 0 });
  equal([y.local.port, z.local.port], [49_152, 49_154]);
  await Promise.all([x.close(), y.close(), z.close()]);
});

t('bad arguments fail at the boundary with exact messages', async () => {
  const { net } = world(14);
  throws(() => net.setFaults({ loss: 1.5 }), /memnet: loss must be a probability in \[0, 1\], got 1.5/);
  throws(() => net.setFaults({ latencyMs: -1 }), /memnet: latencyMs must be a finite number >= 0, got -1/);
  throws(() => net.datagram('10.0.0'), /memnet: host must be a dotted-quad IPv4 address, got "10.0.0"/);
  let err: (Error & { code?: string }) | undefined;
  await net.datagram(A).bind({ host: B, port: 1 }).catch((e) => (err = e));
  is(err?.code, 'EADDRNOTAVAIL');
});

t.run();
