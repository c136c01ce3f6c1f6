import { suite, equal, is, ok, throws } from '../../../harness.js';
import { batch, create, encodeCommand, remove, update, type Command } from '../../../../agent/cluster/store/command.js';
import { ConflictError, InvalidCommandError, NotFoundError, StaleVersionError, type StoreError } from '../../../../agent/cluster/store/errors.js';
import { Store, type ApplyResult } from '../../../../agent/cluster/store/store.js';
import { KINDS, type Kind } from '../../../../agent/cluster/store/types.js';
import { draftOf } from './fixtures.js';

const t = suite('store/store');

/** A store plus a log index that moves by one per command. */
function harness() {
  const store = new Store();
  let index = 0;
  const run = (c: Command): ApplyResult => store.apply(++index, encodeCommand(c));
  const must = (c: Command) => {
    const r = run(c);
    if (!r.ok) throw r.error;
    return r.changes;
  };
  const refuse = (c: Command): StoreError => {
    const before = store.snapshot();
    const r = run(c);
    if (r.ok) throw new Error('expected the command to fail');
    // Nothing but the applied index moved.
    for (const kind of KINDS) equal(store.list(kind), Store.restore(before).list(kind), `${kind} unchanged`);
    return r.error;
  };
  return { store, run, must, refuse, index: () => index };
}

t('create, update, delete each kind; meta follows the log index', () => {
  for (const kind of KINDS) {
    const h = harness();
    const [c] = h.must(create(kind, draftOf(kind, 'a', 1)));
    equal(c, { kind, action: 'create', index: 1, object: { ...draftOf(kind, 'a', 1), meta: { version: 1, createdAtIndex: 1, updatedAtIndex: 1 } } } as never);
    equal(h.store.get(kind, 'a'), c!.object);
    h.must(create(kind, draftOf(kind, 'b', 2)));
    const [u] = h.must(update(kind, draftOf(kind, 'a', 3), 1));
    equal(u!.object, { ...draftOf(kind, 'a', 3), meta: { version: 3, createdAtIndex: 1, updatedAtIndex: 3 } } as never, kind);
    is(u!.action, 'update');
    equal(h.store.list(kind).map((o) => o.id), ['a', 'b']);
    const [d] = h.must(remove(kind, 'a'));
    equal(d, { kind, action: 'delete', index: 4, object: u!.object } as never);
    is(h.store.get(kind, 'a'), undefined);
    is(h.store.count(kind), 1);
    h.must(remove(kind, 'b', 2)); // versioned delete at the current version
    is(h.store.count(kind), 0);
    is(h.store.appliedIndex, 5);
  }
});

t('an update read at a stale version is refused with the exact message and changes nothing', () => {
  const h = harness();
  for (let i = 0; i < 11; i++) h.must(create('task', draftOf('task', `t${i}`)));
  h.must(create('network', { ...draftOf('network', 'n7'), name: 'front' })); // index 12
  h.must(update('network', { ...draftOf('network', 'n7', 1), name: 'front' }, 12)); // 13
  h.must(update('network', { ...draftOf('network', 'n7', 2), name: 'front' }, 13)); // 14
  h.must(update('network', { ...draftOf('network', 'n7', 3), name: 'front' }, 14)); // 15
  const err = h.refuse(update('network', { ...draftOf('network', 'n7', 9), name: 'back' }, 12));
  ok(err instanceof StaleVersionError);
  is(err.code, 'STORE_STALE_VERSION');
  is(err.message, 'update of network "front" (id n7) failed: read at version 12, current version 15');
  equal([err.readVersion, err.currentVersion, err.kind, err.id], [12, 15, 'network', 'n7']);
  is(h.store.get('network', 'n7')!.meta.version, 15);
  is(h.store.appliedIndex, 16, 'a refused command is still an applied entry');
  // A stale versioned delete fails the same way; objects without a name say so.
  is(h.refuse(remove('task', 't0', 7)).message, 'delete of task (id t0) failed: read at version 7, current version 1');
  is(h.refuse(update('node', draftOf('node', 'x'), 1)).message, 'update of node (id x) failed: no such node');
});

