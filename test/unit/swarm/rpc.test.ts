// Requests, answers and notes over a real 2377 secure channel on MemNet under
// a ManualClock (agent/swarm/rpc.ts): answers and remote errors, notes, the
// call timeout, what a close does to pending calls, and a malformed message.
import { suite, is, ok, equal, match } from '../../harness.js';
import { secureConnect, type SecureConn, type SecureListener } from '../../../agent/cluster/channel/index.js';
import { ChannelClosedError, RemoteError, Rpc, type RpcHandlers } from '../../../agent/swarm/rpc.js';
import { MANAGER_IP, MEMBER_IP, PORT, World, text } from '../cluster/channel/fixtures.js';

const t = suite('swarm/rpc');
const MGR = { host: MANAGER_IP, port: PORT };

interface Pair {
  w: World;
  l: SecureListener;
  /** The member's end (it dialled). */
  c: Rpc;
  /** The manager's end (it accepted). */
  s: Rpc;
  cc: SecureConn;
  sc: SecureConn;
}

async function pair(seed: number, client: RpcHandlers = {}, server: RpcHandlers = {}): Promise<Pair> {
  const w = new World(seed);
  const { l, conns } = await w.listen();
  const cc = await w.settle(secureConnect(w.transport(MEMBER_IP), MGR, { key: w.member.key, trust: w.memberTrust(), clock: w.clock, rand: w.rand.fork() }));
  await w.until(() => conns.length === 1, 'the accepted channel');
  const sc = conns[0]!;
  return { w, l, cc, sc, c: new Rpc(cc, w.clock, client), s: new Rpc(sc, w.clock, server) };
}

async function done(p: Pair): Promise<void> {
  p.c.close();
  p.s.close();
  await p.w.until(() => p.c.closed && p.s.closed, 'both ends closed');
  await p.l.close();
}

/** The rejection of p (settling the world); fails when p resolves. */
async function rejection(w: World, p: Promise<unknown>): Promise<Error> {
  return w.rejection(p);
}

t('call -> answer: the handler sees the method, the args and its own Rpc', async () => {
  const seen: { method: string; args: unknown; rpc: Rpc }[] = [];
  const p = await pair(1, {}, {
    request(method, args, rpc) {
      seen.push({ method, args, rpc });
      return { echo: args, method };
    },
  });
  const answer = await p.w.settle(p.c.call<{ echo: unknown; method: string }>('node.list', { filter: 'x', n: 3 }, 5_000));
  equal(answer, { echo: { filter: 'x', n: 3 }, method: 'node.list' });
  is(seen.length, 1);
  is(seen[0]!.method, 'node.list');
  equal(seen[0]!.args, { filter: 'x', n: 3 });
  is(seen[0]!.rpc, p.s);
  is(p.s.peer.nodeId, p.w.member.key.nodeId);
  is(p.c.peer.nodeId, p.w.manager.key.nodeId);
  is(p.c.conn, p.cc);
  is(p.c.closed, false);
  // An async handler answering undefined answers null.
  p.s.setHandlers({ request: async () => undefined });
  is(await p.w.settle(p.c.call('void', null, 5_000)), null);
  is(p.c.stats.malformed, 0);
  is(p.s.stats.malformed, 0);
  await done(p);
});

t('the answer cancels the call timer', async () => {
  const p = await pair(2, {}, { request: () => 42 });
  const start = p.w.clock.nowMs();
  const v = await p.w.settle(p.c.call('m', null, 1_000));
  is(v, 42);
  // Let the network go quiet (its timers are all well before the call's deadline)...
  await p.w.until(() => (p.w.clock.nextDueMs() ?? Infinity) >= start + 500, 'the network to go quiet');
  // ...then no timer is left: a live call timer would be due at start + 1000.
  is(p.w.clock.nextDueMs(), undefined);
  is(p.w.clock.pending(), 0);
  await done(p);
});

t('a handler throwing RemoteError answers with its code, message and leader', async () => {
  const p = await pair(3, {}, {
    request(method) {
      if (method === 'lead') throw new RemoteError('ENOTLEADER', 'not the leader', '10.0.0.9:2377');
      throw new RemoteError('ECONFLICT', 'version 3 is stale');
    },
  });
  const e1 = await rejection(p.w, p.c.call('lead', null, 5_000));
  ok(e1 instanceof RemoteError);
  is((e1 as RemoteError).code, 'ENOTLEADER');
  is(e1.message, 'not the leader');
  is((e1 as RemoteError).leader, '10.0.0.9:2377');
  const e2 = await rejection(p.w, p.c.call('update', null, 5_000));
  ok(e2 instanceof RemoteError);
  is((e2 as RemoteError).code, 'ECONFLICT');
  is(e2.message, 'version 3 is stale');
  is((e2 as RemoteError).leader, undefined);
  await done(p);
});

