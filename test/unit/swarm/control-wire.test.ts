// The control messages of an established 2377 channel (agent/swarm/control-wire.ts):
// every form round trips, the layout is pinned by golden bytes, and every
// malformed input is a ControlWireError with its exact message.
import { suite, is, ok, equal } from '../../harness.js';
import { encodeCanonical } from '../../../agent/cluster/store/cbor.js';
import { ControlWireError, MSG, decodeControl, encodeControl, type ControlMessage } from '../../../agent/swarm/control-wire.js';

const t = suite('swarm/control-wire');

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

/** decodeControl(bytes) throws a ControlWireError with exactly this message. */
function rejects(bytes: Uint8Array, message: string): void {
  let thrown: unknown;
  try {
    decodeControl(bytes);
  } catch (e) {
    thrown = e;
  }
  ok(thrown instanceof ControlWireError, `expected ControlWireError "${message}", got ${thrown === undefined ? 'no error' : String(thrown)}`);
  is((thrown as Error).name, 'ControlWireError');
  is((thrown as Error).message, message);
}

const raw = (v: unknown): Uint8Array => encodeCanonical(v);

t('type numbers are pinned (only ever appended)', () => {
  equal({ ...MSG }, { request: 1, response: 2, notify: 3 });
});

t('round trip: every message form', () => {
  const forms: ControlMessage[] = [
    { t: 'request', id: 0, method: 'node.list', args: null },
    { t: 'request', id: 1, method: 'm', args: { b: new Uint8Array([1, 2, 3]), n: -3, f: 1.5, big: 2 ** 40, s: 'é', arr: [null, true, 'x'] } },
    { t: 'request', id: 0xffff_ffff, method: 'x'.repeat(64), args: [1, 2, 3] },
    { t: 'response', id: 7, ok: true, value: { nodes: [{ id: 'abc', role: 'manager' }] } },
    { t: 'response', id: 8, ok: true, value: null },
    { t: 'response', id: 9, ok: false, error: { code: 'EINVAL', message: 'bad argument' } },
    { t: 'response', id: 10, ok: false, error: { code: 'ENOTLEADER', message: 'not the leader', leader: '10.0.0.1:2377' } },
    { t: 'response', id: 11, ok: false, error: { code: 'EUNKNOWN', message: '' } },
    { t: 'notify', kind: 'assign', body: { tasks: [], networks: ['n1'] } },
    { t: 'notify', kind: 'k'.repeat(64), body: null },
  ];
  for (const m of forms) equal(decodeControl(encodeControl(m)), m, `round trip of ${JSON.stringify(m.t)}`);
});

t('round trip: every error code', () => {
  for (const code of ['ENOTLEADER', 'ENOQUORUM', 'ENOTFOUND', 'ECONFLICT', 'EINVAL', 'EDENIED', 'EUNKNOWN'] as const) {
    const m: ControlMessage = { t: 'response', id: 3, ok: false, error: { code, message: `m ${code}` } };
    equal(decodeControl(encodeControl(m)), m);
  }
});

t('absent args, value and body travel as null', () => {
  equal(decodeControl(encodeControl({ t: 'request', id: 2, method: 'ping', args: undefined })), { t: 'request', id: 2, method: 'ping', args: null });
  equal(decodeControl(encodeControl({ t: 'response', id: 2, ok: true, value: undefined })), { t: 'response', id: 2, ok: true, value: null });
  equal(decodeControl(encodeControl({ t: 'notify', kind: 'tick', body: undefined })), { t: 'notify', kind: 'tick', body: null });
});

t('an error without a leader decodes without a leader key', () => {
  const m = decodeControl(encodeControl({ t: 'response', id: 4, ok: false, error: { code: 'ENOQUORUM', message: 'no leader' } }));
  ok(m.t === 'response' && !m.ok);
  if (m.t === 'response' && !m.ok) is('leader' in m.error, false);
});

t('encoding is canonical: map keys sorted, so equal values give equal bytes', () => {
  const a = encodeControl({ t: 'request', id: 5, method: 'm', args: { z: 1, a: 2 } });
  const b = encodeControl({ t: 'request', id: 5, method: 'm', args: { a: 2, z: 1 } });
  is(hex(a), hex(b));
});

// Golden bytes (RFC 8949 canonical CBOR). A change here is a wire change: old
// peers would no longer understand new ones.
const GOLDEN_REQUEST =
  // 84 array(4) | 01 type request | 07 id 7 | 69 "node.list" | a2 map(2) {"all": true, "filter": "x"}
  '840107696e6f64652e6c697374a263616c6cf56666696c7465726178';
const GOLDEN_ERROR =
  // 84 array(4) | 02 type response | 07 id 7 | f4 false | a3 map(3) {"code": "ENOTLEADER", "leader": "10.0.0.1:2377", "message": "not the leader"}
  '840207f4a364636f64656a454e4f544c4541444552666c65616465726d31302e302e302e313a32333737676d6573736167656e6e6f7420746865206c6561646572';
const GOLDEN_NOTIFY = '83036472616674f6'; // 83 array(3) | 03 type notify | 64 "raft" | f6 null

t('golden bytes: a request', () => {
  const m: ControlMessage = { t: 'request', id: 7, method: 'node.list', args: { filter: 'x', all: true } };
  is(hex(encodeControl(m)), GOLDEN_REQUEST);
  equal(decodeControl(unhex(GOLDEN_REQUEST)), { t: 'request', id: 7, method: 'node.list', args: { all: true, filter: 'x' } });
});