t('missing objects: NotFound for update and delete', () => {
  const h = harness();
  const e = h.refuse(remove('service', 'nope'));
  ok(e instanceof NotFoundError);
  is(e.code, 'STORE_NOT_FOUND');
  is(e.message, 'delete of service (id nope) failed: no such service');
  is(h.refuse(remove('ipam', 'p')).message, 'delete of ipam allocation (id p) failed: no such ipam allocation');
});

t('ids are unique per kind; names are unique for networks, services and cluster settings, not node hostnames', () => {
  const h = harness();
  h.must(create('network', { ...draftOf('network', 'n1'), name: 'front' }));
  const dupId = h.refuse(create('network', { ...draftOf('network', 'n1'), name: 'other' }));
  ok(dupId instanceof ConflictError);
  is(dupId.code, 'STORE_CONFLICT');
  is(dupId.field, 'id');
  is(dupId.message, 'create of network "other" (id n1) failed: id n1 already exists');
  const dupName = h.refuse(create('network', { ...draftOf('network', 'n2'), name: 'front' }));
  ok(dupName instanceof ConflictError);
  equal([dupName.field, dupName.existingId], ['name', 'n1']);
  is(dupName.message, 'create of network "front" (id n2) failed: name "front" is already used by network id n1');
  h.must(create('network', { ...draftOf('network', 'n2'), name: 'back' }));
  // Renaming onto a taken name is refused too; renaming to a free one frees the old name.
  is(h.refuse(update('network', { ...draftOf('network', 'n2'), name: 'front' }, 4)).message, 'update of network "front" (id n2) failed: name "front" is already used by network id n1');
  h.must(update('network', { ...draftOf('network', 'n2'), name: 'side' }, 4));
  h.must(create('network', { ...draftOf('network', 'n3'), name: 'back' }));
  is(h.store.findByName('network', 'back')!.id, 'n3');
  is(h.store.findByName('network', 'side')!.id, 'n2');
  is(h.store.findByName('network', 'nothing'), undefined);
  // Same name in another kind is fine; services and cluster settings are checked the same way.
  h.must(create('service', { ...draftOf('service', 's1'), name: 'front' }));
  is(h.refuse(create('service', { ...draftOf('service', 's2'), name: 'front' })).code, 'STORE_CONFLICT');
  h.must(create('cluster', { ...draftOf('cluster', 'c1'), name: 'default' }));
  is(h.refuse(create('cluster', { ...draftOf('cluster', 'c2'), name: 'default' })).code, 'STORE_CONFLICT');
  h.must(create('node', draftOf('node', 'm1', 0, 'host')));
  h.must(create('node', draftOf('node', 'm2', 0, 'host')));
  // A deleted name can be taken again.
  h.must(remove('network', 'n1'));
  h.must(create('network', { ...draftOf('network', 'n9'), name: 'front' }));
});

t('a batch applies all of its changes or none', () => {
  const h = harness();
  h.must(create('network', { ...draftOf('network', 'n1'), name: 'front' }));
  h.must(create('service', draftOf('service', 's1')));
  const good = h.must(
    batch(
      create('task', draftOf('task', 't1')),
      create('ipam', draftOf('ipam', 'p1')),
      update('service', { ...draftOf('service', 's1'), vips: { n1: '10.0.0.2/24' } }, 2),
    ),
  );
  equal(good.map((e) => [e.kind, e.action, e.object.id, e.index]), [['task', 'create', 't1', 3], ['ipam', 'create', 'p1', 3], ['service', 'update', 's1', 3]]);
  // Last change fails: the earlier ones, including a delete and a rename, are undone.
  const err = h.refuse(
    batch(
      create('task', draftOf('task', 't2')),
      remove('network', 'n1'),
      create('network', { ...draftOf('network', 'n2'), name: 'front' }),
      update('service', draftOf('service', 's1', 5), 2),
    ),
  );
  is(err.message, 'update of service "service-s1" (id s1) failed: read at version 2, current version 3');
  is(h.store.get('task', 't2'), undefined);
  is(h.store.findByName('network', 'front')!.id, 'n1');
  equal(h.store.tasks().map((x) => x.id), ['t1']);
  // Delete then reuse a name within one batch works when in that order.
  h.must(batch(remove('network', 'n1'), create('network', { ...draftOf('network', 'n2'), name: 'front' })));
  is(h.store.findByName('network', 'front')!.id, 'n2');
});

