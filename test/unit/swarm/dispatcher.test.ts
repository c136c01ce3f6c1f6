// The leader's dispatcher (agent/swarm/dispatcher.ts): which nodes the
// periodic check marks down (a table), and the session life cycle with a
// ManualClock, a fake store and fake channels.
import { suite, is, ok, equal, throws } from '../../harness.js';
import { ManualClock } from '../../../shared/clock.js';
import type { Node, NodeState } from '../../../agent/cluster/store/types.js';
import { DOWN_AFTER_PERIODS, Dispatcher, nodesToMarkDown } from '../../../agent/swarm/dispatcher.js';
import { FakeRpc } from './fake-rpc.js';

const t = suite('swarm/dispatcher');

t('DOWN_AFTER_PERIODS is 3 (swarmkit: down after ~3 missed heartbeats)', () => {
  is(DOWN_AFTER_PERIODS, 3);
});

// ---- nodesToMarkDown ------------------------------------------------------

const n = (id: string, state: NodeState): Pick<Node, 'id' | 'status'> => ({ id, status: { state, message: '' } });

interface Row {
  name: string;
  nodes: Pick<Node, 'id' | 'status'>[];
  seen: [string, number][];
  since: number;
  now: number;
  period: number;
  want: string[];
}

const ROWS: Row[] = [
  { name: 'no nodes', nodes: [], seen: [], since: 0, now: 1e9, period: 1000, want: [] },
  { name: 'never seen, just under 3 periods since the leader took over', nodes: [n('a', 'ready')], seen: [], since: 10_000, now: 12_999, period: 1000, want: [] },
  { name: 'never seen, exactly 3 periods since the leader took over', nodes: [n('a', 'ready')], seen: [], since: 10_000, now: 13_000, period: 1000, want: ['a'] },
  { name: 'never seen: counted from leaderSinceMs, not from 0', nodes: [n('a', 'ready')], seen: [], since: 100_000, now: 101_000, period: 100, want: ['a'] },
  { name: 'never seen, leader just took over', nodes: [n('a', 'ready')], seen: [], since: 100_000, now: 100_299, period: 100, want: [] },
  { name: 'seen 1 ms short of 3 periods ago', nodes: [n('a', 'ready')], seen: [['a', 11_001]], since: 0, now: 14_000, period: 1000, want: [] },
  { name: 'seen exactly 3 periods ago', nodes: [n('a', 'ready')], seen: [['a', 11_000]], since: 0, now: 14_000, period: 1000, want: ['a'] },
  { name: 'seen long ago', nodes: [n('a', 'ready')], seen: [['a', 0]], since: 0, now: 1e9, period: 5000, want: ['a'] },
  { name: 'last seen beats leaderSinceMs', nodes: [n('a', 'ready')], seen: [['a', 20_000]], since: 0, now: 22_000, period: 1000, want: [] },
  { name: 'already down: skipped', nodes: [n('a', 'down')], seen: [], since: 0, now: 1e9, period: 1000, want: [] },
  { name: 'already down though seen long ago: skipped', nodes: [n('a', 'down')], seen: [['a', 0]], since: 0, now: 1e9, period: 1000, want: [] },
  { name: 'unknown and disconnected count as up', nodes: [n('u', 'unknown'), n('d', 'disconnected')], seen: [], since: 0, now: 3000, period: 1000, want: ['u', 'd'] },
  {
    name: 'a mix, in the order of the nodes',
    nodes: [n('c', 'ready'), n('down', 'down'), n('b', 'ready'), n('fresh', 'ready'), n('a', 'ready')],
    seen: [['c', 1000], ['b', 6000], ['fresh', 9000], ['a', 7000]],
    since: 0,
    now: 10_000,
    period: 1000,
    want: ['c', 'b', 'a'],
  },
];

for (const r of ROWS) {
  t(`nodesToMarkDown: ${r.name}`, () => {
    equal(nodesToMarkDown(r.nodes, new Map(r.seen), r.since, r.now, r.period), r.want);
  });
}