t('golden bytes: an error response with a leader', () => {
  const m: ControlMessage = { t: 'response', id: 7, ok: false, error: { code: 'ENOTLEADER', message: 'not the leader', leader: '10.0.0.1:2377' } };
  is(hex(encodeControl(m)), GOLDEN_ERROR);
  equal(decodeControl(unhex(GOLDEN_ERROR)), m);
});

t('golden bytes: a notify without a body', () => {
  is(hex(encodeControl({ t: 'notify', kind: 'raft', body: undefined })), GOLDEN_NOTIFY);
});

t('rejects: not CBOR', () => {
  rejects(new Uint8Array(0), 'malformed control message: empty input');
  rejects(Uint8Array.of(0x84, 0x01), 'malformed control message: Unexpected end of CBOR data');
  rejects(Uint8Array.from([...unhex(GOLDEN_NOTIFY), 0x00]), 'malformed control message: Data read, but end of buffer not reached');
});

t('rejects: not a non-empty array', () => {
  rejects(raw(1), 'malformed control message: expected a non-empty array');
  rejects(raw('request'), 'malformed control message: expected a non-empty array');
  rejects(raw(null), 'malformed control message: expected a non-empty array');
  rejects(raw({ t: 'request' }), 'malformed control message: expected a non-empty array');
  rejects(raw([]), 'malformed control message: expected a non-empty array');
});

t('rejects: unknown type', () => {
  rejects(raw([0, 1, 'm', null]), 'malformed control message: unknown type 0');
  rejects(raw([4, 'k', null]), 'malformed control message: unknown type 4');
  rejects(raw(['request', 1, 'm', null]), 'malformed control message: unknown type "request"');
  rejects(raw([null]), 'malformed control message: unknown type null');
});

t('rejects: wrong lengths', () => {
  rejects(raw([1, 1, 'm']), 'malformed control message: a request has 4 elements');
  rejects(raw([1, 1, 'm', null, null]), 'malformed control message: a request has 4 elements');
  rejects(raw([2, 1, true]), 'malformed control message: a response has 4 elements');
  rejects(raw([2, 1, true, null, null]), 'malformed control message: a response has 4 elements');
  rejects(raw([3, 'k']), 'malformed control message: a notify has 3 elements');
  rejects(raw([3, 'k', null, null]), 'malformed control message: a notify has 3 elements');
  rejects(raw([1]), 'malformed control message: a request has 4 elements');
});

t('rejects: bad id (negative, over u32, float, not a number)', () => {
  for (const bad of [-1, 2 ** 32, 1.5, '1', null]) {
    rejects(raw([1, bad, 'm', null]), 'malformed control message: id must be a u32');
    rejects(raw([2, bad, true, null]), 'malformed control message: id must be a u32');
    rejects(raw([2, bad, false, { code: 'EINVAL', message: 'x' }]), 'malformed control message: id must be a u32');
  }
  // The largest u32 is fine.
  equal(decodeControl(raw([1, 0xffff_ffff, 'm', null])), { t: 'request', id: 0xffff_ffff, method: 'm', args: null });
});

t('rejects: empty, long or non-string method and kind', () => {
  rejects(raw([1, 1, '', null]), 'malformed control message: method must be a string of 1-64 characters');
  rejects(raw([1, 1, 'x'.repeat(65), null]), 'malformed control message: method must be a string of 1-64 characters');
  rejects(raw([1, 1, 5, null]), 'malformed control message: method must be a string of 1-64 characters');
  rejects(raw([3, '', null]), 'malformed control message: kind must be a string of 1-64 characters');
  rejects(raw([3, 'k'.repeat(65), null]), 'malformed control message: kind must be a string of 1-64 characters');
  rejects(raw([3, null, null]), 'malformed control message: kind must be a string of 1-64 characters');
});

t('rejects: a response flag that is not a boolean', () => {
  rejects(raw([2, 1, 1, null]), 'malformed control message: response flag must be a boolean');
  rejects(raw([2, 1, 'true', null]), 'malformed control message: response flag must be a boolean');
});

t('rejects: an error that is not a map', () => {
  rejects(raw([2, 1, false, null]), 'malformed control message: an error must be a map');
  rejects(raw([2, 1, false, 'EINVAL']), 'malformed control message: an error must be a map');
});

t('rejects: unknown or missing error code', () => {
  rejects(raw([2, 1, false, { code: 'EFOO', message: 'x' }]), 'malformed control message: unknown error code "EFOO"');
  rejects(raw([2, 1, false, { code: 'einval', message: 'x' }]), 'malformed control message: unknown error code "einval"');
  rejects(raw([2, 1, false, { code: 1, message: 'x' }]), 'malformed control message: unknown error code 1');
  rejects(raw([2, 1, false, { message: 'x' }]), 'malformed control message: unknown error code undefined');
});

t('rejects: a non-string error message', () => {
  rejects(raw([2, 1, false, { code: 'EINVAL', message: 3 }]), 'malformed control message: an error message must be a string');
  rejects(raw([2, 1, false, { code: 'EINVAL' }]), 'malformed control message: an error message must be a string');
  rejects(raw([2, 1, false, { code: 'EINVAL', message: null }]), 'malformed control message: an error message must be a string');
});

t('rejects: a non-string leader', () => {
  rejects(raw([2, 1, false, { code: 'ENOTLEADER', message: 'x', leader: 3 }]), 'malformed control message: leader must be a string');
  rejects(raw([2, 1, false, { code: 'ENOTLEADER', message: 'x', leader: null }]), 'malformed control message: leader must be a string');
});

t.run();