t('bad bytes are an InvalidCommandError result, never a throw, and the index still moves', () => {
  const s = new Store();
  const r = s.apply(3, new Uint8Array([0xff, 0x00]));
  ok(!r.ok && r.error instanceof InvalidCommandError);
  is(s.appliedIndex, 3);
  ok(!s.apply(4, new Uint8Array(0)).ok);
});

t('the host must hand increasing indexes; gaps are fine; skip() records entries that are not store commands', () => {
  const s = new Store();
  const c = encodeCommand(create('token', draftOf('token', 't')));
  ok(s.apply(5, c).ok);
  throws(() => s.apply(5, c), /^apply: index must be an integer above the last applied index 5, got 5$/);
  throws(() => s.apply(2.5, c), /got 2.5$/);
  s.skip(9);
  is(s.appliedIndex, 9);
  throws(() => s.skip(9), /^skip: index must be an integer above the last applied index 9, got 9$/);
});

t('reads: tasks by node, service and state; list with a predicate; objects are frozen', () => {
  const h = harness();
  for (let v = 0; v < 12; v++) h.must(create('task', draftOf('task', `t${String(v).padStart(2, '0')}`, v)));
  const all = h.store.tasks();
  is(all.length, 12);
  const expect = (f: (x: (typeof all)[number]) => boolean) => all.filter(f).map((x) => x.id);
  equal(h.store.tasks({ nodeId: 'nd1' }).map((x) => x.id), expect((x) => x.nodeId === 'nd1'));
  equal(h.store.tasks({ serviceId: 's0' }).map((x) => x.id), expect((x) => x.serviceId === 's0'));
  equal(h.store.tasks({ nodeId: 'nd1', serviceId: 's1' }).map((x) => x.id), expect((x) => x.nodeId === 'nd1' && x.serviceId === 's1'));
  equal(h.store.tasks({ desiredState: 'shutdown', state: 'new' }).map((x) => x.id), expect((x) => x.desiredState === 'shutdown' && x.status.state === 'new'));
  equal(h.store.tasks({ nodeId: 'nowhere' }), []);
  // Moving a task to another node moves it in the index.
  const t0 = h.store.get('task', 't00')!;
  h.must(update('task', { ...t0, nodeId: 'elsewhere' }, t0.meta.version));
  equal(h.store.tasks({ nodeId: 'elsewhere' }).map((x) => x.id), ['t00']);
  ok(!h.store.tasks({ nodeId: t0.nodeId }).some((x) => x.id === 't00'));
  equal(h.store.list('task', (x) => x.slot === 2).map((x) => x.id), expect((x) => x.slot === 2));
  ok(Object.isFrozen(t0) && Object.isFrozen(t0.status) && Object.isFrozen(t0.addresses));
  throws(() => {
    (t0.status as { state: string }).state = 'running';
  }, TypeError);
});

t('kinds are separate namespaces', () => {
  const h = harness();
  for (const kind of KINDS) h.must(create(kind, draftOf(kind, 'same')));
  for (const kind of KINDS) is(h.store.get(kind as Kind, 'same')!.id, 'same');
});

t.run();
