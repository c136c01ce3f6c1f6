// StreamPeers over real TCP on 127.0.0.1 (ephemeral ports, the real clock):
// every Raft message type crosses intact, an unreachable peer costs dropped
// and counted messages and a redial after the backoff, a broken or hostile
// inbound connection is counted and cut without disturbing the others, and
// close() leaves no socket or timer behind (the harness checks).
import { suite, equal, is, ok, until } from '../../harness.js';
import { realClock } from '../../../shared/clock.js';
import { seededRand } from '../../../shared/rand.js';
import { tcpTransport } from '../../../shared/transport/tcp.js';
import type { Addr, Stream } from '../../../shared/transport/types.js';
import { encodeFrame } from '../../../shared/wire/frame.js';
import { StreamPeers } from '../../../agent/cluster/stream-peers.js';
import { encodeRaftMessage } from '../../../agent/cluster/raft-wire.js';
import type { NodeId, RaftMessage } from '../../../agent/cluster/raft/index.js';

const t = suite('stream peers over tcp');
const HOST = '127.0.0.1';
// Short backoff so redial tests finish quickly; the defaults are 200 ms..2 s.
const REDIAL = { redialMinMs: 20, redialMaxMs: 80, connectTimeoutMs: 1_000 };

/** Every message type, once, from `from` to `to`, with the shapes the core produces. */
function everyType(from: NodeId, to: NodeId, term: number): RaftMessage[] {
  const env = { from, to, term };
  return [
    { ...env, type: 'preVote', lastIndex: 12, lastTerm: term - 1, transfer: false },
    { ...env, type: 'preVoteResp', reject: false },
    { ...env, type: 'vote', lastIndex: 12, lastTerm: term - 1, transfer: true },
    { ...env, type: 'voteResp', reject: true },
    {
      ...env,
      type: 'append',
      prevIndex: 12,
      prevTerm: term - 1,
      commit: 11,
      entries: [
        { term, index: 13, type: 'normal', data: new Uint8Array(0) },
        { term, index: 14, type: 'normal', data: Uint8Array.from([1, 2, 3, 255]) },
        { term, index: 15, type: 'conf', data: Uint8Array.from([7]) },
      ],
    },
    { ...env, type: 'appendResp', index: 15, reject: false, hintIndex: 0, hintTerm: 0 },
    { ...env, type: 'appendResp', index: 9, reject: true, hintIndex: 8, hintTerm: 2 },
    { ...env, type: 'heartbeat', commit: 15, ctx: `${from}/1` },
    { ...env, type: 'heartbeat', commit: 15, ctx: undefined },
    { ...env, type: 'heartbeatResp', ctx: `${from}/1` },
    { ...env, type: 'heartbeatResp', ctx: undefined },
    { ...env, type: 'snapshot', snapshot: { index: 100, term: 3, conf: { voters: ['m1', 'm2', 'm3'] }, data: seededRand(term).bytes(3000) } },
    { ...env, type: 'timeoutNow' },
  ];
}

/** A set of managers sharing one address book, each with its inbox. */
class Cluster {
  readonly addrs = new Map<NodeId, Addr>();
  readonly peers = new Map<NodeId, StreamPeers>();
  readonly inbox = new Map<NodeId, RaftMessage[]>();

  async start(id: NodeId, port = 0): Promise<StreamPeers> {
    const p = await StreamPeers.start({ id, transport: tcpTransport(), listen: { host: HOST, port }, addrOf: (x) => this.addrs.get(x), clock: realClock(), ...REDIAL });
    const box: RaftMessage[] = this.inbox.get(id) ?? [];
    this.inbox.set(id, box);
    p.onMessage((m) => box.push(m));
    this.addrs.set(id, p.local);
    this.peers.set(id, p);
    return p;
  }

  get(id: NodeId): StreamPeers {
    const p = this.peers.get(id);
    if (!p) throw new Error(`no peer ${id}`);
    return p;
  }

  box(id: NodeId): RaftMessage[] {
    return this.inbox.get(id) ?? [];
  }

  async close(): Promise<void> {
    await Promise.all([...this.peers.values()].map((p) => p.close()));
  }
}

