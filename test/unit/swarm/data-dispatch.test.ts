// The dispatcher pushes each node's data keys and peers (issue 7) when they
// change: the manager calls push() after every applied store command, and
// push() sends a node its assignment only when the encoding differs. Here a
// real store and the real dataAssignment (what Manager.assignment adds), so
// the table says which store changes reach which node, and that nothing
// else does.
import { suite, is, equal } from '../../harness.js';
import { update } from '../../../agent/cluster/store/index.js';
import { dataAssignment, rotateDataKeys } from '../../../agent/swarm/data-keys.js';
import { Dispatcher } from '../../../agent/swarm/dispatcher.js';
import { FakeRpc } from './fake-rpc.js';
import { PERIOD_MS, world, type World } from './data-fixture.js';

const t = suite('swarm/data-dispatch');
const SEED = Number(process.env.TEST_SEED ?? 0xd15);
const IDS = ['a', 'b', 'c'] as const;

interface Rig extends World {
  sec: string;
  plain: string;
  d: Dispatcher;
  rpcs: Record<string, FakeRpc>;
  /** The notes each node got since the last call, then push() as the manager does after an apply. */
  pushed(): Record<string, number>;
}

async function rig(): Promise<Rig> {
  const w = await world(SEED);
  for (const id of IDS) w.node(id);
  const sec = await w.net({ Name: 'sec', Options: { encrypted: '' } });
  const plain = await w.net({ Name: 'plain' });
  const d = new Dispatcher({
    clock: w.clock,
    nodes: () => w.store.list('node'),
    periodMs: () => 60_000,
    assignment: (id) => (w.store.get('node', id) ? dataAssignment(w.store, id) : null),
    setStatus: () => {},
  });
  const rpcs: Record<string, FakeRpc> = {};
  for (const id of IDS) {
    rpcs[id] = new FakeRpc(id);
    d.open(id, rpcs[id].rpc);
  }
  const seen: Record<string, number> = { a: 0, b: 0, c: 0 };
  return {
    ...w,
    sec,
    plain,
    d,
    rpcs,
    pushed() {
      d.push();
      const out: Record<string, number> = {};
      for (const id of IDS) {
        out[id] = rpcs[id]!.notes.length - seen[id]!;
        seen[id] = rpcs[id]!.notes.length;
      }
      return out;
    },
  };
}

t('pushes follow the data assignment: tasks, keys, networks and nodes that matter, and nothing else', async () => {
  const r = await rig();
  equal(r.pushed(), { a: 0, b: 0, c: 0 }, 'nothing changed since open');

  // A task on the encrypted network: its node gets the key.
  r.task('ta', 'a', { [r.sec]: '10.0.0.2/24' });
  equal(r.pushed(), { a: 1, b: 0, c: 0 });
  equal((r.rpcs['a']!.notes.at(-1)![1] as ReturnType<typeof dataAssignment>).dataKeys.map((k) => k.networkId), [r.sec]);

  // A task on the plain network, or a second task on sec on the same node: nothing to push.
  r.task('tb-plain', 'b', { [r.plain]: '10.0.1.2/24' });
  r.task('ta2', 'a', { [r.sec]: '10.0.0.5/24' });
  equal(r.pushed(), { a: 0, b: 0, c: 0 });

  // b joins sec: b gets key and peer a; a gets peer b.
  r.task('tb', 'b', { [r.sec]: '10.0.0.3/24' });
  equal(r.pushed(), { a: 1, b: 1, c: 0 });

  // A rotation: both nodes on sec, not c.
  const rot = rotateDataKeys(r.store, r.rand, PERIOD_MS, r.clock.wallMs() + PERIOD_MS)!;
  r.leader.applyNow(rot.command);
  equal(r.pushed(), { a: 1, b: 1, c: 0 });

  // A peer's data address changes: the other one is told.
  const nb = r.store.get('node', 'b')!;
  const { meta, ...rest } = nb;
  r.leader.applyNow(update('node', { ...rest, dataAddr: '192.168.9.9' }, meta.version));
  equal(r.pushed(), { a: 1, b: 0, c: 0 });
  // A change of a node that is nobody's peer (c's labels): nothing.
  const nc = r.store.get('node', 'c')!;
  r.leader.applyNow(update('node', { ...(({ meta: _m, ...x }) => x)(nc), labels: { zone: '1' } }, nc.meta.version));
  equal(r.pushed(), { a: 0, b: 0, c: 0 });

  // b's last endpoint on sec is being removed: b loses the key, a loses the peer, at once.
  r.setTask('tb', { desiredState: 'remove' });
  equal(r.pushed(), { a: 1, b: 1, c: 0 });
  equal(r.rpcs['b']!.notes.at(-1)![1], { dataKeys: [], peers: [] });

  // b back on sec, then removed from the swarm: a's peers lose it at once (and b's session ends).
  r.task('tb3', 'b', { [r.sec]: '10.0.0.6/24' });
  equal(r.pushed(), { a: 1, b: 1, c: 0 });
  r.d.evict('b');
  r.removeNode('b');
  equal(r.pushed(), { a: 1, b: 0, c: 0 });
  equal((r.rpcs['a']!.notes.at(-1)![1] as ReturnType<typeof dataAssignment>).peers, []);
  r.d.stop();
});

t('network changes: a new encrypted network with no endpoints changes nothing; removing one its nodes had keys for does', async () => {
  const r = await rig();
  r.task('ta', 'a', { [r.sec]: '10.0.0.2/24' });
  equal(r.pushed(), { a: 1, b: 0, c: 0 });
  await r.net({ Name: 'sec2', Options: { encrypted: '' } });
  equal(r.pushed(), { a: 0, b: 0, c: 0 });
  // The network goes (its last task dropped in the same moment, as docker's does): a is told.
  r.removeTask('ta');
  await r.networks.remove('sec');
  equal(r.pushed(), { a: 1, b: 0, c: 0 });
  equal(r.rpcs['a']!.notes.at(-1)![1], { dataKeys: [], peers: [] });
  is(r.store.list('key').length, 1, 'only sec2 has a key');
  r.d.stop();
});

t.run();
