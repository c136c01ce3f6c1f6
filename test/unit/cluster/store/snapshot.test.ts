import { suite, equal, is, ok, throws } from '../../../harness.js';
import { seededRand } from '../../../../shared/rand.js';
import { create, encodeCommand } from '../../../../agent/cluster/store/command.js';
import { encodeCanonical } from '../../../../agent/cluster/store/cbor.js';
import { Store } from '../../../../agent/cluster/store/store.js';
import { KINDS } from '../../../../agent/cluster/store/types.js';
import { draftOf, randomCommand, type View } from './fixtures.js';

const t = suite('store/snapshot');

const viewOf = (s: Store): View => (kind) => s.list(kind).map((o) => ({ id: o.id, version: o.meta.version }));

/** A seeded command sequence, generated against a store that applies it as it goes. */
function sequence(seed: number, n: number): Uint8Array[] {
  const r = seededRand(seed);
  const s = new Store();
  const out: Uint8Array[] = [];
  for (let i = 1; i <= n; i++) {
    const c = randomCommand(r, viewOf(s));
    s.apply(i, c);
    out.push(c);
  }
  return out;
}

function feed(s: Store, cmds: Uint8Array[], from = 0, to = cmds.length): Store {
  for (let i = from; i < to; i++) s.apply(i + 1, cmds[i]!);
  return s;
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

t('empty store: golden bytes', () => {
  // {"index": 0, "objects": {"cluster": [], "ipam": [], "key": [], "network": [], "node": [], "service": [], "task": [], "token": []}, "v": 1}
  const hex = Array.from(new Store().snapshot(), (x) => x.toString(16).padStart(2, '0')).join('');
  is(hex, 'a365696e6465780067' + '6f626a65637473a8' + '67636c757374657280' + '646970616d80' + '636b657980' + '676e6574776f726b80' + '646e6f646580' + '677365727669636580' + '647461736b80' + '65746f6b656e80' + '617601');
});

t('restore gives back every object, every read and the applied index', () => {
  const s = new Store();
  let i = 0;
  for (const kind of KINDS) for (let v = 0; v < 4; v++) ok(s.apply(++i, encodeCommand(create(kind, draftOf(kind, `${kind}${v}`, v)))).ok);
  s.skip(100);
  const r = Store.restore(s.snapshot());
  is(r.appliedIndex, 100);
  for (const kind of KINDS) equal(r.list(kind), s.list(kind), kind);
  equal(r.findByName('network', 'network-network2'), s.findByName('network', 'network-network2'));
  equal(r.tasks({ nodeId: 'nd1' }), s.tasks({ nodeId: 'nd1' }));
  ok(r.get('key', 'key1')!.key instanceof Uint8Array);
  ok(same(r.snapshot(), s.snapshot()));
  ok(Object.isFrozen(r.get('service', 'service1')!.spec));
});

t('two stores fed the same seeded sequence give identical bytes; a store restored mid-way catches up exactly', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const cmds = sequence(seed, 400);
    const a = feed(new Store(), cmds);
    const b = feed(new Store(), cmds);
    ok(same(a.snapshot(), b.snapshot()), `seed ${seed}: replicas differ`);
    ok(a.count('task') + a.count('network') > 0, `seed ${seed}: the sequence did something`);
    const mid = feed(new Store(), cmds, 0, 173).snapshot();
    const c = feed(Store.restore(mid), cmds, 173);
    ok(same(c.snapshot(), a.snapshot()), `seed ${seed}: restored replica differs`);
  }
});

t('restore refuses bad snapshots with a message naming the problem', () => {
  throws(() => Store.restore(new Uint8Array([0xff])), /^invalid snapshot: /);
  throws(() => Store.restore(encodeCanonical({ v: 2, index: 0, objects: {} })), /^invalid snapshot: snapshot\.v: expected format 1, got 2$/);
  throws(() => Store.restore(encodeCanonical({ v: 1, index: 0, objects: { widget: [] } })), /unknown kind "widget"$/);
  const tok = { ...draftOf('token', 't'), meta: { version: 1, createdAtIndex: 1, updatedAtIndex: 1 } };
  throws(() => Store.restore(encodeCanonical({ v: 1, index: 1, objects: { token: [tok, tok] } })), /^invalid snapshot: token id t appears twice$/);
  throws(() => Store.restore(encodeCanonical({ v: 1, index: 1, objects: { token: [{ ...tok, meta: {} }] } })), /snapshot\.objects\.token\[0\]\.meta\.version: missing$/);
  const net = (id: string) => ({ ...draftOf('network', id, 0, 'same'), meta: { version: 1, createdAtIndex: 1, updatedAtIndex: 1 } });
  throws(() => Store.restore(encodeCanonical({ v: 1, index: 1, objects: { network: [net('a'), net('b')] } })), /^invalid snapshot: network name "same" appears twice$/);
  // Missing kinds read as empty (an older writer that knew fewer kinds).
  is(Store.restore(encodeCanonical({ v: 1, index: 7, objects: {} })).appliedIndex, 7);
});

t.run();