t('a handler throwing a plain Error (or rejecting, or throwing a non-Error) answers EINVAL with its message', async () => {
  const p = await pair(4, {}, {
    request(method) {
      if (method === 'sync') throw new Error('bad name "x"');
      if (method === 'async') return Promise.reject(new TypeError('not a number'));
      throw 'a string'; // eslint-disable-line no-throw-literal
    },
  });
  for (const [method, message] of [['sync', 'bad name "x"'], ['async', 'not a number'], ['other', 'a string']] as const) {
    const e = await rejection(p.w, p.c.call(method, null, 5_000));
    ok(e instanceof RemoteError, `${method}: ${String(e)}`);
    is((e as RemoteError).code, 'EINVAL');
    is(e.message, message);
    is((e as RemoteError).leader, undefined);
  }
  // The channel stays up after handler failures.
  is(p.c.closed, false);
  is(p.s.closed, false);
  await done(p);
});

t('no request handler: EINVAL "<method>: not served here"', async () => {
  const p = await pair(5);
  const e = await rejection(p.w, p.c.call('node.remove', { id: 'x' }, 5_000));
  ok(e instanceof RemoteError);
  is((e as RemoteError).code, 'EINVAL');
  is(e.message, 'node.remove: not served here');
  await done(p);
});

t('notify reaches the other side\'s notify handler, in order, with no answer', async () => {
  const got: [string, unknown, Rpc][] = [];
  const p = await pair(6, {}, { notify: (kind, body, rpc) => got.push([kind, body, rpc]) });
  p.c.notify('raft', { term: 1 });
  p.c.notify('raft', { term: 2 });
  p.c.notify('hello', undefined);
  await p.w.until(() => got.length === 3, 'three notes');
  equal(got.map(([k, b]) => [k, b]), [['raft', { term: 1 }], ['raft', { term: 2 }], ['hello', null]]);
  is(got[0]![2], p.s);
  // A note to a side without a notify handler is ignored.
  const before = got.length;
  p.s.notify('ignored', 1);
  p.c.notify('last', 2);
  await p.w.until(() => got.length === before + 1, 'the last note');
  is(got[before]![0], 'last');
  is(p.c.closed, false);
  await done(p);
});

t('a call with no answer rejects with EUNKNOWN after its timeout; a late answer is ignored', async () => {
  let release: ((v: unknown) => void) | undefined;
  const p = await pair(7, {}, { request: () => new Promise((r) => (release = r)) });
  const start = p.w.clock.nowMs();
  let settled: Error | undefined;
  const call = p.c.call('slow', null, 3_000);
  call.catch((e: Error) => (settled = e));
  await p.w.until(() => release !== undefined, 'the request to arrive');
  p.w.clock.advanceTo(start + 2_999);
  await new Promise<void>((r) => setImmediate(r));
  is(settled, undefined, 'not before the timeout');
  p.w.clock.advanceTo(start + 3_000);
  await new Promise<void>((r) => setImmediate(r));
  ok(settled instanceof RemoteError, String(settled));
  is((settled as unknown as RemoteError).code, 'EUNKNOWN');
  is(settled!.message, `slow: no answer from ${MANAGER_IP}:${PORT} within 3000 ms`);
  // The answer comes after all: dropped, the channel stays up and works.
  release!('late');
  p.s.setHandlers({ request: () => 'fresh' });
  is(await p.w.settle(p.c.call('next', null, 3_000)), 'fresh');
  is(p.c.stats.malformed, 0);
  is(p.c.closed, false);
  await done(p);
});

