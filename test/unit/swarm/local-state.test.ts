// The swarm membership a node keeps in its state dir (agent/swarm/local-state.ts):
// encode/decode, save/load through the secret-file seam (mode 0600), and a
// one-line error naming the path for every kind of bad file.
import { suite, is, ok, equal } from '../../harness.js';
import { encodeCanonical } from '../../../agent/cluster/store/cbor.js';
import { memorySecretFiles } from '../../../agent/cluster/ca/secret-file.js';
import {
  RAFT_DIR, SWARM_STATE_FILE, decodeSwarmState, encodeSwarmState, loadSwarmState, raftDir, saveSwarmState, swarmStatePath, type LocalSwarmState,
} from '../../../agent/swarm/local-state.js';

const t = suite('swarm/local-state');

const DIR = '/var/lib/agent';
const PATH = '/var/lib/agent/swarm-state.cbor';

function state(over: Partial<LocalSwarmState> = {}): LocalSwarmState {
  return {
    clusterId: 'c0ffee',
    nodeId: 'n1',
    role: 'manager',
    root: Uint8Array.of(1, 2, 3),
    cert: Uint8Array.of(4, 5),
    listenAddr: '0.0.0.0:2377',
    advertiseAddr: '10.0.0.1:2377',
    dataAddr: '',
    dataPathPort: 4789,
    managers: [
      { id: 'n1', addr: '10.0.0.1:2377' },
      { id: 'n2', addr: '[fd00::2]:2377' },
    ],
    ...over,
  };
}

/** The file as it would be written, with its map replaced. */
const file = (body: unknown, context: unknown = 'agent/swarm-state', version: unknown = 1): Uint8Array => encodeCanonical([context, version, body]);

function decodeFails(bytes: Uint8Array, message: string): void {
  let thrown: unknown;
  try {
    decodeSwarmState(bytes, PATH);
  } catch (e) {
    thrown = e;
  }
  ok(thrown instanceof Error, `expected "${message}", got ${thrown === undefined ? 'no error' : String(thrown)}`);
  is((thrown as Error).message, message);
  ok((thrown as Error).message.startsWith(`${PATH}: `), 'starts with the path');
  ok(!(thrown as Error).message.includes('\n'), 'one line');
}

t('paths in the state dir', () => {
  is(SWARM_STATE_FILE, 'swarm-state.cbor');
  is(RAFT_DIR, 'raft');
  is(swarmStatePath(DIR), PATH);
  is(raftDir(DIR), '/var/lib/agent/raft');
});

t('encode/decode round trip', () => {
  for (const s of [state(), state({ role: 'worker', managers: [], dataAddr: '192.168.1.5', root: new Uint8Array(0) })]) {
    const back = decodeSwarmState(encodeSwarmState(s), PATH);
    equal(back, s);
    ok(back.root instanceof Uint8Array);
    ok(back.cert instanceof Uint8Array);
  }
});

t('the encoding is the documented layout: ["agent/swarm-state", 1, {...}]', () => {
  const s = state();
  equal(encodeSwarmState(s), file(s));
  // Key order does not matter: canonical CBOR sorts keys.
  const reordered = Object.fromEntries(Object.entries(s).reverse()) as unknown as LocalSwarmState;
  equal(encodeSwarmState(reordered), encodeSwarmState(s));
});

t('save then load through the secret-file seam, mode 0600', () => {
  const io = memorySecretFiles();
  is(loadSwarmState(DIR, io), undefined, 'no file yet');
  const s = state();
  saveSwarmState(DIR, s, io);
  equal([...io.files.keys()], [PATH]);
  is(io.files.get(PATH)!.mode, 0o600);
  equal(io.files.get(PATH)!.bytes, encodeSwarmState(s));
  equal(loadSwarmState(DIR, io), s);
  // A second save replaces the first.
  const s2 = state({ role: 'worker', managers: [{ id: 'n9', addr: '10.0.0.9:2377' }] });
  saveSwarmState(DIR, s2, io);
  is(io.files.size, 1);
  equal(loadSwarmState(DIR, io), s2);
  // Another state dir is another file.
  is(loadSwarmState('/other', io), undefined);
});