// ---- Dispatcher -----------------------------------------------------------

const META = { version: 1, createdAtIndex: 1, updatedAtIndex: 1 };

function node(id: string, state: NodeState): Node {
  return {
    id,
    role: 'worker',
    availability: 'active',
    hostname: `host-${id}`,
    addr: '10.0.0.2:2377',
    dataAddr: '10.0.0.2',
    publicKey: new Uint8Array(32),
    labels: {},
    status: { state, message: '' },
    meta: META,
  };
}

/** A fake store: nodes, assignments, and every setStatus call (applied to the node, as the store would). */
class Fixture {
  readonly clock = new ManualClock(1_000);
  readonly nodes: Node[] = [];
  readonly assignments = new Map<string, unknown>();
  readonly statusCalls: { atMs: number; id: string; state: 'ready' | 'down'; message: string }[] = [];
  periodMs = 1000;
  apply = true;
  readonly d: Dispatcher;

  constructor(nodes: Node[] = []) {
    this.nodes.push(...nodes);
    this.d = new Dispatcher({
      clock: this.clock,
      nodes: () => this.nodes,
      periodMs: () => this.periodMs,
      assignment: (id) => this.assignments.get(id) ?? { node: id, tasks: [] },
      setStatus: (id, state, message) => {
        this.statusCalls.push({ atMs: this.clock.nowMs(), id, state, message });
        const x = this.nodes.find((y) => y.id === id);
        if (x && this.apply) x.status = { state, message };
      },
    });
  }

  state(id: string): NodeState | undefined {
    return this.nodes.find((x) => x.id === id)?.status.state;
  }
}

t('open() marks a not-ready node ready and returns its assignment', () => {
  const f = new Fixture([node('a', 'down'), node('b', 'unknown'), node('c', 'ready')]);
  f.assignments.set('a', { node: 'a', tasks: ['t1'] });
  const ra = new FakeRpc('a');
  equal(f.d.open('a', ra.rpc), { node: 'a', tasks: ['t1'] });
  equal(f.statusCalls, [{ atMs: 1_000, id: 'a', state: 'ready', message: '' }]);
  equal(f.d.open('b', new FakeRpc('b').rpc), { node: 'b', tasks: [] });
  equal(f.statusCalls.map((c) => [c.id, c.state]), [['a', 'ready'], ['b', 'ready']]);
  // Already ready: nothing to record.
  f.d.open('c', new FakeRpc('c').rpc);
  is(f.statusCalls.length, 2);
  // Not in the store (yet): no status to set, the session is still opened.
  f.d.open('ghost', new FakeRpc('ghost').rpc);
  is(f.statusCalls.length, 2);
  equal([...f.d.live()].sort(), ['a', 'b', 'c', 'ghost']);
  // open() itself sends nothing: the assignment is its answer.
  equal(ra.notes, []);
  f.d.stop();
});

t('push() sends "assign" only when the encoding of the assignment changed', () => {
  const f = new Fixture([node('a', 'ready'), node('b', 'ready')]);
  f.assignments.set('a', { tasks: ['t1'], networks: ['n1'] });
  f.assignments.set('b', { tasks: [] });
  const ra = new FakeRpc('a');
  const rb = new FakeRpc('b');
  f.d.open('a', ra.rpc);
  f.d.open('b', rb.rpc);
  f.d.push(); // unchanged since open()
  equal(ra.notes, []);
  equal(rb.notes, []);
  // The same value built in another key order encodes the same: nothing sent.
  f.assignments.set('a', { networks: ['n1'], tasks: ['t1'] });
  f.d.push();
  equal(ra.notes, []);
  // A real change goes to that node only, once.
  f.assignments.set('a', { tasks: ['t1', 't2'], networks: ['n1'] });
  f.d.push();
  f.d.push();
  equal(ra.notes, [['assign', { tasks: ['t1', 't2'], networks: ['n1'] }]]);
  equal(rb.notes, []);
  // Back to an earlier value is a change too.
  f.assignments.set('a', { tasks: ['t1'], networks: ['n1'] });
  f.assignments.set('b', { tasks: ['x'] });
  f.d.push();
  equal(ra.notes.length, 2);
  equal(ra.notes[1], ['assign', { tasks: ['t1'], networks: ['n1'] }]);
  equal(rb.notes, [['assign', { tasks: ['x'] }]]);
  f.d.stop();
});