t('closing the channel rejects pending calls with ChannelClosedError and runs onClose callbacks once', async () => {
  const p = await pair(8, {}, { request: () => new Promise(() => {}) });
  const closesC: (Error | undefined)[] = [];
  const closesS: (Error | undefined)[] = [];
  p.c.onClose((e) => closesC.push(e));
  p.c.onClose((e) => closesC.push(e ?? new Error('second callback')));
  p.s.onClose((e) => closesS.push(e));
  const a = p.c.call('a', null, 60_000);
  const b = p.c.call('b', null, 60_000);
  const fromServer = p.s.call('c', null, 60_000); // the member has no handler: answered EINVAL
  const errs: Error[] = [];
  a.catch((e: Error) => errs.push(e));
  b.catch((e: Error) => errs.push(e));
  const eC = await rejection(p.w, fromServer);
  is((eC as RemoteError).code, 'EINVAL');
  p.c.close();
  p.c.close(); // idempotent
  await p.w.until(() => errs.length === 2 && p.s.closed, 'both calls rejected, the far end closed');
  for (const e of errs) {
    ok(e instanceof ChannelClosedError, String(e));
    is(e.name, 'ChannelClosedError');
    is(e.message, `the channel to ${MANAGER_IP}:${PORT} closed`);
  }
  is(closesC.length, 2, 'each callback once');
  is(closesC[0], undefined);
  match(closesC[1]!.message, 'second callback');
  is(closesS.length, 1);
  is(closesS[0], undefined);
  is(p.c.closed, true);
  // More time and more closes change nothing.
  p.w.clock.advance(120_000);
  p.c.close();
  await p.w.pump();
  is(closesC.length, 2);
  is(closesS.length, 1);
  // After the close: calls reject at once, notes are dropped, a late onClose runs at once.
  const late = await rejection(p.w, p.c.call('after', null, 1_000));
  ok(late instanceof ChannelClosedError);
  is(late.message, `the channel to ${p.w.manager.key.nodeId} is closed`);
  p.c.notify('dropped', null);
  let lateCb: Error | undefined | null = null;
  p.c.onClose((e) => (lateCb = e));
  is(lateCb, undefined);
  await done(p);
});

t('the far end closing rejects pending calls on this end too', async () => {
  const p = await pair(9, {}, { request: () => new Promise(() => {}) });
  const pending = p.c.call('hang', null, 60_000);
  await p.w.pump();
  p.s.close();
  const e = await rejection(p.w, pending);
  ok(e instanceof ChannelClosedError);
  is(e.message, `the channel to ${MANAGER_IP}:${PORT} closed`);
  is(p.c.closed, true);
  await done(p);
});

t('a malformed message closes the channel and increments stats.malformed', async () => {
  const got: string[] = [];
  const p = await pair(10, {}, { notify: (kind) => got.push(kind) });
  const pending = p.s.call('x', null, 60_000); // pending on the side that will see the junk
  p.c.notify('before', null);
  p.c.conn.send(text('not a control message'));
  p.c.notify('after', null); // after the junk: never handled
  const e = await rejection(p.w, pending);
  ok(e instanceof ChannelClosedError, String(e));
  is(p.s.stats.malformed, 1);
  is(p.c.stats.malformed, 0);
  is(p.s.closed, true);
  await p.w.until(() => p.c.closed, 'the sender to see the close');
  equal(got, ['before']);
  await done(p);
});

t('a valid CBOR value that is not a control message is malformed too; the stats object can be shared', async () => {
  const w = new World(11);
  const { l, conns } = await w.listen();
  const cc = await w.settle(secureConnect(w.transport(MEMBER_IP), MGR, { key: w.member.key, trust: w.memberTrust(), clock: w.clock, rand: w.rand.fork() }));
  await w.until(() => conns.length === 1, 'the accepted channel');
  const shared = { malformed: 5 };
  const s = new Rpc(conns[0]!, w.clock, {}, shared);
  const c = new Rpc(cc, w.clock, {});
  is(s.stats, shared);
  cc.send(Uint8Array.of(0x83, 0x09, 0x61, 0x6b, 0xf6)); // [9, "k", null]: unknown type 9
  await w.until(() => s.closed && c.closed, 'both ends closed');
  is(shared.malformed, 6);
  await l.close();
});

t('calls both directions on one channel, interleaved, each matched to its own answer', async () => {
  const p = await pair(12, { request: (m, a) => `member:${m}:${String(a)}` }, { request: async (m, a) => `manager:${m}:${String(a)}` });
  const calls = [
    p.c.call('x', 1, 5_000),
    p.s.call('y', 2, 5_000),
    p.c.call('z', 3, 5_000),
    p.s.call('w', 4, 5_000),
  ];
  const all = await p.w.settle(Promise.all(calls));
  equal(all, ['manager:x:1', 'member:y:2', 'manager:z:3', 'member:w:4']);
  // A handler may call back over the same channel before answering.
  p.s.setHandlers({ request: async (m, _a, rpc) => `outer(${String(await rpc.call('inner', m, 5_000))})` });
  is(await p.w.settle(p.c.call('q', null, 5_000)), 'outer(member:inner:q)');
  await done(p);
});

t.run();