/** Run fn with a cluster that is closed whatever happens, so a failure does not also leak. */
async function withCluster(fn: (c: Cluster) => Promise<void>): Promise<void> {
  const c = new Cluster();
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

/** A port nobody listens on right now (taken, then released). */
async function freePort(): Promise<number> {
  const l = await tcpTransport().listen({ host: HOST, port: 0 }, (s) => s.destroy());
  const port = l.local.port;
  await l.close();
  return port;
}

/** A raw client connection to a peer's listener, watching for its close. */
async function rawConn(to: Addr): Promise<{ s: Stream; closed: () => boolean }> {
  const s = await tcpTransport().connect(to, { timeoutMs: 1_000 });
  let closed = false;
  s.onData(() => {});
  s.onClose(() => (closed = true));
  return { s, closed: () => closed };
}

t('two peers: every message type arrives decoded as sent, in order, both ways', () =>
  withCluster(async (c) => {
    const a = await c.start('m1');
    const b = await c.start('m2');
    const ab = everyType('m1', 'm2', 5);
    const ba = everyType('m2', 'm1', 6);
    for (const m of ab) a.send(m);
    for (const m of ba) b.send(m);
    await until(() => c.box('m2').length >= ab.length && c.box('m1').length >= ba.length, 5_000, 'both inboxes');
    equal(c.box('m2'), ab);
    equal(c.box('m1'), ba);
    equal(a.stats, { sent: ab.length, received: ba.length, dropped: 0, malformed: 0 });
    equal(b.stats, { sent: ba.length, received: ab.length, dropped: 0, malformed: 0 });

    // The connection is kept: a second burst goes over it as well.
    const more = everyType('m1', 'm2', 7);
    for (const m of more) a.send(m);
    await until(() => c.box('m2').length >= ab.length + more.length, 5_000, 'second burst');
    equal(c.box('m2').slice(ab.length), more);
  }),
);

t('three peers: everyone gets everyone else\'s messages, each stream in order', () =>
  withCluster(async (c) => {
    const ids = ['m1', 'm2', 'm3'];
    for (const id of ids) await c.start(id);
    const expected = new Map<NodeId, Map<NodeId, RaftMessage[]>>(ids.map((id) => [id, new Map()]));
    let term = 1;
    for (const from of ids) {
      for (const to of ids) {
        if (from === to) continue;
        const ms = everyType(from, to, ++term);
        expected.get(to)!.set(from, ms);
        for (const m of ms) c.get(from).send(m);
      }
    }
    const perReceiver = 2 * everyType('x', 'y', 2).length;
    await until(() => ids.every((id) => c.box(id).length >= perReceiver), 5_000, 'all inboxes');
    for (const to of ids) {
      is(c.box(to).length, perReceiver, `${to} got exactly what was sent to it`);
      // Streams from different senders interleave; each one alone is ordered.
      for (const [from, ms] of expected.get(to)!) equal(c.box(to).filter((m) => m.from === from), ms, `${from} -> ${to}`);
      equal(c.get(to).stats, { sent: perReceiver, received: perReceiver, dropped: 0, malformed: 0 });
    }
  }),
);

t('a peer not listening yet: messages are dropped and counted, later ones arrive after it starts', () =>
  withCluster(async (c) => {
    const a = await c.start('m1');
    const port = await freePort();
    c.addrs.set('m2', { host: HOST, port });
    const early = everyType('m1', 'm2', 3).slice(0, 4);
    for (const m of early) a.send(m); // queued while the dial runs, then refused
    await until(() => a.stats.dropped === early.length, 5_000, 'refused dial to drop the queue');
    is(a.stats.sent, 0);

    // During the backoff nothing is held: a send is dropped at once, and one redial is scheduled.
    a.send(early[0]!);
    is(a.stats.dropped, early.length + 1);

    await c.start('m2', port);
    // Probes sent while the redial backoff runs are dropped; once it connects they arrive.
    const probe = everyType('m1', 'm2', 4)[0]!;
    const end = performance.now() + 5_000;
    while (c.box('m2').length === 0 && performance.now() < end) {
      a.send(probe);
      await new Promise((r) => setTimeout(r, 50));
    }
    ok(c.box('m2').length > 0, 'no redial after the peer started');
    await until(() => c.box('m2').length === a.stats.sent, 2_000, 'every probe that left arrived');
    const before = c.box('m2').length;
    const late = everyType('m1', 'm2', 5);
    for (const m of late) a.send(m);
    await until(() => c.box('m2').length === before + late.length, 5_000, 'delivery after the peer started');
    equal(c.box('m2').slice(before), late);
  }),
);

t('a peer that goes away and comes back on a new port is redialled', () =>
  withCluster(async (c) => {
    const a = await c.start('m1');
    const b = await c.start('m2');
    const [m0, m1] = everyType('m1', 'm2', 3);
    a.send(m0!);
    await until(() => c.box('m2').length === 1, 5_000, 'first delivery');
    await b.close();
    c.peers.delete('m2');
    // The RST reaches a's outbound stream; sends until then may be written into the dead socket.
    await c.start('m2');
    const before = c.box('m2').length;
    await until(
      () => {
        a.send(m1!);
        return c.box('m2').length > before;
      },
      5_000,
      'delivery to the restarted peer',
    );
    equal(c.box('m2').at(-1), m1);
  }),
);

t('garbage frames: counted as malformed, that connection cut, other connections unharmed', () =>
  withCluster(async (c) => {
    const a = await c.start('m1');
    const b = await c.start('m2');
    const ms = everyType('m1', 'm2', 9);
    a.send(ms[0]!);
    await until(() => c.box('m2').length === 1, 5_000, 'first delivery');

    // 1. A well-framed body that is not a Raft message (seeded random bytes).
    const r = seededRand(77);
    const junk = await rawConn(b.local);
    junk.s.write(encodeFrame(r.bytes(64)));
    await until(() => b.stats.malformed === 1 && junk.closed(), 5_000, 'random body refused');

    // 2. A header announcing a 4 GiB frame: refused on the header alone, without buffering.
    const huge = await rawConn(b.local);
    huge.s.write(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await until(() => b.stats.malformed === 2 && huge.closed(), 5_000, 'huge length refused');

    // 3. A good frame then garbage in one write: the good one is delivered, then the cut.
    const mixed = await rawConn(b.local);
    const good: RaftMessage = { from: 'm3', to: 'm2', term: 9, type: 'timeoutNow' };
    const g = encodeFrame(encodeRaftMessage(good));
    const bad = encodeFrame(Uint8Array.from([0x83, 1, 2, 3])); // CBOR [1, 2, 3]: too short
    const both = new Uint8Array(g.length + bad.length);
    both.set(g);
    both.set(bad, g.length);
    mixed.s.write(both);
    await until(() => b.stats.malformed === 3 && mixed.closed(), 5_000, 'mixed write refused');
    equal(c.box('m2').at(-1), good);

    // a's own connection was never touched: the rest of its messages arrive in order.
    for (const m of ms.slice(1)) a.send(m);
    await until(() => c.box('m2').filter((m) => m.from === 'm1').length === ms.length, 5_000, 'a keeps working');
    equal(c.box('m2').filter((m) => m.from === 'm1'), ms);
    is(a.stats.dropped, 0);
    is(b.stats.received, ms.length + 1);
  }),
);

t('close() releases every socket and timer: open streams, a pending backoff, a peer mid-dial', async () => {
  const c = new Cluster();
  const a = await c.start('m1');
  const b = await c.start('m2');
  const x = await c.start('m3');
  // Streams both ways.
  a.send({ from: 'm1', to: 'm2', term: 1, type: 'timeoutNow' });
  b.send({ from: 'm2', to: 'm1', term: 1, type: 'timeoutNow' });
  await until(() => c.box('m2').length === 1 && c.box('m1').length === 1, 5_000, 'streams open');
  // A refused peer whose redial waits on a backoff timer.
  c.addrs.set('m4', { host: HOST, port: await freePort() });
  a.send({ from: 'm1', to: 'm4', term: 1, type: 'timeoutNow' });
  await until(() => a.stats.dropped === 1, 5_000, 'refusal');
  a.send({ from: 'm1', to: 'm4', term: 1, type: 'timeoutNow' }); // now held for the backoff
  // A dial still in flight when close() is called.
  x.send({ from: 'm3', to: 'm1', term: 1, type: 'timeoutNow' });
  await c.close();
  // After close: sends are silent no-ops.
  const sent = a.stats.sent;
  a.send({ from: 'm1', to: 'm2', term: 1, type: 'timeoutNow' });
  is(a.stats.sent, sent);
  ok(a.stats.dropped >= 2, 'the held frame counts as dropped');
  await a.close(); // idempotent
});

t.run();
