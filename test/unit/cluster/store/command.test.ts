import { suite, equal, is, throws } from '../../../harness.js';
import { TAGS, batch, create, decodeCommand, encodeCommand, remove, tagOf, update } from '../../../../agent/cluster/store/command.js';
import { encodeCanonical as encodeCommandUnchecked } from '../../../../agent/cluster/store/cbor.js';
import { InvalidCommandError } from '../../../../agent/cluster/store/errors.js';
import { KINDS } from '../../../../agent/cluster/store/types.js';
import { draftOf } from './fixtures.js';

const t = suite('store/command');

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (s: string) => new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));

t('tags are fixed forever (a change here breaks every stored log)', () => {
  equal(TAGS, {
    nodeCreate: 1, nodeUpdate: 2, nodeDelete: 3,
    networkCreate: 4, networkUpdate: 5, networkDelete: 6,
    serviceCreate: 7, serviceUpdate: 8, serviceDelete: 9,
    taskCreate: 10, taskUpdate: 11, taskDelete: 12,
    ipamCreate: 13, ipamUpdate: 14, ipamDelete: 15,
    keyCreate: 16, keyUpdate: 17, keyDelete: 18,
    tokenCreate: 19, tokenUpdate: 20, tokenDelete: 21,
    clusterCreate: 22, clusterUpdate: 23, clusterDelete: 24,
    batch: 25,
  });
  is(tagOf('update', 'service'), 8);
});

t('golden bytes: delete, versioned delete', () => {
  // [6, "n1"]
  is(hex(encodeCommand(remove('network', 'n1'))), '8206626e31');
  // [6, "n1", 12]
  is(hex(encodeCommand(remove('network', 'n1', 12))), '8306626e310c');
});

t('golden bytes: create with keys in canonical order, whatever order the caller used', () => {
  // [19, {"id": "t", "manager": "M", "worker": "W"}]
  const golden = '8213a36269646174676d616e61676572614d66776f726b65726157';
  is(hex(encodeCommand(create('token', { worker: 'W', id: 't', manager: 'M' }))), golden);
  equal(decodeCommand(unhex(golden)), { op: 'create', kind: 'token', object: { id: 't', worker: 'W', manager: 'M' } });
});

t('golden bytes: batch', () => {
  // [25, [[20, 7, {"id": "t", "manager": "M", "worker": "W2"}], [12, "x"]]]
  const golden = '82181982831407a36269646174676d616e61676572614d66776f726b6572625732820c6178';
  const cmd = batch(update('token', { id: 't', worker: 'W2', manager: 'M' }, 7), remove('task', 'x'));
  is(hex(encodeCommand(cmd)), golden);
  equal(decodeCommand(unhex(golden)), cmd);
});

t('every kind round-trips create, update and delete', () => {
  for (const kind of KINDS) {
    for (let v = 0; v < 6; v++) {
      const d = draftOf(kind, `id${v}`, v);
      equal(decodeCommand(encodeCommand(create(kind, d))), create(kind, d), `${kind} create v${v}`);
      equal(decodeCommand(encodeCommand(update(kind, d, 3 + v))), update(kind, d, 3 + v), `${kind} update v${v}`);
    }
    equal(decodeCommand(encodeCommand(remove(kind, 'z', 4))), remove(kind, 'z', 4));
  }
});

t('meta on an object read from the store is left out of the command', () => {
  const stored = { ...draftOf('token', 't'), meta: { version: 3, createdAtIndex: 1, updatedAtIndex: 3 } };
  equal(decodeCommand(encodeCommand(update('token', stored, 3))), update('token', draftOf('token', 't'), 3));
});

t('decode refuses what is not a command, naming the field', () => {
  const bad = (bytes: Uint8Array, msg: RegExp) =>
    throws(() => decodeCommand(bytes), (e: unknown) => e instanceof InvalidCommandError && e.code === 'STORE_INVALID_COMMAND' && msg.test(e.message));
  bad(new Uint8Array(0), /^invalid command: not CBOR: empty input$/);
  bad(unhex('8206'), /^invalid command: not CBOR/); // truncated
  bad(unhex('8206626e3100'), /^invalid command: not CBOR/); // trailing byte
  bad(unhex('821863626e31'), /^invalid command: command: unknown command tag 99$/);
  bad(unhex('8106'), /^invalid command: command: expected an array of 2 to 3 items, got 1 items$/);
  bad(encodeCommandUnchecked([25, []]), /^invalid command: batch: expected an array of at least one change$/);
  bad(encodeCommandUnchecked([25, [[25, []]]]), /^invalid command: batch\[0\]: a batch cannot contain a batch$/);
  bad(encodeCommandUnchecked([19, { id: 't', worker: 1, manager: 'M' }]), /^invalid command: command\.token\.create\.worker: expected a string, got number 1$/);
  bad(encodeCommandUnchecked([19, { id: 't', worker: 'W' }]), /^invalid command: command\.token\.create\.manager: missing$/);
  bad(encodeCommandUnchecked([19, { id: 't', worker: 'W', manager: 'M', extra: 1 }]), /unknown field "extra"$/);
  bad(encodeCommandUnchecked([20, 0, { id: 't', worker: 'W', manager: 'M' }]), /command\.token\.update\.version: expected an integer >= 1, got number 0$/);
  bad(encodeCommandUnchecked([6, '']), /command\.network\.delete\.id: expected a non-empty string, got string ""$/);
});

t('a batch may change each object once only', () => {
  throws(
    () => encodeCommand(batch(remove('task', 'a'), create('task', draftOf('task', 'a')))),
    /^invalid command: batch\[1\]: task id a is already changed by batch\[0\]$/,
  );
  // The same id in two kinds is two objects.
  encodeCommand(batch(remove('task', 'a'), remove('node', 'a')));
});

t('encode checks like apply does, so a bad command never reaches the log', () => {
  const net = { ...draftOf('network', 'n'), vni: 1 << 24 };
  throws(() => encodeCommand(create('network', net)), /^invalid command: command\.network\.create\.vni: expected an integer <= 16777215, got number 16777216$/);
  const svc = { ...draftOf('service', 's'), mode: { global: false } } as never;
  throws(() => encodeCommand(create('service', svc)), /command\.service\.create\.mode\.global: expected true, got boolean false$/);
});

t.run();

