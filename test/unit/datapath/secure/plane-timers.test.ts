// The session timers and limits (WireGuard paper §6; DESIGN §4;
// REFERENCE "WireGuard"): rekey at 120 s without a lost datagram, reject at
// 180 s when no rekey is possible, message-count limits, passive keepalive,
// retry with jitter and give-up, key erasure, crossing handshakes.
import { suite, equal, is, ok } from '../../../harness.js';
import { ManualClock, realClock } from '../../../../shared/clock.js';
import { generateKeypair } from '../../../../shared/crypto/noise-dh.js';
import { SecurePlane } from '../../../../agent/datapath/secure/secure-plane.js';
import { Wire, VNI, pair, balanced, dataKey, datagram, seededRand, type Node } from './fixture.js';

const t = suite('secure plane timers');

/** Each of senders sends its peer one datagram every everyMs for durationMs (seq = 0, 1, ...); the wire moves in 10 ms steps. */
function stream(w: Wire, senders: [Node, Node][], everyMs: number, durationMs: number, from = 0): number {
  let seq = from;
  for (let at = 0; at < durationMs; at += everyMs, seq++) {
    for (const [s, d] of senders) s.plane.send(VNI, d.vtep, datagram(VNI, seq), 64);
    w.run(everyMs, 10);
  }
  return seq;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

t('rekey at 120 s: the initiator moves to new keys while both keep sending, and no datagram is lost', () => {
  const { w, a, b } = pair();
  a.plane.send(VNI, b.vtep, datagram(VNI, 0), 64); // a is the initiator
  w.pump();
  const n = stream(w, [[a, b], [b, a]], 100, 400_000, 1);
  equal(b.seqs(), range(0, n));
  equal(a.seqs(), range(1, n));
  const sa = a.plane.stats();
  is(sa.initiationsSent, 4, 'at 0, 120, 240 and 360 s: a stays the initiator');
  is(b.plane.stats().initiationsSent, 0);
  is(sa.handshakesCompleted, 4);
  is(a.plane.status(VNI)[0]!.handshakes, 4);
  is(sa.drops.replay + sa.drops.expired + sa.drops['unknown-index'] + sa.drops.auth, 0);
  is(a.plane.stats().keepalivesSent, 3, 'one per rekey: the initiator confirms new keys at once');
  is(b.plane.stats().keepalivesSent, 0, 'data both ways: no passive keepalive needed');
  ok(balanced(sa) && balanced(b.plane.stats()));
  w.close();
});

t('a responder-only flow is rekeyed by the initiator on receive (before 180 s) and loses nothing', () => {
  const { w, a, b } = pair();
  a.plane.send(VNI, b.vtep, datagram(VNI, 0), 64);
  w.pump();
  const n = stream(w, [[b, a]], 100, 400_000, 1);
  equal(a.seqs(), range(1, n));
  ok(a.plane.stats().initiationsSent >= 3, 'the initiator rekeys at 165 s of age on receive');
  is(b.plane.stats().drops['no-key'] + b.plane.stats().drops['queue-full'], 0);
  ok(a.plane.stats().keepalivesSent > 0, 'the initiator keeps the flow confirmed');
  w.close();
});

t('reject at 180 s when no rekey is possible: queued, then given up at 90 s of retries; an old message is expired', () => {
  const { w, a, b } = pair();
  stream(w, [[a, b]], 1000, 100_000);
  const old = w.log.filter((m) => m.bytes[0] === 4 && m.from === a.vtep).at(-1)!;
  w.filter = () => 'drop'; // the underlay goes away at 100 s
  let seq = stream(w, [[a, b]], 1000, 79_000, 100); // up to 179 s: sealed (and lost)
  is(a.plane.stats().queued, 0);
  equal(a.plane.status(VNI)[0]!.state, 'up');
  ok(a.plane.stats().initiationsSent > 1, 'a new handshake started at 115 s (nothing heard for 15 s)');
  seq = stream(w, [[a, b]], 1000, 10_000, seq); // 179..189 s: the keypair is 180 s old
  is(a.plane.status(VNI)[0]!.state, 'handshaking');
  ok(a.plane.stats().queued >= 9);
  b.plane.receive(old.from, old.bytes, old.bytes.length);
  is(b.plane.stats().drops.expired, 1, 'under a keypair past 180 s');
  w.run(30_000, 100); // nothing more to send, up to 219 s: the handshake began at 115 s, so it gave up at 205 s
  const st = a.plane.status(VNI)[0]!;
  is(st.state, 'failed');
  ok(/no handshake response from 10.0.0.2 in 9\d s \(1[89] initiations\)/.test(st.reason), st.reason);
  ok(a.plane.stats().drops['gave-up'] > 0 && a.plane.stats().drops['queue-full'] === 0);
  ok(a.statuses.some((s) => s.s.state === 'failed'));
  // The underlay comes back: the next datagram starts afresh.
  w.filter = () => 'pass';
  a.plane.send(VNI, b.vtep, datagram(VNI, 1000), 64);
  w.run(1000, 10);
  equal(b.seqs().at(-1), 1000);
  equal(a.plane.status(VNI)[0]!.state, 'up');
  ok(balanced(a.plane.stats()) && balanced(b.plane.stats()));
  w.close();
});

t('message limits: rekey after N sealed (either side), never past the reject limit', () => {
  const { w, a, b } = pair({ rekeyAfterMessages: 50, rejectAfterMessages: 100 });
  a.plane.send(VNI, b.vtep, datagram(VNI, 0), 64);
  w.pump();
  b.plane.send(VNI, a.vtep, datagram(VNI, 0), 64);
  w.pump();
  for (let i = 1; i <= 500; i++) {
    a.plane.send(VNI, b.vtep, datagram(VNI, i), 64);
    b.plane.send(VNI, a.vtep, datagram(VNI, i), 64);
    w.pump();
  }
  equal(b.seqs(), range(0, 501));
  equal(a.seqs(), range(0, 501));
  ok(a.plane.stats().initiationsSent >= 10, `a rekeyed by count (${a.plane.stats().initiationsSent})`);
  ok(b.plane.stats().initiationsSent >= 1, 'so did the responder');
  // Cut off: 100 sealed under the last keypair at most, the rest queued.
  w.filter = () => 'drop';
  for (let i = 0; i < 150; i++) a.plane.send(VNI, b.vtep, datagram(VNI, 1000 + i), 64);
  w.pump();
  ok(a.plane.stats().queued > 0, 'past the reject limit: queued');
  is(a.plane.status(VNI)[0]!.state, 'handshaking');
  w.close();
});

t('passive keepalive: 10 s after data arrived with nothing sent back; it also stops the peer from re-handshaking', () => {
  const { w, a, b } = pair();
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  w.run(9_999, 10);
  is(b.plane.stats().keepalivesSent, 0);
  w.run(20, 10);
  is(b.plane.stats().keepalivesSent, 1);
  is(a.plane.stats().keepalivesReceived, 1);
  w.run(30_000, 100);
  is(a.plane.stats().initiationsSent, 1, 'no new handshake at 15 s: the keepalive was heard');
  is(b.plane.stats().keepalivesSent, 1, 'one keepalive per datagram received');
  // A reply within 10 s needs no keepalive.
  a.plane.send(VNI, b.vtep, datagram(VNI, 2), 64);
  w.run(5_000, 100);
  b.plane.send(VNI, a.vtep, datagram(VNI, 3), 64);
  w.run(20_000, 100);
  is(b.plane.stats().keepalivesSent, 1);
  is(a.plane.stats().keepalivesSent, 1, 'a answered b at 10 s after it');
  equal(b.seqs(), [1, 2]);
  w.close();
});

t('handshake retry every 5 s plus up to 333 ms of jitter, give-up after 90 s; no more initiations until the next datagram', () => {
  const { w, a, b } = pair();
  w.filter = (m) => (m.to === b.vtep ? 'drop' : 'pass');
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  const times: number[] = [];
  const seen = w.log.length;
  for (let i = 0; i < 100_000; i += 10) {
    const before = w.log.length + w.queue.length;
    w.run(10, 10);
    if (w.log.length + w.queue.length > before) times.push(w.clock.nowMs());
  }
  const inits = w.log.slice(seen).filter((m) => m.bytes[0] === 1);
  is(inits.length, a.plane.stats().initiationsSent);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  ok(gaps.every((g) => g >= 5_000 && g <= 5_340), `gaps ${gaps.join(',')}`);
  ok(new Set(gaps).size > 3, 'jittered');
  const idx = new Set(inits.map((m) => m.bytes.subarray(4, 8).join('.')));
  is(idx.size, inits.length, 'each attempt a new sender index (and a new ephemeral)');
  is(a.plane.status(VNI)[0]!.state, 'failed');
  is(a.plane.stats().drops['gave-up'], 1);
  const n = a.plane.stats().initiationsSent;
  ok(n === 18 || n === 19, `${n} attempts`);
  w.run(600_000, 1000);
  is(a.plane.stats().initiationsSent, n, 'given up: quiet');
  is(w.clock.pending(), 0, 'and no timer left after the keys are wiped');
  w.filter = () => 'pass';
  a.plane.send(VNI, b.vtep, datagram(VNI, 2), 64);
  w.run(100, 10);
  equal(b.seqs(), [2]);
  w.close();
});

t('keys are erased 540 s after the last handshake: old messages then meet no index; the status says idle', () => {
  const { w, a, b } = pair();
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  const first = w.queue[0]!;
  w.run(100, 10);
  const data = w.log.find((m) => m.bytes[0] === 4)!;
  w.run(300_000, 1000);
  b.plane.receive(data.from, data.bytes, data.bytes.length);
  is(b.plane.stats().drops.expired, 1);
  w.run(250_000, 1000);
  b.plane.receive(data.from, data.bytes, data.bytes.length);
  is(b.plane.stats().drops['unknown-index'], 1, 'erased');
  b.plane.receive(first.from, first.bytes, first.bytes.length);
  is(b.plane.stats().drops.replay, 1, 'an old initiation: its timestamp is not newer');
  const st = a.plane.status(VNI)[0]!;
  is(st.state, 'up');
  ok(st.reason.startsWith('idle'));
  is(w.clock.pending(), 0);
  w.close();
});

t('crossing handshakes (both send first at once) converge and lose nothing', () => {
  const { w, a, b } = pair();
  a.plane.send(VNI, b.vtep, datagram(VNI, 1), 64);
  b.plane.send(VNI, a.vtep, datagram(VNI, 1), 64);
  w.pump();
  equal(a.seqs(), [1]);
  equal(b.seqs(), [1]);
  const n = stream(w, [[a, b], [b, a]], 100, 10_000, 2);
  equal(a.seqs(), range(1, n));
  equal(b.seqs(), range(1, n));
  is(a.plane.status(VNI)[0]!.state, 'up');
  is(b.plane.status(VNI)[0]!.state, 'up');
  w.close();
});

t('a throwing output never escapes a timer: send errors are counted, a throwing onStatus is ignored', () => {
  const clock = new ManualClock();
  const r = seededRand(3);
  const peer = generateKeypair(r);
  const p = new SecurePlane({
    staticKey: generateKeypair(r), clock, rand: r,
    out: { send: () => { throw new Error('socket closed'); }, deliver: () => {}, onStatus: () => { throw new Error('logger down'); } },
  });
  p.setPeers([{ nodeId: 'b', publicKey: peer.publicKey, vtep: '10.0.0.2' }]);
  p.setNetworkKeys(VNI, [{ generation: 1, key: dataKey(1) }]);
  p.send(VNI, '10.0.0.2', datagram(VNI, 1), 64);
  clock.advance(30_000); // retries from the timer
  ok(p.stats().sendErrors >= 6);
  is(p.stats().initiationsSent, p.stats().sendErrors);
  p.close();
  is(clock.pending(), 0);
});

t('on the real clock, close() leaves no timer behind (the harness fails a test that leaks one)', () => {
  const r = seededRand(4);
  const peer = generateKeypair(r);
  const p = new SecurePlane({ staticKey: generateKeypair(r), clock: realClock(), rand: r, out: { send: () => {}, deliver: () => {} } });
  p.setPeers([{ nodeId: 'b', publicKey: peer.publicKey, vtep: '10.0.0.2' }]);
  p.setNetworkKeys(VNI, [{ generation: 1, key: dataKey(1) }]);
  p.send(VNI, '10.0.0.2', datagram(VNI, 1), 64); // arms a 5 s retry timer
  ok(process.getActiveResourcesInfo().includes('Timeout'));
  p.close();
});

t.run();
