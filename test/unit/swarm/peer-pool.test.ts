// Channels from one manager to the others (agent/swarm/peer-pool.ts), with a
// fake dial the test resolves by hand: held notes, dial failures and the
// redial backoff, inbound channels, shared dials, drop and close.
import { suite, is, ok, equal } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import type { Addr } from '../../../shared/transport/types.js';
import { PeerPool, type PeerPoolOptions } from '../../../agent/swarm/peer-pool.js';
import type { Rpc } from '../../../agent/swarm/rpc.js';
import { FakeRpc } from './fake-rpc.js';

const t = suite('swarm/peer-pool');

interface Dial {
  id: string;
  addr: Addr;
  resolve(r: FakeRpc): void;
  reject(e: Error): void;
}

class Fixture {
  readonly clock = new ManualClock(10_000);
  readonly dials: Dial[] = [];
  readonly addrs = new Map<string, Addr>([
    ['m2', { host: '10.0.0.2', port: 2377 }],
    ['m3', { host: '10.0.0.3', port: 2377 }],
  ]);
  readonly pool: PeerPool;

  constructor(over: Partial<PeerPoolOptions> = {}) {
    this.pool = new PeerPool({
      clock: this.clock,
      addrOf: (id) => this.addrs.get(id),
      dial: (id, addr) =>
        new Promise<Rpc>((resolve, reject) => {
          this.dials.push({ id, addr, resolve: (r) => resolve(r.rpc), reject });
        }),
      ...over,
    });
  }

  /** Let the dial's promise callbacks run. */
  async flush(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
  }

  /** Complete the last dial with a fresh channel to its peer. */
  async connect(): Promise<FakeRpc> {
    const d = this.dials.at(-1)!;
    const r = new FakeRpc(d.id);
    d.resolve(r);
    await this.flush();
    return r;
  }