t('load reports a bad file with its path', () => {
  const io = memorySecretFiles();
  io.files.set(PATH, { bytes: Uint8Array.of(0x01), mode: 0o600 });
  let thrown: unknown;
  try {
    loadSwarmState(DIR, io);
  } catch (e) {
    thrown = e;
  }
  is((thrown as Error | undefined)?.message, `${PATH}: not a swarm state file`);
});

t('decode: not CBOR', () => {
  decodeFails(new Uint8Array(0), `${PATH}: not a swarm state file: empty input`);
  decodeFails(Uint8Array.of(0x83, 0x01), `${PATH}: not a swarm state file: Unexpected end of CBOR data`);
});

t('decode: not a swarm state file (wrong shape or context)', () => {
  decodeFails(encodeCanonical({ clusterId: 'x' }), `${PATH}: not a swarm state file`);
  decodeFails(encodeCanonical(['agent/swarm-state', 1]), `${PATH}: not a swarm state file`);
  decodeFails(encodeCanonical(['agent/swarm-state', 1, state(), null]), `${PATH}: not a swarm state file`);
  decodeFails(file(state(), 'agent/node-key'), `${PATH}: not a swarm state file`);
  decodeFails(file(state(), 'Agent/swarm-state'), `${PATH}: not a swarm state file`);
});

t('decode: wrong version', () => {
  decodeFails(file(state(), 'agent/swarm-state', 2), `${PATH}: unsupported swarm state version 2 (this agent reads 1)`);
  decodeFails(file(state(), 'agent/swarm-state', 0), `${PATH}: unsupported swarm state version 0 (this agent reads 1)`);
  decodeFails(file(state(), 'agent/swarm-state', '1'), `${PATH}: unsupported swarm state version 1 (this agent reads 1)`);
});

t('decode: a missing field, each one', () => {
  const keys = Object.keys(state()) as (keyof LocalSwarmState)[];
  is(keys.length, 10);
  for (const k of keys) {
    const body: Record<string, unknown> = { ...state() };
    delete body[k];
    decodeFails(file(body), `${PATH}: state.${k}: missing`);
  }
  decodeFails(file({ ...state(), managers: [{ id: 'n1' }] }), `${PATH}: state.managers[0].addr: missing`);
});

t('decode: an unknown field', () => {
  decodeFails(file({ ...state(), extra: 1 }), `${PATH}: state: unknown field "extra"`);
  decodeFails(file({ ...state(), managers: [{ id: 'n1', addr: 'a:1', role: 'x' }] }), `${PATH}: state.managers[0]: unknown field "role"`);
});

t('decode: a field of the wrong type or value', () => {
  decodeFails(file(null), `${PATH}: state: expected a map, got null`);
  decodeFails(file({ ...state(), role: 'admin' }), `${PATH}: state.role: expected one of manager|worker, got string "admin"`);
  decodeFails(file({ ...state(), clusterId: '' }), `${PATH}: state.clusterId: expected a non-empty string, got string ""`);
  decodeFails(file({ ...state(), root: 'abc' }), `${PATH}: state.root: expected a byte string, got string "abc"`);
  decodeFails(file({ ...state(), dataPathPort: 0 }), `${PATH}: state.dataPathPort: expected an integer >= 1, got number 0`);
  decodeFails(file({ ...state(), dataAddr: 5 }), `${PATH}: state.dataAddr: expected a string, got number 5`);
  decodeFails(file({ ...state(), managers: {} }), `${PATH}: state.managers: expected an array, got map`);
  decodeFails(file({ ...state(), managers: [{ id: 'n1', addr: '' }] }), `${PATH}: state.managers[0].addr: expected a non-empty string, got string ""`);
});

t.run();
