// Handshake DoS defences at the plane (the WireGuard paper §5.3;
// cookie.ts, load-guard.ts): junk dropped on mac1 without any DH, cookie
// replies under load and the retry with mac2 succeeding (for initiations and
// for responses), and the per-source rate limit.
import { suite, equal, is, ok } from '../../../harness.js';
import { Wire, VNI, balanced, copy, datagram } from './fixture.js';

const t = suite('secure plane dos');

const macOf = (m: Uint8Array, off: number): string => Buffer.from(m.subarray(off, off + 16)).toString('hex');
const ZERO = '0'.repeat(32);

t('junk with the right type and length dies on mac1: no DH, no cookie reply, even under load', () => {
  const w = new Wire();
  const a = w.add('a', '10.0.0.1');
  const b = w.add('b', '10.0.0.2', { handshakesPerSecond: 0 });
  w.mesh();
  for (let i = 0; i < 50; i++) {
    const junk = w.rand.bytes(152);
    junk[0] = 1;
    b.plane.receive(a.vtep, junk, junk.length);
    const r = w.rand.bytes(92);
    r.set([2, 0, 0, 0]);
    b.plane.receive(a.vtep, r, r.length);
  }
  is(b.plane.stats().drops.mac, 100);
  is(b.plane.stats().cookieRepliesSent, 0);
  is(w.queue.length, 0);
  const stranger = w.rand.bytes(152);
  stranger[0] = 1;
  b.plane.receive('192.0.2.1', stranger, 152);
  is(b.plane.stats().drops['not-member'], 1, 'a VTEP that is no peer is dropped before the HMAC');
  ok(balanced(b.plane.stats()));
  w.close();
});

t('under load an initiation without mac2 gets a cookie reply; the retry 5 s later carries mac2 and completes', () => {
  const w = new Wire();
  const a = w.add('a', '10.0.0.1');
  const b = w.add('b', '10.0.0.2', { handshakesPerSecond: 0 }); // always under load
  w.mesh();
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  w.pump();
  equal(w.log.map((m) => m.bytes[0]), [1, 3], 'initiation, cookie reply');
  is(w.log[1]!.bytes.length, 52);
  is(macOf(w.log[0]!.bytes, 136), ZERO, 'no cookie yet: mac2 zero');
  is(b.plane.stats().drops['cookie-required'], 1);
  is(b.plane.stats().cookieRepliesSent, 1);
  is(a.plane.stats().cookieRepliesReceived, 1);
  equal(b.seqs(), []);
  w.run(5_400, 10);
  const inits = w.sent(1);
  is(inits.length, 2);
  ok(macOf(inits[1]!.bytes, 136) !== ZERO, 'the retry carries mac2');
  equal(b.seqs(), [1], 'and completes: the queued datagram arrives');
  is(b.plane.stats().initiationsReceived, 1);
  is(a.plane.status(VNI)[0]!.state, 'up');
  ok(balanced(a.plane.stats()) && balanced(b.plane.stats()));
  w.close();
});

t('an initiator under load answers a response without mac2 with a cookie reply; the responder uses the cookie next time', () => {
  const w = new Wire();
  const a = w.add('a', '10.0.0.1', { handshakesPerSecond: 0 });
  const b = w.add('b', '10.0.0.2');
  w.mesh();
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  w.pump();
  equal(w.log.map((m) => m.bytes[0]), [1, 2, 3]);
  is(a.plane.stats().drops['cookie-required'], 1);
  is(b.plane.stats().cookieRepliesReceived, 1, 'addressed by the response sender index: b keeps the cookie');
  w.run(5_400, 10);
  const resps = w.sent(2);
  is(resps.length, 2);
  ok(macOf(resps[1]!.bytes, 76) !== ZERO);
  equal(b.seqs(), [1]);
  w.close();
});

t('per source: beyond its burst a node must show mac2, and beyond the same rate with mac2 it is rate-limited; others are unaffected', () => {
  const w = new Wire();
  const a = w.add('a', '10.0.0.1');
  const b = w.add('b', '10.0.0.2', { sourceHandshakesPerSecond: 1, sourceHandshakeBurst: 2 });
  const c = w.add('c', '10.0.0.3');
  w.mesh();
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  const init = w.queue.splice(0)[0]!.bytes;
  for (let i = 0; i < 6; i++) b.plane.receive(a.vtep, copy(init, 0, 152), 152);
  const st = b.plane.stats();
  is(st.initiationsReceived, 1);
  is(st.drops.replay, 1, 'the second copy: within the burst, refused by its timestamp');
  is(st.drops['cookie-required'], 4, 'then cookies');
  // a takes a cookie from one of those replies and retries with mac2.
  const reply = w.queue.find((m) => m.bytes[0] === 3)!;
  w.queue = [];
  a.plane.receive(b.vtep, reply.bytes, reply.bytes.length);
  is(a.plane.stats().cookieRepliesReceived, 1);
  w.run(5_400, 10000); // the retry, one step: its response comes back at the end
  const retry = w.sent(1, a.vtep).at(-1)!.bytes;
  ok(macOf(retry, 136) !== ZERO);
  equal(b.seqs(), [1], 'the retry got through (one token had come back)');
  const replays = b.plane.stats().drops.replay;
  for (let i = 0; i < 8; i++) b.plane.receive(a.vtep, copy(retry, 0, 152), 152);
  // Copies of the retry: one token of the plain bucket, then the 2 of the proven bucket (all refused by their timestamp), then limited.
  is(b.plane.stats().drops.replay - replays, 3);
  is(b.plane.stats().drops['rate-limited'], 5, 'with mac2 but over the rate');
  c.plane.send(VNI, b.vtep, datagram(VNI, 7), 64);
  w.pump();
  equal(b.seqs(VNI, c.vtep), [7], 'another source is not limited');
  ok(balanced(b.plane.stats()));
  w.close();
});

t('cookie replies that do not belong: unknown index, wrong source, tampered, a second reply to the same message', () => {
  const w = new Wire();
  const a = w.add('a', '10.0.0.1');
  const b = w.add('b', '10.0.0.2', { handshakesPerSecond: 0 });
  const c = w.add('c', '10.0.0.3');
  w.mesh();
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  const init = w.queue.splice(0)[0]!.bytes;
  b.plane.receive(a.vtep, init, init.length);
  b.plane.receive(a.vtep, init, init.length);
  const [r1, r2] = w.queue.splice(0).map((m) => m.bytes) as [Uint8Array, Uint8Array];
  const bad = copy(r1, 0, 52);
  bad[40]! ^= 1;
  a.plane.receive(b.vtep, bad, 52);
  is(a.plane.stats().drops.auth, 1);
  a.plane.receive(c.vtep, r1, 52);
  is(a.plane.stats().drops['wrong-source'], 1);
  const other = copy(r1, 0, 52);
  other[7]! ^= 1;
  a.plane.receive(b.vtep, other, 52);
  is(a.plane.stats().drops['unknown-index'], 1);
  a.plane.receive(b.vtep, r1, 52);
  is(a.plane.stats().cookieRepliesReceived, 1);
  a.plane.receive(b.vtep, r2, 52);
  is(a.plane.stats().drops['unknown-index'], 2, 'one cookie reply per message sent');
  ok(balanced(a.plane.stats()));
  w.close();
});

t.run();
