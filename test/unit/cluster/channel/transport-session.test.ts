// Chunking and sealing of application messages (transport-session.ts) and the
// handshake payload layouts (handshake-payload.ts), without any network.
import { suite, equal, is, ok, throws } from '../../../harness.js';
import { CipherState } from '../../../../shared/crypto/noise-cipher-state.js';
import { seededRand } from '../../../../shared/rand.js';
import { TransportSession, MAX_CHUNK_DATA_BYTES } from '../../../../agent/cluster/channel/transport-session.js';
import {
  decodeInitiatorHello, decodeResponderHello, decodeVerdict, encodeInitiatorHello, encodeResponderHello, encodeVerdict,
} from '../../../../agent/cluster/channel/handshake-payload.js';
import { ChannelError } from '../../../../agent/cluster/channel/errors.js';

const t = suite('channel transport session and payloads');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function pair(maxMessageBytes?: number): [TransportSession, TransportSession] {
  const k1 = seededRand(1).bytes(32);
  const k2 = seededRand(2).bytes(32);
  const cs = (k: Uint8Array) => {
    const c = new CipherState();
    c.initializeKey(k);
    return c;
  };
  return [new TransportSession(cs(k1), cs(k2), maxMessageBytes), new TransportSession(cs(k2), cs(k1), maxMessageBytes)];
}

function deliver(from: TransportSession, to: TransportSession, msg: Uint8Array): { out: Uint8Array | undefined; chunks: number } {
  const sealed = from.seal(msg);
  let out: Uint8Array | undefined;
  sealed.forEach((c, i) => {
    ok(c.length <= 65_535);
    const r = to.open(c);
    if (i < sealed.length - 1) is(r, undefined);
    else out = r;
  });
  return { out, chunks: sealed.length };
}

t('chunk boundaries: 0, 1, one full chunk, one byte more, several chunks', () => {
  const [a, b] = pair();
  for (const [n, chunks] of [[0, 1], [1, 1], [MAX_CHUNK_DATA_BYTES, 1], [MAX_CHUNK_DATA_BYTES + 1, 2], [3 * MAX_CHUNK_DATA_BYTES + 7, 4]] as const) {
    const msg = seededRand(n).bytes(n);
    const r = deliver(a, b, msg);
    is(r.chunks, chunks, `chunks of ${n}`);
    equal(r.out, msg);
  }
  is(MAX_CHUNK_DATA_BYTES, 65_518);
});

t('a flipped bit, a replay or a reordering fails, and the session stays failed', () => {
  const [a, b] = pair();
  const [m1] = a.seal(Uint8Array.of(1));
  const [m2] = a.seal(Uint8Array.of(2));
  const bad = Uint8Array.from(m1!);
  bad[3]! ^= 0x80;
  throws(() => b.open(bad), (e: unknown) => e instanceof ChannelError && e.code === 'ECHAN_PROTOCOL');
  throws(() => b.open(m1!), /already failed/);
  const [, d] = pair();
  throws(() => d.open(m2!), /did not authenticate/); // m2 out of order: nonce 0 expected
});

t('reserved chunk flags and oversized messages are refused', () => {
  const k = seededRand(1).bytes(32);
  const raw = new CipherState();
  raw.initializeKey(k);
  const recv = new CipherState();
  recv.initializeKey(k);
  const s = new TransportSession(new CipherState(), recv);
  throws(() => s.open(raw.encryptWithAd(new Uint8Array(0), Uint8Array.of(0x02, 9))), /flags 2/);
  const [a, b] = pair(100_000);
  throws(() => a.seal(new Uint8Array(100_001)), /over the 100000-byte limit/);
  const [c] = pair(100_000); // the receiver counts too, whatever the sender's limit
  const [, d] = pair(70_000);
  const parts = c.seal(new Uint8Array(100_000));
  d.open(parts[0]!);
  throws(() => d.open(parts[1]!), /over the 70000-byte limit/);
  a.wipe();
  throws(() => a.seal(Uint8Array.of(1)), /closed/);
  b.wipe();
});

t('payload golden bytes (strict CBOR) and round trips', () => {
  const cert = Uint8Array.of(0xaa, 0xbb);
  const root = Uint8Array.of(0xcc);
  const rh = encodeResponderHello({ cert, root });
  is(hex(rh), `84${'74'}${hex(new TextEncoder().encode('agent/2377/responder'))}0142aabb41cc`);
  equal(decodeResponderHello(rh), { cert, root });
  const ih = encodeInitiatorHello({ kind: 'join', token: 'T' });
  is(hex(ih), `84${'74'}${hex(new TextEncoder().encode('agent/2377/initiator'))}010261${'54'}`);
  equal(decodeInitiatorHello(ih), { kind: 'join', token: 'T' });
  equal(decodeInitiatorHello(encodeInitiatorHello({ kind: 'member', cert })), { kind: 'member', cert });
  equal(decodeVerdict(encodeVerdict({ accept: true, role: 'worker' })), { accept: true, role: 'worker' });
  equal(decodeVerdict(encodeVerdict({ accept: false, reason: 'bad-token', message: 'no' })), { accept: false, reason: 'bad-token', message: 'no' });
});

t('payload decoders: exact messages for wrong context, kind, role and trailing bytes', () => {
  throws(() => decodeResponderHello(encodeInitiatorHello({ kind: 'join', token: 'T' })), /malformed responder hello: context must be "agent\/2377\/responder"/);
  const ih = encodeInitiatorHello({ kind: 'join', token: 'T' });
  const k3 = Uint8Array.from(ih);
  k3[k3.length - 3] = 3;
  throws(() => decodeInitiatorHello(k3), /kind must be 1 \(member\) or 2 \(join\), got 3/);
  throws(() => decodeInitiatorHello(Uint8Array.of(...ih, 0)), /trailing bytes/);
  throws(() => decodeVerdict(encodeVerdict({ accept: true, role: 'admin' as never })), /role must be "manager" or "worker"/);
  throws(() => decodeResponderHello(encodeResponderHello({ cert: new Uint8Array(0), root: Uint8Array.of(1) })), /certificate must be 1\.\.1024 bytes, got 0/);
});

t.run();
