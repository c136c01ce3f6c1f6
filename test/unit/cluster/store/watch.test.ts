import { suite, equal, is, ok, throws } from '../../../harness.js';
import { batch, create, encodeCommand, remove, update, type Command } from '../../../../agent/cluster/store/command.js';
import { WatchOverflowError } from '../../../../agent/cluster/store/errors.js';
import { Store } from '../../../../agent/cluster/store/store.js';
import type { StoreEvent } from '../../../../agent/cluster/store/watch.js';
import { draftOf } from './fixtures.js';

const t = suite('store/watch');

function harness() {
  const store = new Store();
  let index = 0;
  const run = (c: Command) => store.apply(++index, encodeCommand(c));
  return { store, run };
}

const brief = (es: StoreEvent[]) => es.map((e) => `${e.index} ${e.action} ${e.kind} ${e.object.id}`);

t('events arrive in apply order, a batch as consecutive events with one index; refused commands emit nothing', async () => {
  const { store, run } = harness();
  const w = store.watch();
  run(create('network', draftOf('network', 'n1')));
  run(batch(create('task', draftOf('task', 't1')), create('task', draftOf('task', 't2'))));
  run(remove('task', 'missing')); // refused
  run(update('network', draftOf('network', 'n1', 4), 1));
  run(remove('task', 't1'));
  const got: StoreEvent[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await w.next();
    ok(!r.done);
    got.push(r.value!);
  }
  equal(brief(got), ['1 create network n1', '2 create task t1', '2 create task t2', '4 update network n1', '5 delete task t1']);
  // The delete event carries the object as it was.
  is(got[4]!.object.meta.version, 2);
  w.close();
});

t('a waiting consumer is woken by apply; for-await works and break closes the watcher', async () => {
  const { store, run } = harness();
  const w = store.watch({ kinds: ['task'] });
  const seen: string[] = [];
  const consumer = (async () => {
    for await (const e of w) {
      seen.push(e.object.id);
      if (seen.length === 3) break;
    }
  })();
  for (let i = 0; i < 4; i++) {
    run(create('task', draftOf('task', `t${i}`)));
    await new Promise<void>((r) => setImmediate(r));
  }
  await consumer;
  equal(seen, ['t0', 't1', 't2']);
  ok(w.closed);
  equal((await w.next()).done, true);
});

t('filters by kind and by predicate; take() drains without waiting', () => {
  const { store, run } = harness();
  const nets = store.watch({ kinds: ['network'] });
  const onNode = store.watch({ kinds: ['task'], where: (e) => e.kind === 'task' && e.object.nodeId === 'nd1' });
  const all = store.watch();
  for (let v = 0; v < 6; v++) run(create('task', draftOf('task', `t${v}`, v)));
  run(create('network', draftOf('network', 'n1')));
  equal(brief(nets.take()), ['7 create network n1']);
  equal(brief(onNode.take()), ['2 create task t1', '5 create task t4']);
  is(all.take().length, 7);
  equal(all.take(), []);
  for (const w of [nets, onNode, all]) w.close();
});

t('a closed watcher gets nothing more; a pending next() resolves done on close', async () => {
  const { store, run } = harness();
  const w = store.watch();
  const pending = w.next();
  w.close();
  equal(await pending, { done: true, value: undefined });
  run(create('token', draftOf('token', 'x')));
  equal(w.take(), []);
  equal((await w.next()).done, true);
  w.close(); // idempotent
});

t('overflow: a consumer more than maxQueued behind is closed with a visible error; apply and other watchers carry on', async () => {
  const { store, run } = harness();
  const slow = store.watch({ maxQueued: 3 });
  const fast = store.watch({ maxQueued: 3 });
  for (let i = 0; i < 3; i++) {
    run(create('task', draftOf('task', `t${i}`)));
    is(fast.take().length, 1);
  }
  ok(!slow.closed);
  // A batch of two on top of three queued events: over the bound.
  ok(run(batch(create('task', draftOf('task', 'x')), create('task', draftOf('task', 'y')))).ok);
  ok(slow.closed);
  ok(slow.error instanceof WatchOverflowError);
  is(slow.error!.message, 'watch closed: more than 3 events queued at index 4; re-read the store and watch again');
  is((slow.error as WatchOverflowError).code, 'STORE_WATCH_OVERFLOW');
  // Sticky: every later read sees the error, nothing queued before it is delivered.
  throws(() => slow.take(), (e: unknown) => e instanceof WatchOverflowError);
  let rejected: unknown;
  await slow.next().catch((e: unknown) => (rejected = e));
  ok(rejected instanceof WatchOverflowError);
  equal(brief(fast.take()), ['4 create task x', '4 create task y']);
  is(store.count('task'), 5);
  fast.close();
});

t('a predicate that throws closes its watcher with that error, not apply', async () => {
  const { store, run } = harness();
  const w = store.watch({ where: () => { throw new Error('boom'); } });
  ok(run(create('token', draftOf('token', 'x'))).ok);
  ok(w.closed);
  is(w.error?.message, 'boom');
  const r = await w.next().then(() => 'resolved', (e: Error) => e.message);
  is(r, 'boom');
});

t('watch options are checked', () => {
  const store = new Store();
  throws(() => store.watch({ maxQueued: 0 }), /^watch: maxQueued must be an integer >= 1, got 0$/);
});

t.run();