t('heartbeat() without a session (or over another channel) throws; with one it answers the period', () => {
  const f = new Fixture([node('a', 'ready')]);
  const ra = new FakeRpc('a');
  throws(() => f.d.heartbeat('a', ra.rpc), (e: Error) => e.message === 'no session: open one first');
  f.d.open('a', ra.rpc);
  throws(() => f.d.heartbeat('a', new FakeRpc('other').rpc), (e: Error) => e.message === 'no session: open one first');
  equal(f.d.heartbeat('a', ra.rpc), { periodMs: 1000 });
  f.periodMs = 2500;
  equal(f.d.heartbeat('a', ra.rpc), { periodMs: 2500 });
  f.d.stop();
});

t('heartbeats every period keep a node up', () => {
  const f = new Fixture([node('a', 'ready')]);
  const ra = new FakeRpc('a');
  f.d.open('a', ra.rpc);
  for (let i = 0; i < 20; i++) {
    f.clock.advance(1000);
    f.d.heartbeat('a', ra.rpc);
  }
  // Even late heartbeats, as long as each gap stays under 3 periods.
  for (let i = 0; i < 5; i++) {
    f.clock.advance(2_900);
    f.d.heartbeat('a', ra.rpc);
  }
  equal(f.statusCalls, []);
  is(f.state('a'), 'ready');
  f.d.stop();
});

t('3 silent periods: the periodic check marks the node down with "heartbeat failure", once', () => {
  const f = new Fixture([node('a', 'ready')]);
  const ra = new FakeRpc('a');
  f.d.open('a', ra.rpc); // at 1000: last seen 1000
  f.clock.advance(1000);
  f.d.heartbeat('a', ra.rpc); // last seen 2000
  // The check runs every period/2 = 500 ms; down is due at 2000 + 3000 = 5000.
  f.clock.advanceTo(4_999);
  equal(f.statusCalls, []);
  f.clock.advanceTo(5_000);
  equal(f.statusCalls, [{ atMs: 5_000, id: 'a', state: 'down', message: 'heartbeat failure' }]);
  is(f.state('a'), 'down');
  // Already down: later checks leave it alone.
  f.clock.advance(10_000);
  is(f.statusCalls.length, 1);
  f.d.stop();
});

t('the check re-reads the period and never runs more often than every 50 ms', () => {
  const f = new Fixture([node('a', 'ready')]);
  f.apply = false; // the store never applies: every check marks it again
  f.periodMs = 40; // period/2 = 20 ms, clamped to 50; down after 120 ms
  f.clock.advance(49); // the first check was scheduled with period 1000 at construction: 500 ms
  f.d.open('a', new FakeRpc('a').rpc); // last seen 1049
  f.clock.advanceTo(1_500); // first check: 451 ms silent > 120: down
  equal(f.statusCalls, [{ atMs: 1_500, id: 'a', state: 'down', message: 'heartbeat failure' }]);
  f.clock.advanceTo(1_549);
  is(f.statusCalls.length, 1, 'no check between 1500 and 1550');
  f.clock.advanceTo(1_550);
  is(f.statusCalls.length, 2, 'the next check 50 ms later');
  f.d.stop();
});

t('a node never heard from since this leader took over is marked down 3 periods after it did', () => {
  const f = new Fixture([node('quiet', 'ready'), node('gone', 'down')]);
  f.clock.advanceTo(3_999);
  equal(f.statusCalls, []);
  f.clock.advanceTo(4_000);
  equal(f.statusCalls, [{ atMs: 4_000, id: 'quiet', state: 'down', message: 'heartbeat failure' }]);
  f.d.stop();
});

