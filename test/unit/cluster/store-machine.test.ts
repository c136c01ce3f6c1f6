import { suite, is, ok, equal } from '../../harness.js';
import { StoreMachine } from '../../../agent/cluster/store-machine.js';
import { create, encodeCommand } from '../../../agent/cluster/store/index.js';
import { draftOf } from './store/fixtures.js';

const t = suite('store machine');

t('applies store commands, and a restored machine holds the same state', () => {
  const a = new StoreMachine();
  const r = a.apply(3, encodeCommand(create('network', draftOf('network', 'n1', 1, 'front'))));
  ok(r.ok);
  a.skip(4);
  is(a.store.appliedIndex, 4);
  const b = new StoreMachine();
  b.restore(a.snapshot());
  equal(b.store.findByName('network', 'front')?.id, 'n1');
  equal(b.snapshot(), a.snapshot());
});

t('a failed command is returned, not thrown, and changes nothing', () => {
  const m = new StoreMachine();
  const cmd = encodeCommand(create('network', draftOf('network', 'n1', 1, 'front')));
  ok(m.apply(1, cmd).ok);
  const again = m.apply(2, cmd);
  ok(!again.ok);
  is(m.store.count('network'), 1);
});

t('restoring a snapshot fails the old store\'s watchers so they re-sync', async () => {
  const m = new StoreMachine();
  const w = m.store.watch();
  const src = new StoreMachine();
  src.apply(1, encodeCommand(create('network', draftOf('network', 'n1', 1, 'front'))));
  m.restore(src.snapshot());
  let err: Error | undefined;
  await w.next().catch((e: Error) => (err = e));
  ok(err && /replaced by a snapshot/.test(err.message), String(err));
  is(m.store.count('network'), 1);
});

t.run();