  async failDial(message = 'connect ECONNREFUSED'): Promise<void> {
    this.dials.at(-1)!.reject(new Error(message));
    await this.flush();
  }
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

t('notes sent while a dial runs are held, then flushed in order on the new channel', async () => {
  const f = new Fixture();
  f.pool.notify('m2', 'raft', 1);
  f.pool.notify('m2', 'raft', 2);
  f.pool.notify('m2', 'vote', { term: 3 });
  is(f.dials.length, 1, 'one dial for all three');
  is(f.dials[0]!.id, 'm2');
  equal(f.dials[0]!.addr, { host: '10.0.0.2', port: 2377 });
  equal(f.pool.stats, { dials: 1, dialFailures: 0, dropped: 0 });
  const r = await f.connect();
  equal(r.notes, [['raft', 1], ['raft', 2], ['vote', { term: 3 }]]);
  // Later notes go straight to the open channel: no new dial.
  f.pool.notify('m2', 'raft', 4);
  equal(r.notes.at(-1), ['raft', 4]);
  is(f.dials.length, 1);
  equal(f.pool.stats, { dials: 1, dialFailures: 0, dropped: 0 });
  f.pool.close();
});

t('the hold queue is bounded: when full, the oldest note is dropped', async () => {
  const f = new Fixture({ maxHeld: 2 });
  for (let i = 1; i <= 5; i++) f.pool.notify('m2', 'raft', i);
  is(f.pool.stats.dropped, 3);
  const r = await f.connect();
  equal(r.notes, [['raft', 4], ['raft', 5]]);
  f.pool.close();
});

t('a failed dial drops the held notes and starts a backoff; notes in it are dropped without dialling', async () => {
  const f = new Fixture();
  f.pool.notify('m2', 'raft', 1);
  f.pool.notify('m2', 'raft', 2);
  await f.failDial();
  equal(f.pool.stats, { dials: 1, dialFailures: 1, dropped: 2 });
  // Default backoff: 200 ms.
  f.clock.advance(199);
  f.pool.notify('m2', 'raft', 3);
  equal(f.pool.stats, { dials: 1, dialFailures: 1, dropped: 3 });
  is(f.dials.length, 1, 'no dial during the backoff');
  // Another peer is not affected.
  f.pool.notify('m3', 'raft', 1);
  is(f.dials.length, 2);
  is(f.dials[1]!.id, 'm3');
  const r3 = await f.connect();
  equal(r3.notes, [['raft', 1]]);
  // After the backoff: dial again, and hold meanwhile.
  f.clock.advance(1);
  f.pool.notify('m2', 'raft', 4);
  is(f.dials.length, 3);
  is(f.dials[2]!.id, 'm2');
  const r2 = await f.connect();
  equal(r2.notes, [['raft', 4]]);
  equal(f.pool.stats, { dials: 3, dialFailures: 1, dropped: 3 });
  f.pool.close();
});

t('the backoff doubles on each failure up to the max, and a success resets it', async () => {
  const f = new Fixture({ redialMinMs: 100, redialMaxMs: 1_000 });
  const expected = [100, 200, 400, 800, 1_000, 1_000];
  for (const [i, backoff] of expected.entries()) {
    f.pool.notify('m2', 'raft', i);
    is(f.dials.length, i + 1, `dial ${i + 1}`);
    await f.failDial();
    f.clock.advance(backoff - 1);
    f.pool.notify('m2', 'raft', 'in backoff');
    is(f.dials.length, i + 1, `still in the ${backoff} ms backoff`);
    f.clock.advance(1);
  }
  equal(f.pool.stats, { dials: 6, dialFailures: 6, dropped: 12 });
  // A success resets the backoff...
  f.pool.notify('m2', 'raft', 'ok');
  const r = await f.connect();
  equal(r.notes, [['raft', 'ok']]);
  // ...so the next failure backs off the minimum again.
  r.close();
  f.pool.notify('m2', 'raft', 'x');
  is(f.dials.length, 8);
  await f.failDial();
  f.clock.advance(99);
  f.pool.notify('m2', 'raft', 'y');
  is(f.dials.length, 8);
  f.clock.advance(1);
  f.pool.notify('m2', 'raft', 'z');
  is(f.dials.length, 9);
  await f.failDial();
  f.pool.close();
});

t('channel() rejects with the dial\'s error', async () => {
  const f = new Fixture();
  const p = f.pool.channel('m2');
  f.dials[0]!.reject(new Error('handshake with 10.0.0.2:2377 did not finish within 10000 ms'));
  const e = await rejection(p);
  is(e.message, 'handshake with 10.0.0.2:2377 did not finish within 10000 ms');
  equal(f.pool.stats, { dials: 1, dialFailures: 1, dropped: 0 });
  f.pool.close();
});

t('adopt() makes an inbound channel usable for notify, without a dial, until it closes', async () => {
  const f = new Fixture();
  const inbound = new FakeRpc('m3');
  f.pool.adopt(inbound.rpc);
  f.pool.notify('m3', 'raft', 1);
  equal(inbound.notes, [['raft', 1]]);
  is(f.dials.length, 0);
  is(await f.pool.channel('m3'), inbound.rpc);
  is(f.dials.length, 0);
  // Once it closes the pool dials.
  inbound.close();
  f.pool.notify('m3', 'raft', 2);
  is(f.dials.length, 1);
  const out = await f.connect();
  equal(out.notes, [['raft', 2]]);
  f.pool.close();
});

t('adopt() during a dial flushes the held notes to the inbound channel', async () => {
  const f = new Fixture();
  f.pool.notify('m2', 'raft', 1);
  f.pool.notify('m2', 'raft', 2);
  const inbound = new FakeRpc('m2');
  f.pool.adopt(inbound.rpc);
  equal(inbound.notes, [['raft', 1], ['raft', 2]]);
  // The dial completes too: nothing is sent twice, and the first open channel keeps being used.
  const dialled = await f.connect();
  equal(dialled.notes, []);
  f.pool.notify('m2', 'raft', 3);
  equal(inbound.notes.at(-1), ['raft', 3]);
  equal(dialled.notes, []);
  // The inbound one closes: the dialled one takes over without a new dial.
  inbound.close();
  f.pool.notify('m2', 'raft', 4);
  equal(dialled.notes, [['raft', 4]]);
  is(f.dials.length, 1);
  f.pool.close();
});

t('a closed channel still in the set is skipped', async () => {
  const f = new Fixture();
  // A channel that reports closed but never ran its onClose callbacks.
  const stale = new FakeRpc('m2');
  f.pool.adopt(stale.rpc);
  stale.closed = true;
  f.pool.notify('m2', 'raft', 1);
  is(f.dials.length, 1);
  equal(stale.notes, []);
  const fresh = await f.connect();
  equal(fresh.notes, [['raft', 1]]);
  f.pool.close();
});

t('concurrent channel() calls share one dial', async () => {
  const f = new Fixture();
  const a = f.pool.channel('m2');
  const b = f.pool.channel('m2');
  f.pool.notify('m2', 'raft', 1);
  is(a, b, 'the same promise');
  is(f.dials.length, 1);
  is(f.pool.stats.dials, 1);
  const r = await f.connect();
  is(await a, r.rpc);
  is(await b, r.rpc);
  equal(r.notes, [['raft', 1]]);
  // Open now: no dial.
  is(await f.pool.channel('m2'), r.rpc);
  is(f.dials.length, 1);
  // A failed shared dial rejects every waiter.
  r.close();
  const c = f.pool.channel('m2');
  const d = f.pool.channel('m2');
  is(f.dials.length, 2);
  f.dials[1]!.reject(new Error('no route'));
  is((await rejection(c)).message, 'no route');
  is((await rejection(d)).message, 'no route');
  is(f.pool.stats.dialFailures, 1);
  f.pool.close();
});

t('drop() closes every channel to the peer; the next note dials afresh', async () => {
  const f = new Fixture();
  f.pool.notify('m2', 'raft', 1);
  const dialled = await f.connect();
  const inbound = new FakeRpc('m2');
  f.pool.adopt(inbound.rpc);
  const other = new FakeRpc('m3');
  f.pool.adopt(other.rpc);
  f.pool.drop('m2');
  is(dialled.closeCalls, 1);
  is(inbound.closeCalls, 1);
  is(other.closeCalls, 0, 'other peers keep theirs');
  f.pool.drop('m2'); // nothing left: no-op
  f.pool.drop('never-seen');
  is(dialled.closeCalls, 1);
  f.pool.notify('m2', 'raft', 2);
  is(f.dials.length, 2);
  const again = await f.connect();
  equal(again.notes, [['raft', 2]]);
  f.pool.close();
});

t('an unknown address rejects; notes to such a peer are dropped without a dial', async () => {
  const f = new Fixture();
  const e = await rejection(f.pool.channel('m9'));
  is(e.message, 'the address of manager m9 is not known');
  f.pool.notify('m9', 'raft', 1);
  f.pool.notify('m9', 'raft', 2);
  await f.flush();
  equal(f.pool.stats, { dials: 0, dialFailures: 0, dropped: 2 });
  is(f.dials.length, 0);
  // The address is read at every dial: once known, the peer is reachable.
  f.addrs.set('m9', { host: '10.0.0.9', port: 2377 });
  f.pool.notify('m9', 'raft', 3);
  is(f.dials.length, 1);
  equal(f.dials[0]!.addr, { host: '10.0.0.9', port: 2377 });
  const r = await f.connect();
  equal(r.notes, [['raft', 3]]);
  f.pool.close();
});

t('close() closes every channel, refuses new ones, and closes a channel whose dial completes after', async () => {
  const f = new Fixture();
  f.pool.notify('m2', 'raft', 1);
  const r2 = await f.connect();
  const inbound = new FakeRpc('m3');
  f.pool.adopt(inbound.rpc);
  const pending = f.pool.channel('m9x'); // unknown: rejects at once
  await rejection(pending);
  f.addrs.set('m4', { host: '10.0.0.4', port: 2377 });
  const late = f.pool.channel('m4');
  f.pool.close();
  is(r2.closeCalls, 1);
  is(inbound.closeCalls, 1);
  const lateRpc = new FakeRpc('m4');
  f.dials.at(-1)!.resolve(lateRpc);
  is((await rejection(late)).message, 'the manager is shutting down');
  is(lateRpc.closeCalls, 1);
  is((await rejection(f.pool.channel('m2'))).message, 'the manager is shutting down');
  f.pool.notify('m2', 'raft', 2);
  const adoptedLate = new FakeRpc('m3');
  f.pool.adopt(adoptedLate.rpc);
  f.pool.notify('m3', 'raft', 3);
  equal(adoptedLate.notes, []);
  is(f.dials.length, 2);
  ok(r2.notes.length === 1);
});

t.run();