t('a heartbeat from a node the store shows down marks it ready again', () => {
  const f = new Fixture([node('a', 'ready')]);
  const ra = new FakeRpc('a');
  f.d.open('a', ra.rpc);
  f.clock.advance(3_000); // silent: marked down, session still open (heartbeats were only delayed)
  equal(f.statusCalls.map((c) => c.state), ['down']);
  equal([...f.d.live()], ['a']);
  equal(f.d.heartbeat('a', ra.rpc), { periodMs: 1000 });
  equal(f.statusCalls[1], { atMs: 4_000, id: 'a', state: 'ready', message: '' });
  is(f.state('a'), 'ready');
  // A heartbeat from a ready node records nothing.
  f.d.heartbeat('a', ra.rpc);
  is(f.statusCalls.length, 2);
  // And it counts as seen: not marked down again until 3 more silent periods.
  f.clock.advanceTo(6_999);
  is(f.statusCalls.length, 2);
  f.clock.advanceTo(7_000);
  equal(f.statusCalls[2], { atMs: 7_000, id: 'a', state: 'down', message: 'heartbeat failure' });
  f.d.stop();
});

t('evict() closes the session: no more pushes, heartbeats refused', () => {
  const f = new Fixture([node('a', 'ready'), node('b', 'ready')]);
  const ra = new FakeRpc('a');
  const rb = new FakeRpc('b');
  f.d.open('a', ra.rpc);
  f.d.open('b', rb.rpc);
  f.d.evict('a');
  is(ra.closeCalls, 1);
  is(ra.closed, true);
  is(rb.closeCalls, 0);
  equal([...f.d.live()], ['b']);
  f.assignments.set('a', { changed: true });
  f.d.push();
  equal(ra.notes, []);
  throws(() => f.d.heartbeat('a', ra.rpc), (e: Error) => e.message === 'no session: open one first');
  f.d.evict('nobody'); // no session: nothing happens
  f.d.stop();
});

t('a channel that closes ends its session; a new session for the node replaces (and closes) the old one', () => {
  const f = new Fixture([node('a', 'ready')]);
  const r1 = new FakeRpc('a1');
  f.d.open('a', r1.rpc);
  const r2 = new FakeRpc('a2');
  f.d.open('a', r2.rpc);
  is(r1.closeCalls, 1);
  // The old channel's close does not end the new session.
  equal([...f.d.live()], ['a']);
  equal(f.d.heartbeat('a', r2.rpc), { periodMs: 1000 });
  throws(() => f.d.heartbeat('a', r1.rpc), (e: Error) => e.message === 'no session: open one first');
  // Opening again over the same channel keeps it open.
  f.d.open('a', r2.rpc);
  is(r2.closeCalls, 0);
  r2.close(); // the node went away
  equal([...f.d.live()], []);
  f.d.stop();
});

t('stop() closes every session, cancels its timer, and refuses new sessions', () => {
  const f = new Fixture([node('a', 'ready'), node('b', 'ready')]);
  const ra = new FakeRpc('a');
  const rb = new FakeRpc('b');
  f.d.open('a', ra.rpc);
  f.d.open('b', rb.rpc);
  is(f.clock.pending(), 1);
  f.d.stop();
  is(f.clock.pending(), 0);
  is(ra.closeCalls, 1);
  is(rb.closeCalls, 1);
  equal([...f.d.live()], []);
  throws(() => f.d.open('a', new FakeRpc('a').rpc), (e: Error) => e.message === 'the dispatcher stopped');
  f.clock.advance(60_000);
  equal(f.statusCalls, []);
  f.d.stop(); // idempotent
  is(ra.closeCalls, 1);
  ok(f.clock.runAll() === 0);
});

t.run();
